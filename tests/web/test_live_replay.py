"""The live feed numbers its events and replays what a reconnecting browser missed (opinion_desk/livefeed.py);
pages from another origin cannot open it. Real python-socketio clients against the live server."""

from __future__ import annotations

import queue
import threading
import time

import engineio
import pytest
import socketio

from opinion_desk import broadcast

EVENTS = ("hello", "live", "resync", "incident", "alert")


class _InOrderEIO(engineio.Client):
    def _trigger_event(self, event, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        kwargs["run_async"] = False
        return super()._trigger_event(event, *args, **kwargs)


class InOrderClient(socketio.Client):
    """python-socketio's client runs each received message in a thread of its own, so handlers may see them out of
    order; a browser handles them one after another, in arrival order, and so does this client."""

    def _engineio_client_class(self):  # noqa: ANN202
        return _InOrderEIO


def connect(base: str, cookie: str, auth=None, origin: str | None = None) -> tuple[socketio.Client, queue.Queue]:
    """A logged-in client on /desk; its queue gets ``(event, data, meta)`` in arrival order. Its WebSocket
    handshake sends ``Origin: <origin>`` as a browser would (websocket-client's default: the server's own)."""
    sio = InOrderClient(reconnection=False, websocket_extra_options={"origin": origin} if origin else {})
    got: queue.Queue = queue.Queue()
    for name in EVENTS:
        sio.on(name, lambda data, meta=None, name=name: got.put((name, data, meta)), namespace="/desk")
    sio.connect(base, namespaces=["/desk"], transports=["websocket"], auth=auth, wait_timeout=10,
                headers={"Cookie": f"session={cookie}"})
    return sio, got


def until(got: queue.Queue, event: str, timeout: float = 10) -> list[tuple]:
    """Everything received up to and including the first ``event``."""
    out = []
    deadline = time.monotonic() + timeout
    while True:
        item = got.get(timeout=max(0.1, deadline - time.monotonic()))
        out.append(item)
        if item[0] == event:
            return out


def test_reconnecting_client_gets_the_missed_events_in_order(live_server, desk_cookie):
    a, got_a = connect(live_server, desk_cookie)
    first = until(got_a, "live")
    assert [e for e, *_ in first] == ["hello", "live"] and first[-1][1]["replayed"] == 0
    broadcast.incident({"n": 0})
    _e, data, meta = until(got_a, "incident")[-1]
    assert data == {"n": 0} and meta["seq"] == first[-1][1]["seq"] + 1
    a.disconnect()

    watcher, got_w = connect(live_server, desk_cookie)  # stays connected: the events did go out live
    until(got_w, "live")
    for n in range(1, 6):
        (broadcast.incident if n % 2 else broadcast.alert)({"n": n})
    live = [until(got_w, "incident" if n % 2 else "alert")[-1] for n in range(1, 6)]
    assert [d["n"] for _e, d, _m in live] == [1, 2, 3, 4, 5]

    b, got_b = connect(live_server, desk_cookie, auth={"epoch": meta["epoch"], "seq": meta["seq"]})
    try:
        replay = until(got_b, "live")
        assert [(e, d) for e, d, _m in replay] == [("hello", {"ok": True})] + [
            ("incident" if n % 2 else "alert", {"n": n}) for n in range(1, 6)] + [
            ("live", {"epoch": meta["epoch"], "seq": meta["seq"] + 5, "replayed": 5})]
        assert [m["seq"] for _e, _d, m in replay[1:-1]] == [meta["seq"] + n for n in range(1, 6)]
        assert [m for _e, _d, m in replay[1:-1]] == [m for _e, _d, m in live]  # the same numbers as sent live
        broadcast.incident({"n": 6})  # and it is live again
        _e, data, m6 = until(got_b, "incident")[-1]
        assert data == {"n": 6} and m6["seq"] == meta["seq"] + 6
        assert got_b.empty()
    finally:
        b.disconnect()
        watcher.disconnect()


def test_replay_races_no_event_past_a_reconnect(live_server, desk_cookie):
    """Events emitted while clients reconnect reach each of them exactly once, numbered without a gap."""
    a, got = connect(live_server, desk_cookie)
    pos = until(got, "live")[-1][1]
    stop = threading.Event()

    def emitter() -> None:
        n = 0
        while not stop.is_set():
            broadcast.incident({"n": n})
            n += 1
            time.sleep(0.001)

    t = threading.Thread(target=emitter, daemon=True)
    t.start()
    seqs: list[int] = []
    try:
        for _ in range(5):
            time.sleep(0.15)
            a.disconnect()
            while not got.empty():
                _e, _d, m = got.get()
                if m:
                    seqs.append(m["seq"])
            last = {"epoch": pos["epoch"], "seq": seqs[-1] if seqs else pos["seq"]}
            time.sleep(0.1)
            a, got = connect(live_server, desk_cookie, auth=last)
    finally:
        time.sleep(0.2)
        stop.set()
        t.join(5)
    time.sleep(0.5)
    a.disconnect()
    while not got.empty():
        e, d, m = got.get()
        if m:
            seqs.append(m["seq"])
        elif e == "resync":
            pytest.fail(f"resync in a 10-minute buffer: {d}")
    assert len(seqs) > 50
    assert seqs == list(range(pos["seq"] + 1, pos["seq"] + 1 + len(seqs))), "a gap or a repeat in the sequence"


@pytest.fixture
def small_replay(app_config):
    app_config["desk"]["replay_max_mb"] = 0.001  # about 1 KB of events kept


def test_too_old_or_other_epoch_gets_resync(small_replay, live_server, desk_cookie):
    a, got = connect(live_server, desk_cookie)
    pos = until(got, "live")[-1][1]
    a.disconnect()
    for n in range(40):
        broadcast.incident({"n": n, "pad": "舆情" * 20})
    b, got = connect(live_server, desk_cookie, auth=pos)
    try:
        out = until(got, "resync")
        assert [e for e, *_ in out] == ["hello", "resync"] and out[-1][1]["seq"] == pos["seq"] + 40
        broadcast.incident({"n": 40})
        assert until(got, "incident")[-1][1] == {"n": 40}  # live after the resync
    finally:
        b.disconnect()
    c, got = connect(live_server, desk_cookie, auth={"epoch": "another-desk", "seq": 3})  # the desk restarted
    try:
        assert [e for e, *_ in until(got, "resync")] == ["hello", "resync"]
    finally:
        c.disconnect()


def test_page_from_another_origin_is_refused(live_server, desk_cookie):
    port = int(live_server.rsplit(":", 1)[1])
    for origin in (f"http://127.0.0.1:{port + 1}", f"http://localhost:{port}", "https://evil.example"):
        with pytest.raises(socketio.exceptions.ConnectionError):
            connect(live_server, desk_cookie, origin=origin)
    ok, got = connect(live_server, desk_cookie, origin=live_server)  # its own pages
    try:
        assert [e for e, *_ in until(got, "live")] == ["hello", "live"]
    finally:
        ok.disconnect()
