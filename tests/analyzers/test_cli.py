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
    assert ":2: skipped: not valid JSON" in r.stderr and ":3: skipped: expected a JSON object" in r.stderr
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [x["id"] for x in rows] == ["a", "b"]
    for k in ("tokens", "keywords", "sentiment", "sentiment_label", "simhash", "topic_id", "rumour_score", "rumour_cues"):
        assert k in rows[0]
    assert "网传" in rows[0]["rumour_cues"]


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
