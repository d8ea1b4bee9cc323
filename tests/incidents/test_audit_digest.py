"""The audit chain anchored outside the database: a signed digest in a file (and mailed to leaders), and
``audit verify`` that reports a chain rewritten with recomputed hashes as tampered."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner
from sqlalchemy import select, text

from opinion_desk import jobs
from opinion_desk.cli import main as cli
from opinion_desk.config import load_config
from opinion_desk.incidents import audit, audit_digest
from opinion_desk.state import StateDB
from opinion_desk.state.alerts import OutboxRow
from opinion_desk.state.incidents import AuditEntry
from tests.alerting.conftest import smtp_server  # noqa: F401  (a real SMTP server on loopback)


def _setup(tmp_path, recipients=()):
    var = tmp_path / "var"
    var.mkdir(parents=True)
    toml = tmp_path / "desk.toml"
    toml.write_text(f'[desk]\ndata_dir = "{var}"\n[audit]\ndigest_recipients = {json.dumps(list(recipients))}\n',
                    encoding="utf-8")
    cfg = load_config(toml, env={})
    db = StateDB(cfg.state_url())
    db.create_all()
    return toml, cfg, db


def _verify(toml):
    return CliRunner().invoke(cli, ["--config", str(toml), "audit", "verify"])


def _rewrite_chain(db, seq: int, payload: dict) -> None:
    """What someone with write access to the database does: change one entry and recompute every hash after it."""
    with db.session_scope() as s:
        rows = list(s.scalars(select(AuditEntry).order_by(AuditEntry.seq)))
        prev = audit.GENESIS
        for e in rows:
            if e.seq == seq:
                e.payload = payload
            e.prev_hash = prev
            e.hash = audit.entry_hash(prev, e.seq, e.at, e.actor, e.action, e.incident_id, e.payload)
            prev = e.hash


def test_rewritten_chain_verifies_alone_but_not_against_the_digest(tmp_path):
    toml, cfg, db = _setup(tmp_path)
    for i in range(4):
        audit.record(db, "wang", "silence_add", {"rule": f"规则{i}"})
    rec = audit_digest.write_digest(cfg, db)
    assert rec["seq"] == 4 and len(rec["sig"]) == 64
    line = json.loads(cfg.data_path("audit-digests.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert line == rec
    assert (cfg.data_path("audit.key").stat().st_mode & 0o777) == 0o600
    r = _verify(toml)
    assert r.exit_code == 0, r.output
    assert "4 条记录" in r.output and "1 份摘要" in r.output

    _rewrite_chain(db, 2, {"rule": "改过的规则"})
    with db.session_scope() as s:
        assert audit.verify_chain(s).ok  # the chain alone cannot tell
    r = _verify(toml)
    assert r.exit_code == 1
    assert "第 4 条记录的哈希与当日摘要不符" in r.output and "tampered" in r.output


def test_cut_chain_and_forged_digest_are_found(tmp_path):
    toml, cfg, db = _setup(tmp_path)
    for i in range(3):
        audit.record(db, "li", "login", {"i": i})
    audit_digest.write_digest(cfg, db)
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq = 3"))
    r = _verify(toml)
    assert r.exit_code == 1 and "第 3 条记录已不存在" in r.output

    toml2, cfg2, db2 = _setup(tmp_path / "b")
    audit.record(db2, "li", "login", {})
    audit_digest.write_digest(cfg2, db2)
    path = cfg2.data_path("audit-digests.jsonl")
    rec = json.loads(path.read_text(encoding="utf-8"))
    rec["hash"] = "0" * 64  # a forger without the key
    path.write_text(json.dumps(rec) + "\n", encoding="utf-8")
    r = _verify(toml2)
    assert r.exit_code == 1 and "签名不符" in r.output


def test_digest_is_daily_and_mailed_to_leaders(tmp_path):
    toml, cfg, db = _setup(tmp_path, ["zhuren@example.gov.cn"])
    audit.record(db, "wang", "login", {})
    assert audit_digest.due(cfg)
    assert audit_digest.run_if_due(cfg, db) is not None
    assert audit_digest.run_if_due(cfg, db) is None  # once a day (Beijing)
    tomorrow = datetime.now(timezone.utc) + timedelta(days=1)
    assert audit_digest.due(cfg, tomorrow)
    with db.session_scope() as s:
        rows = list(s.scalars(select(OutboxRow)))
    assert [r.channel for r in rows] == [audit_digest.CHANNEL]
    assert rows[0].payload["digest"]["seq"] == 1 and "审计摘要" in rows[0].payload["subject"]


def test_digest_mail_goes_out_through_the_email_channel(tmp_path, smtp_server):
    from opinion_desk.alerting.channels import build_channels

    host, port, box = smtp_server
    toml, cfg, db = _setup(tmp_path, ["zhuren@example.gov.cn"])
    audit.record(db, "wang", "login", {})
    rec = audit_digest.write_digest(cfg, db)
    with db.session_scope() as s:
        payload = s.scalars(select(OutboxRow)).one().payload
    ch, problems = build_channels({audit_digest.CHANNEL: {"type": "email", "to": ["zhuren@example.gov.cn"]}},
                                  {"smtp_host": host, "smtp_port": port})
    assert not problems
    ch[audit_digest.CHANNEL].send(payload)
    msg = box.messages[0]["msg"]
    assert msg["Subject"].startswith("【审计摘要】") and box.messages[0]["to"] == ["zhuren@example.gov.cn"]
    body = msg.get_body(("plain",)).get_content()
    assert rec["hash"] in body and rec["sig"] in body and "audit verify" in body


def test_cli_digest_and_log(tmp_path):
    toml, cfg, db = _setup(tmp_path)
    audit.record(db, "wang", "silence_add", {"rule": "*"})
    r = CliRunner().invoke(cli, ["--config", str(toml), "audit", "digest", "--no-mail"])
    assert r.exit_code == 0 and "第 1 条" in r.output
    r = CliRunner().invoke(cli, ["--config", str(toml), "audit", "log", "--action", "silence_add"])
    assert r.exit_code == 0 and json.loads(r.output.splitlines()[0])["action"] == "silence_add"
    for sub in ("verify", "digest", "log"):
        assert CliRunner().invoke(cli, ["audit", sub, "--help"]).exit_code == 0


def test_the_running_desk_mails_the_digest_to_the_leaders(app_config, analyzer, smtp_server):
    """The desk's own outbox has the digest channel when [audit] digest_recipients is set, and delivers it."""
    from opinion_desk import create_app, stop_background
    from opinion_desk.incidents import audit_service

    host, port, box = smtp_server
    app_config["alerting"] = {"smtp_host": host, "smtp_port": port}
    app_config["audit"] = {"digest_recipients": ["zhuren@example.gov.cn", "fuzhuren@example.gov.cn"]}
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    try:
        outbox = app.desk.outbox
        assert audit_digest.CHANNEL in outbox.channels
        jobs.audit_jobs(app.desk)  # desk_start entry, then today's digest (none yet)
        outbox.deliver_due(wait=True)  # (the outbox's own worker may be the one that sends it)
        assert box.event.wait(15)
        [mail] = box.messages
        assert sorted(mail["to"]) == ["fuzhuren@example.gov.cn", "zhuren@example.gov.cn"]
        cfg = app.config["DESK"]
        rec = json.loads(cfg.data_path("audit-digests.jsonl").read_text(encoding="utf-8"))
        assert rec["hash"] in mail["msg"].get_body(("plain",)).get_content()
        with app.desk.state.session_scope() as s:
            assert audit_digest.verify(cfg, s).ok
    finally:
        stop_background(app)


def test_a_damaged_key_file_is_a_clean_error(tmp_path):
    toml, cfg, db = _setup(tmp_path)
    audit.record(db, "wang", "login", {})
    cfg.data_path("audit.key").write_text("not hex at all\n", encoding="utf-8")
    r = CliRunner().invoke(cli, ["--config", str(toml), "audit", "digest"])
    assert r.exit_code == 1 and "key_file" in r.output and "Traceback" not in r.output
