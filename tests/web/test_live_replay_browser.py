"""desk.js's replay in Chromium: a dashboard that lost its connection shows the posts that came meanwhile once it
reconnects (replayed by sequence number), and reloads its data through the REST API when the gap is too old."""

from __future__ import annotations

import queue
from datetime import datetime, timezone

import pytest
import requests

pytestmark = pytest.mark.browser


def ingest(base: str, headers: dict, got: queue.Queue, ids: list[str]) -> list[str]:
    """Post ``ids`` and wait until the desk has emitted them live (seen by a watching Python client)."""
    now = datetime.now(timezone.utc).isoformat()
    r = requests.post(base + "/api/v1/posts", headers=headers, timeout=10,
                      json=[{"id": i, "text": f"城北水厂停水通知（{i}）", "created_at": now} for i in ids])
    assert r.status_code == 202, r.text
    want = set(r.json()["ids"])
    seen: set[str] = set()
    while not want <= seen:
        _e, batch = got.get(timeout=30)
        seen |= {p["id"] for p in batch}
    return sorted(want)


def open_dashboard(page, base: str) -> None:  # noqa: ANN001
    page.goto(base + "/")
    page.wait_for_function("() => window.desk && desk.livePosition && desk.livePosition() !== null", timeout=20000)  # an arrow function: a bare expression is eval()ed, which the CSP refuses
    page.evaluate("document.addEventListener('desk:resync', () => { window.resyncs = (window.resyncs || 0) + 1; })")


def test_dashboard_gets_posts_missed_while_disconnected(live_server, page, ingest_headers, desk_events):
    got = desk_events("posts")
    open_dashboard(page, live_server)
    page.evaluate("desk.socket.disconnect()")
    missed = ingest(live_server, ingest_headers, got, ["gap-1", "gap-2", "gap-3"])
    assert all(page.locator(f"#feed li[data-id='{pid}']").count() == 0 for pid in missed)
    page.evaluate("desk.socket.connect()")
    for pid in missed:
        page.locator(f"#feed li[data-id='{pid}']").wait_for(timeout=20000)
    assert page.evaluate("window.resyncs || 0") == 0  # replayed, not reloaded
    assert page.evaluate("desk.livePosition().seq") >= 1


@pytest.fixture
def small_replay(app_config):
    app_config["desk"]["replay_max_mb"] = 0.0005  # about 500 bytes kept: any real gap is too old


def test_dashboard_reloads_when_the_gap_is_too_old(small_replay, live_server, page, ingest_headers, desk_events):
    got = desk_events("posts")
    open_dashboard(page, live_server)
    page.evaluate("desk.socket.disconnect()")
    missed = ingest(live_server, ingest_headers, got, [f"old-{n}" for n in range(8)])
    page.evaluate("desk.socket.connect()")
    page.wait_for_function("() => (window.resyncs || 0) >= 1", timeout=20000)
    for pid in missed:  # from the REST API (load()), not from the live feed
        page.locator(f"#feed li[data-id='{pid}']").wait_for(timeout=20000)
