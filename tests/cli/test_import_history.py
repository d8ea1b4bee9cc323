"""`opinion-desk import` of a month-old backfill: it builds the rules' windows and baselines, keeps them for the
desk (saved rule state), and raises no alert (no 信息源静默 per source, no keyword alerts over a month, nothing
queued for the robots). ``[rules] alert_history = true`` raises them as before."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import func, select

from opinion_desk.cli import main
from opinion_desk.config import load_config
from opinion_desk.state import StateDB
from opinion_desk.state.alerts import Alert, OutboxRow, RuleState

RULES = {
    "kw.yaml": "name: 关注词\ntype: keyword\nfilter:\n  keywords: [疫情]\n",
    "flat.yaml": "name: 信息源静默\ntype: flatline\ntimeframe: 2h\nquery_key: source\n",
    "spike.yaml": "name: 声量突增\ntype: spike\ntimeframe: 1h\nthreshold_cur: 5\nfilter:\n  keywords: [疫情]\n",
}


def _setup(tmp_path: Path, extra: str = "") -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    for name, text in RULES.items():
        (rules / name).write_text(text, encoding="utf-8")
    conf = tmp_path / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{tmp_path / "var"}"\n[rules]\ndir = "{rules}"\n{extra}'
                    f'[collectors]\nsources_dir = "{tmp_path / "sources"}"\n', encoding="utf-8")
    start = datetime.now(timezone.utc) - timedelta(days=31)
    lines = [json.dumps({"id": f"b{i}", "text": f"本地疫情防控通报 第{i}条", "source": f"来源{i % 12}",
                         "created_at": (start + timedelta(minutes=7 * i)).isoformat()}, ensure_ascii=False)
             for i in range(400)]
    (tmp_path / "backfill.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return conf


def _import(conf: Path, tmp_path: Path) -> None:
    r = CliRunner().invoke(main, ["--config", str(conf), "import", str(tmp_path / "backfill.jsonl")],
                           env={"OPINION_DESK_CONFIG": ""})
    assert r.exit_code == 0, r.output


def _db(conf: Path) -> StateDB:
    return StateDB(load_config(conf, env={}).state_url())


def test_a_backfill_builds_state_and_raises_nothing(tmp_path: Path) -> None:
    conf = _setup(tmp_path)
    _import(conf, tmp_path)
    with _db(conf).session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Alert)) == 0
        assert s.scalar(select(func.count()).select_from(OutboxRow)) == 0
        saved = {r.rule: r for r in s.scalars(select(RuleState))}
        assert set(saved) >= {"声量突增", "信息源静默"}  # the windows the import built are kept for the desk
        assert saved["声量突增"].state["started"] is not None  # its baseline counts from the backfill's start


def test_alert_history_true_raises_alerts_for_history(tmp_path: Path) -> None:
    conf = _setup(tmp_path, "alert_history = true\n")
    _import(conf, tmp_path)
    with _db(conf).session_scope() as s:
        rules = set(s.scalars(select(Alert.rule)))
    assert "关注词" in rules
