"""A rule file the desk refuses — at start or at a hot reload — is listed with its error in /api/v1/rules (which
the rules page shows), never silently ignored."""

from __future__ import annotations

import os
import time

from ..test_safe_yaml import alias_bomb


def test_refused_rules_are_listed(app_config, tmp_path, analyzer) -> None:
    from opinion_desk import create_app, stop_background

    from ..conftest import ensure_user, login_client

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "a.yaml").write_text("name: 甲\ntype: spike\ntimeframe: 10m\n", encoding="utf-8")
    (rules / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    app = create_app(app_config, analyzer_factory=lambda: analyzer)
    try:
        c = login_client(app, ensure_user(app, "admin"))
        d = c.get("/api/v1/rules").get_json()
        assert [r["name"] for r in d["rules"]] == ["甲"]
        assert [os.path.basename(e["file"]) for e in d["errors"]] == ["bomb.yaml"] and "别名" in d["errors"][0]["reason"]
        # a hot reload that breaks the good rule: listed, and the previous version keeps running
        (rules / "a.yaml").write_text("name: 甲\ntype: spike\ntimeframe: 999999999999d\n", encoding="utf-8")
        os.utime(rules / "a.yaml", (time.time() + 3, time.time() + 3))
        app.desk.engine.tick()
        d = c.get("/api/v1/rules").get_json()
        assert [r["name"] for r in d["rules"]] == ["甲"]
        errs = {os.path.basename(e["file"]): e for e in d["errors"]}
        assert set(errs) == {"a.yaml", "bomb.yaml"}
        assert errs["a.yaml"]["line"] == 3 and errs["a.yaml"]["field"] == "timeframe"
        assert "太长" in errs["a.yaml"]["message"] and "继续运行上一版本" in errs["a.yaml"]["message"]
    finally:
        stop_background(app)


import pytest  # noqa: E402


@pytest.mark.browser
def test_rules_page_shows_a_refused_file(app, live_server, page, artifacts, tmp_path) -> None:
    rules = tmp_path / "rules"
    rules.mkdir(exist_ok=True)
    (rules / "ok.yaml").write_text("name: 关注词\ntype: keyword\nfilter: {keywords: [爆炸]}\n", encoding="utf-8")
    (rules / "bomb.yaml").write_text(alias_bomb(), encoding="utf-8")
    (rules / "redos.yaml").write_text("name: 回溯\ntype: keyword\nfilter:\n  regex: ['(a)\\1+$']\n", encoding="utf-8")
    app.desk.engine.tick()  # the hot reload
    for width, name in ((1366, "rules_errors_1366.png"), (390, "rules_errors_390.png")):
        page.set_viewport_size({"width": width, "height": 900})
        page.goto(live_server + "/alerts")
        errs = page.locator("#rule-errors li")
        errs.first.wait_for(timeout=10_000)
        text = " ".join(errs.all_inner_texts())
        assert "bomb.yaml" in text and "别名" in text and "redos.yaml:4" in text and "RE2" in text
        page.screenshot(path=str(artifacts / name), full_page=True)
