"""Every TOML the documentation shows parses, and is a valid desk configuration: the ```toml blocks of README.md,
rules/README.md and sources/README.md, and opinion-desk.example.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from opinion_desk.config import load_config

REPO = Path(__file__).resolve().parent.parent
DOCS = ["README.md", "rules/README.md", "sources/README.md"]
BLOCK = re.compile(r"^```toml[^\n]*\n(.*?)^```", re.M | re.S)


def blocks() -> list[tuple[str, int, str]]:
    out = []
    for name in DOCS:
        path = REPO / name
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8")
        for m in BLOCK.finditer(text):
            out.append((name, text.count("\n", 0, m.start()) + 1, m.group(1)))
    return out


def test_the_docs_show_toml():
    assert len(blocks()) >= 2  # README's configuration example and rules/README's channels


@pytest.mark.parametrize("name,line,block", blocks(), ids=lambda v: str(v)[:30])
def test_documented_toml_parses_and_is_a_valid_config(tmp_path, name, line, block):
    try:
        tomllib.loads(block)
    except tomllib.TOMLDecodeError as e:
        pytest.fail(f"{name}:{line}: the ```toml block is not valid TOML: {e}")
    f = tmp_path / "doc.toml"
    f.write_text(block, encoding="utf-8")
    load_config(f, env={})  # unknown keys, wrong types and bad values raise, naming the field


def test_example_file_parses():
    text = (REPO / "opinion-desk.example.toml").read_text(encoding="utf-8")
    tomllib.loads(text)
    load_config(REPO / "opinion-desk.example.toml", env={})


def test_non_ascii_bare_keys_are_refused_so_the_docs_quote_them():
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads("[alerting.channels.值班群]\ntype = \"wecom\"\n")
    data = tomllib.loads('[alerting.channels."值班群"]\ntype = "wecom"\n')
    assert data["alerting"]["channels"]["值班群"]["type"] == "wecom"
