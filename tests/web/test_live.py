"""Posts sent to the ingest API reach a real Socket.IO client on the /desk namespace."""

from __future__ import annotations

from datetime import datetime, timezone

import requests


def test_ingested_post_arrives_on_socketio(live_server, ingest_headers, desk_events):
    got = desk_events("posts")
    item = {"id": "live-1", "text": "网传城南小学停课，求证", "created_at": datetime.now(timezone.utc).isoformat()}
    r = requests.post(f"{live_server}/api/v1/posts", json=[item], headers=ingest_headers, timeout=10)
    assert r.status_code == 202
    want = r.json()["ids"][0]
    _event, batch = got.get(timeout=30)
    assert [p["id"] for p in batch] == [want]
    assert batch[0]["text"] == item["text"]
    assert "raw" not in batch[0]
