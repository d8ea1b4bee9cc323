"""Every security-relevant action reaches the hash-chained audit log: silences (web and CLI), users and tokens
(CLI), the configuration at start (secrets redacted), rule and source file changes (at start and on each look)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import select

from opinion_desk import jobs
from opinion_desk.cli import main as cli
from opinion_desk.incidents import audit, audit_service
from opinion_desk.state.incidents import AuditEntry


def _entries(app, action=None) -> list[AuditEntry]:
    with app.desk.state.session_scope() as s:
        q = select(AuditEntry).order_by(AuditEntry.seq)
        if action:
            q = q.where(AuditEntry.action == action)
        return list(s.scalars(q))


def _toml(app, tmp_path):
    f = tmp_path / "desk.toml"
    f.write_text(f'[desk]\ndata_dir = "{app.config["DESK"]["desk"]["data_dir"]}"\n', encoding="utf-8")
    return str(f)


def test_web_silences_are_audited(app, login_as):
    c = login_as("duty")
    r = c.post("/api/v1/silences", json={"rule": "重点关注词", "duration": "2h", "reason": "误报"})
    assert r.status_code == 201
    sid = r.get_json()["silence"]["id"]
    assert c.delete(f"/api/v1/silences/{sid}").status_code == 200
    added, removed = _entries(app, "silence_add"), _entries(app, "silence_remove")
    assert added[0].actor == "test-duty" and added[0].payload["silence"]["rule"] == "重点关注词"
    assert removed[0].payload["silence"]["id"] == sid
    with app.desk.state.session_scope() as s:
        assert audit.verify_chain(s).ok


def test_cli_users_tokens_and_silences_are_audited(app, tmp_path):
    toml = _toml(app, tmp_path)
    run = lambda *a: CliRunner().invoke(cli, ["--config", toml, *a])  # noqa: E731
    assert run("users", "add", "zhao", "--role", "analyst", "--password", "pass-word-1").exit_code == 0
    assert run("users", "passwd", "zhao", "--password", "pass-word-2").exit_code == 0
    r = run("users", "token", "crawler", "--scope", "ingest")
    assert r.exit_code == 0
    token = r.stdout.strip().splitlines()[0]
    assert run("users", "token", "crawler", "--revoke").exit_code == 0
    assert run("silence", "add", "*", "--for", "1h", "--reason", "演练").exit_code == 0
    assert run("silence", "remove", "1").exit_code == 0
    actions = [e.action for e in _entries(app)]
    for a in ("user_add", "user_passwd", "token_add", "token_revoke", "silence_add", "silence_remove"):
        assert a in actions, a
    dump = json.dumps([e.to_dict() for e in _entries(app)], ensure_ascii=False)
    assert token not in dump and "pass-word" not in dump  # the audit log never holds a secret
    assert all(e.actor.startswith("cli:") for e in _entries(app))


def test_start_records_redacted_config_and_rule_file_changes(app_config, analyzer, tmp_path):
    from opinion_desk import create_app, stop_background

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("name: a\n", encoding="utf-8")
    app_config["incidents.wechat"] = {"secret": "wechat-app-secret-123"}
    app_config["alerting"] = {"smtp_password": "smtp-pass-456",
                              "channels": {"值班群": {"type": "wecom",
                                                   "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=K-789"}}}
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    try:
        jobs.audit_jobs(app.desk)
        start = _entries(app, "desk_start")[-1]
        text = json.dumps(start.payload, ensure_ascii=False)
        for secret in ("wechat-app-secret-123", "smtp-pass-456", "K-789", "test-ingest-token"):
            assert secret not in text
        assert start.payload["config"]["alerting"]["smtp_password"] == "***"
        first = _entries(app, "rules_changed")[-1].payload
        assert first["added"] == ["a.yaml"] and "sha256" in first["files"]["a.yaml"]

        watch = audit_service.FileWatch(app.desk.state, "rules", rules)
        assert watch.check() is None  # nothing changed since the last entry (also across a restart)
        (rules / "a.yaml").write_text("name: a2\n", encoding="utf-8")
        (rules / "b.yml").write_text("name: b\n", encoding="utf-8")
        change = watch.check()
        assert change["changed"] == ["a.yaml"] and change["added"] == ["b.yml"] and change["removed"] == []
        (rules / "b.yml").unlink()
        assert watch.check()["removed"] == ["b.yml"]
        assert _entries(app, "sources_changed") == []  # no sources folder, nothing to list
    finally:
        stop_background(app)


def test_a_lone_surrogate_is_refused_by_name_and_still_hashes(app, login_as):
    c = login_as("duty")
    r = c.post("/api/v1/silences", data='{"rule": "\\ud800规则", "duration": "1h"}',
               headers={"Content-Type": "application/json"})
    assert r.status_code == 400 and r.get_json()["field"] == "rule"
    db = app.desk.state
    audit.record(db, "wang", "login_failed", {"username": "\ud800x"})  # e.g. a name from a JSON body
    with db.session_scope() as s:
        assert audit.verify_chain(s).ok
