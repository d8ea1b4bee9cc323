"""``opinion-desk store upgrade``: an embedded store file made before the rollups opens at once and is brought up
to date in the foreground, with progress; run again, it says there is nothing to do."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.models import Post
from opinion_desk.store.base import PostQuery
from opinion_desk.store.sqlite import SQLiteStore

T0 = datetime(2026, 5, 1, tzinfo=timezone.utc)


def test_store_upgrade_fills_an_older_file_with_progress(tmp_path) -> None:  # noqa: ANN001
    db = tmp_path / "var" / "posts.db"
    s = SQLiteStore(db, segment=str.split)
    s.index([Post(source="s", source_id=str(i), text="暴雨 地铁", tokens=["暴雨", "地铁"], keywords=["暴雨"],
                  created_at=T0 + timedelta(minutes=i), collected_at=T0) for i in range(120)])
    s.close()
    with sqlite3.connect(db) as c:  # as a file made before the rollup tables
        c.executescript("DELETE FROM rollup_minute; DELETE FROM rollup_hour; DELETE FROM rollup_total; "
                        "PRAGMA user_version = 2;")
    env = {"OPINION_DESK__DESK__DATA_DIR": str(tmp_path / "var"), "OPINION_DESK__STORE__BACKEND": "sqlite"}
    r = CliRunner().invoke(main, ["store", "upgrade"], env=env)
    assert r.exit_code == 0, r.output
    assert "需要升级：平台与传播量列、统计汇总表、筛选索引" in r.output
    assert "统计汇总表：120/120 行（100%）" in r.output and "升级完成" in r.output
    s = SQLiteStore(db, segment=str.split, background_upgrade=False)
    try:
        assert s.pending_upgrade() == []
        assert s.top_terms(PostQuery(), "keywords", 1) == [("暴雨", 120)]
        with s._conn() as c:
            assert c.execute("SELECT SUM(n) FROM rollup_minute").fetchone()[0] == 120
    finally:
        s.close()
    r = CliRunner().invoke(main, ["store", "upgrade"], env=env)
    assert r.exit_code == 0 and "已是最新，无需升级" in r.output
