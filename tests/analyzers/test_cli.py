from __future__ import annotations

import json

from click.testing import CliRunner

from opinion_desk.cli import main


def test_analyze_cli_reports_bad_lines_and_keeps_good_ones(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": "a", "text": "网传暴雨紧急扩散"}\nnot json\n[1, 2]\n\n{"id": "b", "text": "感谢消防员[赞]"}\n',
                   encoding="utf-8")
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(main, ["analyze", str(src), "-o", str(out), "--workers", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    assert ":2: 已跳过：不是有效的 JSON" in r.stderr and ":3: 已跳过：应为 JSON 对象" in r.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in rows] == ["a", "b"]
    for k in ("tokens", "keywords", "sentiment", "sentiment_label", "simhash", "topic_id", "rumour_score", "rumour_cues"):
        assert k in rows[0]
    assert "网传" in rows[0]["rumour_cues"]


def test_analyze_cli_odd_lines(tmp_path):
    """A BOM on line 1, deep nesting, lone surrogates, a text that is not a string: each line named, none a crash."""
    src = tmp_path / "odd.jsonl"
    lines = [b"\xef\xbb\xbf" + '{"id": "a", "text": "青山县暴雨"}'.encode(), b"[" * 100_000, b'{"id": "s", "text": "x\\ud800"}',
             b'{"id": "t", "text": 123}', b"\xff\xfe", b'{"id": "n", "text": "ok", "v": NaN}']
    src.write_bytes(b"\n".join(lines) + b"\n")
    out = tmp_path / "out.jsonl"
    r = CliRunner().invoke(main, ["analyze", str(src), "-o", str(out), "--workers", "1", "--no-progress"])
    assert r.exit_code == 0 and r.exception is None, r.output
    assert ":2: 已跳过：嵌套过深" in r.stderr
    assert ":3: 已跳过：field 'text': 不是有效的 Unicode" in r.stderr and ":4: 已跳过：field 'text': 应为字符串" in r.stderr
    assert ":5: 已跳过：不是有效的 JSON" in r.stderr and ":1:" not in r.stderr
    assert [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()] == ["a", "n"]


def test_analyze_cli_stdin_stdout():
    r = CliRunner().invoke(main, ["analyze", "-", "--workers", "1", "--no-progress"],
                           input='{"id": "x", "text": "#河南暴雨# 地铁停运"}\n')
    assert r.exit_code == 0, r.output
    row = json.loads(r.stdout.strip().splitlines()[0])
    assert row["id"] == "x" and "暴雨" in row["tokens"]


def test_help_of_every_command():
    for args in (["analyze", "--help"], ["train", "--help"], ["train", "sentiment", "--help"],
                 ["train", "rumour", "--help"], ["train", "idf", "--help"], ["eval", "--help"]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 0 and "Usage" in r.output


def test_eval_topics_scores_clustering_against_cascades(tmp_path):
    """Two cascades written here in the event-stream format: reposts with the root's text group with their root."""
    from analyzers.evaluate import eval_topics

    roots = {"e1": "郑州地铁五号线暴雨积水乘客被困，消防救援正在进行", "e2": "某县中学食堂饭菜发霉，家长要求教育局调查"}
    comments = ["转发微博", "", "太可怕了", "求平安", "关注"]
    lines = []
    for k, (eid, root) in enumerate(roots.items()):
        posts = [{"t": "", "ts": 1000 * k, "text": root, "mid": f"{eid}r", "parent": None, "is_root": True}]
        posts += [{"t": "", "ts": 1000 * k + i + 1, "text": c, "mid": f"{eid}{i}", "parent": f"{eid}r",
                   "is_root": False} for i, c in enumerate(comments)]
        lines.append(json.dumps({"event_id": eid, "label": "non_rumour", "source": "test", "posts": posts},
                                ensure_ascii=False))
    (tmp_path / "event_streams_dev.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = []
    res = eval_topics(tmp_path, log=out.append)
    assert res["with root"]["topics"] == 2 and res["with root"]["purity"] == res["with root"]["nmi"] == 1.0
    assert res["own words"]["topics"] > 2 and "NMI" in out[-1]


def test_analyze_cli_groups_reposts_into_their_originals_event(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(json.dumps(d, ensure_ascii=False) for d in [
        {"id": "a", "mid": "M1", "text": "紧急扩散！青山水库今晚泄洪，下游赶紧转移"},
        {"id": "b", "mid": "M2", "repost_of": "M1", "text": "转发微博"},
        {"id": "c", "mid": "M3", "text": "今天的晚霞真好看[哈哈]"},
    ]) + "\n", encoding="utf-8")
    r = CliRunner().invoke(main, ["analyze", str(src), "--workers", "1", "--no-progress"])
    assert r.exit_code == 0, r.output
    out = {d["id"]: d for d in map(json.loads, [ln for ln in r.stdout.splitlines() if ln.startswith("{")])}
    assert out["a"]["event_id"] == out["b"]["event_id"] != out["c"]["event_id"]
    assert "rumour_reasons" in out["a"] and "complaint_score" in out["a"]
