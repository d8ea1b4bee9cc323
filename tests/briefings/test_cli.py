"""``opinion-desk briefing make|list`` on the desk's own data directory (the seeded day)."""

from __future__ import annotations

from docx import Document
from click.testing import CliRunner

from opinion_desk.cli import main


def _config(app, tmp_path, smtp=None) -> str:
    cfg = app.config["DESK"]
    lines = ["[desk]", f'data_dir = "{cfg["desk"]["data_dir"]}"', "[briefings]",
             'recipients = ["lizr"]', 'issuer = "青山县委宣传部网络舆情中心"']
    if smtp:
        lines += ["[alerting]", f'smtp_host = "{smtp[0]}"', f"smtp_port = {smtp[1]}"]
    p = tmp_path / "desk.toml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return str(p)


def test_help_names_every_choice():
    r = CliRunner().invoke(main, ["briefing", "make", "--help"])
    assert r.exit_code == 0
    for opt in ("--day DATE", "--week [DATE]", "--from TIME", "--to TIME", "-o, --output FILE", "--mail"):
        assert opt in r.output, opt
    assert CliRunner().invoke(main, ["briefing", "--help"]).exit_code == 0


def test_make_a_day_and_a_week_and_list_them(app, seeded, tmp_path):
    conf = _config(app, tmp_path)
    out = tmp_path / "日报.docx"
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "make", "--day", "2026-11-24", "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert "简报 #1 已生成" in r.output and "信息 128 条" in r.output and "发布回应 4 条" in r.output
    assert "正在生成 舆情日报（2026年11月24日）（2026-11-24 00:00 至 2026-11-25 00:00（北京时间））" in r.output
    assert "共监测到相关信息 128 条" in "\n".join(p.text for p in Document(str(out)).paragraphs)
    page = tmp_path / "week.html"
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "make", "--week", "2026-11-26", "-o", str(page)])
    assert r.exit_code == 0, r.output
    assert "舆情周报" in page.read_text(encoding="utf-8") and "共监测到相关信息 131 条" in page.read_text(encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "list"])
    assert r.exit_code == 0
    assert r.output.index("舆情周报（2026年11月23日至11月29日）") < r.output.index("舆情日报（2026年11月24日）")


def test_make_and_mail(app, seeded, tmp_path, smtp_server):
    conf = _config(app, tmp_path, smtp_server)
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "make", "--from", "2026-11-24 14:00", "--to",
                                  "2026-11-24 18:00", "--mail"])
    assert r.exit_code == 0, r.output
    assert "邮件已发送：li@qingshan.gov.cn" in r.output
    msg = smtp_server[2].messages[0]["msg"]
    assert msg["Subject"] == "舆情简报（2026年11月24日 14:00至2026年11月24日 18:00）"


def test_bad_choices_are_refused_in_chinese(app, tmp_path):
    conf = _config(app, tmp_path)
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "make", "--from", "2026-11-24", "--to", "2026-11-20"])
    assert r.exit_code == 1 and "to：结束时间 2026-11-20 应晚于开始时间 2026-11-24" in r.output
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "make", "--day", "2026-11-24", "--week"])
    assert r.exit_code == 2 and "只能选一种" in r.output
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "make", "--from", "2026-11-24"])
    assert r.exit_code == 2 and "--from 与 --to 需同时给出" in r.output
    r = CliRunner().invoke(main, ["--config", conf, "briefing", "make", "--day", "24/11/2026"])
    assert r.exit_code == 1 and "day：时间格式不对" in r.output
