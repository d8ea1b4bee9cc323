"""``[desk] message_queue`` on a real Redis (tests/redis_fixture.py): what another desk process publishes (a worker
bound write-only, as :func:`opinion_desk.livefeed.bind_publisher` does) reaches a browser connected to this one."""

from __future__ import annotations

import queue
import time
import uuid

import pytest
import socketio


@pytest.fixture
def app_config(app_config: dict, redis_url: str) -> dict:
    app_config["desk"]["message_queue"] = redis_url
    return app_config


def test_an_event_published_by_another_process_reaches_this_ones_browser(desk_events, redis_url) -> None:
    got = desk_events("alert")
    worker = socketio.RedisManager(redis_url, channel="opinion-desk", write_only=True)  # another process
    marker = f"A-redis-{uuid.uuid4().hex[:8]}"  # other test runs may share the server: find ours
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:  # the web process subscribes in a thread: publish until it listens
        worker.emit("alert", {"id": marker, "rule": "跨进程"}, namespace="/desk")
        try:
            while True:
                name, data = got.get(timeout=0.5)
                if data.get("id") == marker:
                    assert name == "alert" and data["rule"] == "跨进程"
                    return
        except queue.Empty:
            continue
    pytest.fail("the browser never heard the event published through Redis")
