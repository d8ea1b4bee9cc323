"""Delivery of the live feed to browsers: sequence numbers, replay after a reconnect, a cap on slow clients.

Every event :mod:`opinion_desk.broadcast` sends to the ``live`` room of ``/desk`` is numbered here, in the process
that delivers it to its browsers, and carries ``{"seq": n, "epoch": e}`` as its last argument (``epoch`` is drawn
once per process, so a client sees a restart). The events of the last ``[desk] replay_minutes`` (and at most
``[desk] replay_max_mb`` of JSON) stay in a ring buffer. A browser that reconnects sends the last ``{epoch, seq}``
it saw as its Socket.IO ``auth``; :meth:`SequencedManager.subscribe` then sends it what it missed, in order, before
it joins the room, and ends with ``live`` ``{epoch, seq, replayed}``. When the gap is no longer in the buffer (or the
epoch is another process's), it gets ``resync`` instead and reloads its pages' data through the REST API.

With ``[desk] message_queue`` (Redis) each web process numbers what it delivers, events from other processes
included: the numbering lives in the receiving end (``PubSubManager._handle_emit``), so replay covers everything a
browser of this process could have received.

A client whose send queue holds more than about ``MAX_BACKLOG_BYTES`` of events (it stopped reading) is
disconnected: the memory goes back, and its reconnect gets the replay. A replay larger than ``MAX_REPLAY_BYTES`` is
not sent: the client gets ``resync`` and reloads, which is faster than a long replay and bounds what one reconnect
can queue.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Callable
from typing import Any

import socketio
from engineio import packet as eio_packet
from socketio import packet as socketio_packet

log = logging.getLogger(__name__)

NAMESPACE = "/desk"
LIVE = "live"  # the room of browsers that are up to date
MAX_BACKLOG_BYTES = 8 << 20  # events waiting for one client before it is dropped (it reconnects and replays)
MAX_REPLAY_BYTES = 8 << 20  # a longer gap is answered with resync


class ReplayBuffer:
    """The last events, bounded by age and by total JSON size; each kept as its JSON text in UTF-8 bytes (compact,
    and the size is the memory it takes: a ``str`` of Chinese text takes 2 bytes a character, 4 with one emoji in
    it, so a cap counted in characters held 2-4x its figure). Not thread-safe: the manager's lock guards it."""

    def __init__(self, seconds: float, max_bytes: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.clock = clock
        self.items: deque[tuple[int, float, str, bytes]] = deque()  # (seq, time, event, data as UTF-8 JSON)
        self.bytes = 0
        self.dropped_seq = 0  # the highest seq no longer kept

    def append(self, seq: int, event: str, data: Any) -> int:
        """Keep an event; returns its size."""
        text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str)
        text = text.encode("utf-8", "surrogatepass")
        self.items.append((seq, self.clock(), event, text))
        self.bytes += len(text)
        self.trim()
        return len(text)

    def trim(self) -> None:
        oldest = self.clock() - self.seconds
        while self.items and (self.bytes > self.max_bytes or self.items[0][1] < oldest):
            seq, _t, _e, text = self.items.popleft()
            self.bytes -= len(text)
            self.dropped_seq = seq

    def since(self, seq: int, max_bytes: int | None = None) -> list[tuple[int, str, Any]] | None:
        """The events after ``seq``, oldest first; None when some of them are no longer kept (or they are more
        than ``max_bytes``)."""
        kept = self.since_json(seq, max_bytes)
        return None if kept is None else [(s, e, _loads(text)) for s, e, text in kept]

    def since_json(self, seq: int, max_bytes: int | None = None) -> list[tuple[int, str, bytes]] | None:
        """:meth:`since` with each event's data as the UTF-8 JSON it is kept as."""
        self.trim()
        if seq < self.dropped_seq:
            return None
        kept = [(s, e, text) for s, _t, e, text in self.items if s > seq]
        if max_bytes is not None and sum(len(text) for _s, _e, text in kept) > max_bytes:
            return None
        return kept


class SequencedManager(socketio.Manager):
    """A Socket.IO client manager that numbers and keeps what goes to the live room (see the module docstring)."""

    def __init__(self, replay_seconds: float = 600, replay_max_bytes: int = 32 << 20,
                 max_backlog_bytes: int = MAX_BACKLOG_BYTES, max_replay_bytes: int = MAX_REPLAY_BYTES,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.epoch = uuid.uuid4().hex[:12]
        self.seq = 0
        self.buffer = ReplayBuffer(replay_seconds, replay_max_bytes)
        self.max_backlog_bytes = max_backlog_bytes
        self.max_replay_bytes = max_replay_bytes
        self.dropped_clients = 0
        self._avg_bytes = 1024.0  # running mean size of an event, to turn the byte caps into queue lengths
        self._grace: dict[str, int] = {}  # eio sid -> packets of its replay (allowed on top of the cap)
        self._lock = threading.Lock()
        self._logged = time.monotonic()
        # replayed events, encoded once: clients that reconnect together share the packets (and the memory)
        self._replay_packets: OrderedDict[int, tuple[list[Any], int]] = OrderedDict()
        self._replay_packets_bytes = 0

    def emit(self, event: str, data: Any, namespace: str, room: Any = None, skip_sid: Any = None,
             callback: Any = None, to: Any = None, **kwargs: Any) -> None:
        room = to or room
        if namespace != NAMESPACE or room != LIVE or callback is not None:
            return super().emit(event, data, namespace, room=room, skip_sid=skip_sid, callback=callback, **kwargs)
        with self._lock:
            self.seq += 1
            size = self.buffer.append(self.seq, event, data)
            self._avg_bytes += (size - self._avg_bytes) / 64
            super().emit(event, (data, {"seq": self.seq, "epoch": self.epoch}), namespace, room=LIVE,
                         skip_sid=skip_sid)
            slow = self._slow_clients(namespace)
            if time.monotonic() - self._logged > 60:
                self._log_stats(namespace)
        for eio_sid in slow:
            self._drop(eio_sid)

    def subscribe(self, sid: str, namespace: str, auth: Any) -> dict[str, Any]:
        """Bring a connecting client up to date and add it to the live room; returns what it was sent last
        (``{"event": "live"|"resync", ...}``). ``auth`` is the client's ``{"epoch", "seq"}`` of its last event."""
        since = _position(auth)
        with self._lock:
            missed: list[tuple[int, str, bytes]] | None = []
            if since is not None:
                missed = (self.buffer.since_json(since[1], self.max_replay_bytes)
                          if since[0] == self.epoch and since[1] <= self.seq else None)
            eio_sid = self.eio_sid_from_sid(sid, namespace)
            # straight to this client's queue: a message queue must not reorder the replay behind live events
            for seq, event, text in missed or ():
                for pkt in self._replay_packet(seq, event, text, namespace):
                    self.server._send_eio_packet(eio_sid, pkt)
            status = {"epoch": self.epoch, "seq": self.seq}
            if missed is None:
                status["event"] = "resync"
                log.info("live feed: %s asked for %s, not kept (epoch %s, oldest kept after %s): resync", sid, since,
                         self.epoch, self.buffer.dropped_seq)
            else:
                status.update(event="live", replayed=len(missed))
            socketio.Manager.emit(self, status["event"], {k: v for k, v in status.items() if k != "event"},
                                  namespace, room=sid)
            if eio_sid is not None:
                self.basic_enter_room(sid, namespace, LIVE)
                self._grace[eio_sid] = len(missed or ())
        return status

    def _replay_packet(self, seq: int, event: str, text: bytes, namespace: str) -> list[Any]:
        """The Engine.IO packets of a kept event, made once for every client that replays it."""
        hit = self._replay_packets.get(seq)
        if hit is None:
            pkt = self.server.packet_class(socketio_packet.EVENT, namespace=namespace,
                                           data=[event, _loads(text), {"seq": seq, "epoch": self.epoch}])
            encoded = pkt.encode()
            hit = ([eio_packet.Packet(eio_packet.MESSAGE, p) for p in (encoded if isinstance(encoded, list)
                                                                      else [encoded])], len(text))
            self._replay_packets[seq] = hit
            self._replay_packets_bytes += hit[1]
            while self._replay_packets_bytes > self.max_replay_bytes:
                _s, (_p, size) = self._replay_packets.popitem(last=False)
                self._replay_packets_bytes -= size
        else:
            self._replay_packets.move_to_end(seq)
        return hit[0]

    def _slow_clients(self, namespace: str) -> list[str]:
        eio = self.server.eio
        cap = max(64, int(self.max_backlog_bytes / max(self._avg_bytes, 1.0)))
        slow = []
        for _sid, eio_sid in self.get_participants(namespace, LIVE):
            sock = eio.sockets.get(eio_sid)
            if sock is not None and sock.queue.qsize() > cap + self._grace.get(eio_sid, 0):
                slow.append(eio_sid)
        if len(self._grace) > 2 * len(eio.sockets) + 16:  # forget clients that are gone
            self._grace = {k: v for k, v in self._grace.items() if k in eio.sockets}
        return slow

    def _log_stats(self, namespace: str) -> None:
        self._logged = time.monotonic()
        sockets = self.server.eio.sockets
        queues = [sockets[e].queue.qsize() for _s, e in self.get_participants(namespace, LIVE) if e in sockets]
        log.info("live feed: seq %d, %d clients, longest send queue %d events, replay buffer %.1f MB (%d events), "
                 "%d slow clients dropped so far", self.seq, len(queues), max(queues, default=0),
                 self.buffer.bytes / (1 << 20), len(self.buffer.items), self.dropped_clients)

    def _drop(self, eio_sid: str) -> None:
        self.dropped_clients += 1
        log.warning("live feed: client %s has %.0f+ MB of unsent events: disconnected (it reconnects and replays)",
                    eio_sid, self.max_backlog_bytes / (1 << 20))
        try:
            self.server.eio.disconnect(eio_sid)
        except Exception:  # noqa: BLE001 - it may be gone already
            log.debug("live feed: disconnecting %s failed", eio_sid, exc_info=True)


def _loads(text: bytes) -> Any:
    return json.loads(text.decode("utf-8", "surrogatepass"))


def _position(auth: Any) -> tuple[str, int] | None:
    """``(epoch, seq)`` from a client's auth payload; None for a first connection (or anything malformed)."""
    if not isinstance(auth, dict):
        return None
    epoch, seq = auth.get("epoch"), auth.get("seq")
    if not isinstance(epoch, str) or isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
        return None
    return epoch, seq


def client_manager(cfg: Any) -> SequencedManager:
    """The manager for the configured ``[desk] message_queue`` (none: this process only; ``redis://``: Redis)."""
    opts = {"replay_seconds": float(cfg["desk"]["replay_minutes"]) * 60,
            "replay_max_bytes": int(float(cfg["desk"]["replay_max_mb"]) * (1 << 20))}
    url = cfg["desk"]["message_queue"]
    if not url:
        return SequencedManager(**opts)
    if not url.startswith(("redis://", "rediss://", "unix://")):
        from .errors import ConfigError

        raise ConfigError([f"[desk] message_queue: {url!r} is not a redis:// URL"], cfg.file)
    try:
        import redis  # noqa: F401
    except ImportError:
        from .errors import ConfigError

        raise ConfigError(["[desk] message_queue needs the redis package: pip install 'opinion-desk[redis]'"],
                          cfg.file) from None

    class SequencedRedisManager(socketio.RedisManager, SequencedManager):
        """Publishes through Redis; numbers and keeps what it delivers to this process's browsers."""

        def __init__(self, url: str, replay_seconds: float, replay_max_bytes: int) -> None:
            super().__init__(url=url, channel="opinion-desk")  # SequencedManager's part with its defaults
            self.buffer = ReplayBuffer(replay_seconds, replay_max_bytes)

    return SequencedRedisManager(url, **opts)


def bind_publisher(server: Any, cfg: Any) -> bool:
    """In a process that serves no browser (a worker, ``opinion-desk import``): bind the unbound Socket.IO
    ``server`` (:data:`opinion_desk.extensions.socketio`) to publish through ``[desk] message_queue``, write-only,
    so the web processes deliver (and number) what this one emits. False when no queue is configured: then
    nobody can hear this process and its events are dropped."""
    url = cfg["desk"]["message_queue"]
    if not url:
        return False
    client_manager(cfg)  # the same checks (a redis:// URL, the redis package)
    server.init_app(None, async_mode="threading",
                    client_manager=socketio.RedisManager(url, channel="opinion-desk", write_only=True))
    return True


def origin_check(allowed: list[str]) -> Callable[[str | None, dict[str, Any]], bool]:
    """Socket.IO's origin check: the desk's own origin (the scheme and host the browser asked for, as a proxy
    forwards them, like python-engineio's default) plus ``[desk] allowed_origins``."""
    extra = {o.rstrip("/") for o in allowed}

    def check(origin: str | None, environ: dict[str, Any]) -> bool:
        if origin is None:
            return True  # not a browser; the connect handler still wants a session
        if origin in extra:
            return True
        host = environ.get("HTTP_HOST")
        if not host:
            return False
        scheme = environ.get("wsgi.url_scheme", "http")
        own = {f"{scheme}://{host}"}
        fwd_proto = environ.get("HTTP_X_FORWARDED_PROTO", "").split(",")[0].strip()
        fwd_host = environ.get("HTTP_X_FORWARDED_HOST", "").split(",")[0].strip()
        if fwd_proto or fwd_host:
            own.add(f"{fwd_proto or scheme}://{fwd_host or host}")
        return origin in own

    return check


def socketio_options(cfg: Any) -> dict[str, Any]:
    """What :func:`opinion_desk.create_app` passes to ``socketio.init_app``."""
    return {"async_mode": "threading", "client_manager": client_manager(cfg),
            "cors_allowed_origins": origin_check(cfg["desk"]["allowed_origins"])}
