"""The hash-chained audit log: every action is an entry; a changed, removed or re-linked entry is found."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import text

from opinion_desk.cli import main as cli
from opinion_desk.incidents import audit
from opinion_desk.state import StateDB


def _db(tmp_path):
    db = StateDB(f"sqlite:///{tmp_path / 'state.db'}")
    db.create_all()
    return db


def test_chain_verifies_and_names_the_first_broken_entry(tmp_path):
    db = _db(tmp_path)
    with db.session_scope() as s:
        for i in range(5):
            audit.append(s, "wang", "note", 1, {"text": f"第{i}条", "n": i})
    with db.session_scope() as s:
        r = audit.verify_chain(s)
        assert r.ok and r.checked == 5
    with db.engine.begin() as c:  # someone edits entry 3 in the database
        c.execute(text("UPDATE audit_log SET payload = :p WHERE seq = 3"), {"p": '{"text": "改过", "n": 2}'})
    with db.session_scope() as s:
        r = audit.verify_chain(s)
        assert not r.ok and r.broken_seq == 3 and "哈希" in r.reason


def test_removed_entry_is_found(tmp_path):
    db = _db(tmp_path)
    with db.session_scope() as s:
        for i in range(4):
            audit.append(s, "li", "acknowledge", 2, {"i": i})
    with db.engine.begin() as c:
        c.execute(text("DELETE FROM audit_log WHERE seq = 2"))
    with db.session_scope() as s:
        r = audit.verify_chain(s)
        assert not r.ok and r.broken_seq == 2


def test_cli_audit_verify(tmp_path):
    cfg = tmp_path / "desk.toml"
    cfg.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n', encoding="utf-8")
    (tmp_path / "var").mkdir()
    db = StateDB(f"sqlite:///{(tmp_path / 'var' / 'state.db').resolve()}")
    db.create_all()
    with db.session_scope() as s:
        audit.append(s, "wang", "open", 1, {"title": "测试"})
        audit.append(s, "wang", "acknowledge", 1, {})
    r = CliRunner().invoke(cli, ["--config", str(cfg), "audit", "verify"])
    assert r.exit_code == 0 and "2 条记录" in r.output
    with db.engine.begin() as c:
        c.execute(text("UPDATE audit_log SET actor = 'li' WHERE seq = 1"))
    r = CliRunner().invoke(cli, ["--config", str(cfg), "audit", "verify"])
    assert r.exit_code == 1 and "第 1 条" in r.output
    assert CliRunner().invoke(cli, ["audit", "verify", "--help"]).exit_code == 0
