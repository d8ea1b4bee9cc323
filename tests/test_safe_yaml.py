"""The bounded YAML loader refuses alias bombs, deep nesting, big files, bad keys and non-finite numbers, in
well under a second, with a Chinese reason naming the file and line."""

from __future__ import annotations

import time

import pytest

from opinion_desk.safe_yaml import Limits, YAMLLimitError, load_file, loads


def alias_bomb() -> str:
    """The classic "billion laughs": nine levels of nine aliases, ~400 bytes, 9**9 nodes once expanded."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, cur in zip("abcdefgh", "bcdefghi"):
        lines.append(f"{cur}: &{cur} [{','.join('*' + prev for _ in range(9))}]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_quickly() -> None:
    text = alias_bomb()
    assert len(text.encode()) < 420
    t = time.process_time()
    with pytest.raises(YAMLLimitError) as e:
        loads(text, "rules/bomb.yaml")
    assert time.process_time() - t < 1.0
    assert str(e.value).startswith("rules/bomb.yaml:") and "别名" in e.value.reason and e.value.line


def test_alias_bomb_under_the_alias_count_still_refused_by_expanded_size() -> None:
    with pytest.raises(YAMLLimitError, match="展开别名后超过"):
        loads(alias_bomb(), "x.yaml", Limits(max_aliases=10_000))


def test_recursive_alias_refused() -> None:
    with pytest.raises(YAMLLimitError, match="递归别名"):
        loads("a: &a [1, *a]\n", "x.yaml")


@pytest.mark.parametrize("text", ["[" * 10_000, "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 200)),
                                  "- " * 5000 + "x\n"])
def test_deep_nesting_refused(text: str) -> None:
    t = time.process_time()
    with pytest.raises(YAMLLimitError) as e:
        loads(text, "deep.yaml")
    assert time.process_time() - t < 1.0
    assert "嵌套" in e.value.reason or "YAML" in e.value.reason


def test_nesting_through_alias_chains_is_counted() -> None:
    nest = lambda inner: "[" * 15 + inner + "]" * 15  # noqa: E731
    text = "a: &a " + nest("1") + "\n" + "".join(f"b{i}: &b{i} {nest('*a' if i == 0 else f'*b{i-1}')}\n"
                                                  for i in range(10))
    with pytest.raises(YAMLLimitError, match="展开别名后嵌套超过"):
        loads(text, "x.yaml")


def test_big_file_refused_without_reading_it_whole(tmp_path) -> None:
    p = tmp_path / "big.yaml"
    p.write_bytes(b"# " + b"x" * (2 * 1024 * 1024) + b"\n")
    with pytest.raises(YAMLLimitError, match="文件过大") as e:
        load_file(p, Limits(max_bytes=64 * 1024))
    assert str(p) in str(e.value)


@pytest.mark.parametrize("text, line, words", [
    ("a: 1\nb: 2\na: 3\n", 3, "出现两次"),
    ("a: 1\n? [1, 2]\n: x\n", 2, "键必须是文字"),
    ("a: 1\n2: x\n", 2, "键必须是文字"),
    ("a: 1\nb: .nan\n", 2, "不是有限数"),
    ("a: 1\nb: [-.inf]\n", 2, "不是有限数"),
    ("a: 1\nb: {c: 1.0e+400}\n", 2, "不是有限数"),
    ("a: 1\nb: !!python/object:os.system x\n", 2, "not valid YAML"),
])
def test_bad_documents_name_the_line(text: str, line: int, words: str) -> None:
    with pytest.raises(YAMLLimitError) as e:
        loads(text, "f.yaml")
    assert e.value.line == line and words in e.value.reason


def test_good_document_gives_data_and_nodes() -> None:
    data, node = loads("base: &b {x: 1}\nitem:\n  <<: *b\n  y: 2\n", "f.yaml")
    assert data == {"base": {"x": 1}, "item": {"x": 1, "y": 2}}
    assert node.start_mark.line == 0
    assert loads("", "f.yaml") == (None, None)


def test_bom_and_non_utf8(tmp_path) -> None:
    (tmp_path / "bom.yaml").write_bytes("\ufeffa: 中文\n".encode())
    assert load_file(tmp_path / "bom.yaml")[0] == {"a": "中文"}
    (tmp_path / "gbk.yaml").write_bytes("a: 中文\n".encode("gbk"))
    with pytest.raises(YAMLLimitError, match="UTF-8"):
        load_file(tmp_path / "gbk.yaml")
