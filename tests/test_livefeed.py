"""opinion_desk/livefeed.py's parts on their own: the replay buffer's bounds, the origin check, the manager the
config asks for."""

from __future__ import annotations

import pytest

from opinion_desk.config import load_config
from opinion_desk.errors import ConfigError
from opinion_desk.livefeed import ReplayBuffer, SequencedManager, client_manager, origin_check


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def test_replay_buffer_keeps_minutes_and_bytes():
    clock = Clock()
    buf = ReplayBuffer(seconds=60, max_bytes=100, clock=clock)
    for seq in range(1, 4):
        assert buf.append(seq, "posts", [{"text": "舆情"}]) == len('[{"text":"舆情"}]'.encode())  # UTF-8 bytes kept
    assert [s for s, _e, _d in buf.since(1)] == [2, 3]
    assert buf.since(0)[0] == (1, "posts", [{"text": "舆情"}])
    clock.t += 61  # older than a minute: gone, and a client that needs them is told so
    buf.append(4, "alert", {"id": "a"})
    assert buf.since(3) == [(4, "alert", {"id": "a"})]
    assert buf.since(2) is None
    for seq in range(5, 20):  # bytes bound the buffer too
        buf.append(seq, "posts", {"pad": "x" * 30})
    assert buf.bytes <= 100 and buf.since(10) is None and buf.since(18) == [(19, "posts", {"pad": "x" * 30})]
    assert buf.since(18, max_bytes=50) is not None and buf.since(17, max_bytes=50) is None  # too much to replay


def test_origin_check_own_origin_and_listed_ones():
    check = origin_check(["https://desk.example.gov.cn/"])
    env = {"HTTP_HOST": "10.0.0.5:5000", "wsgi.url_scheme": "http"}
    assert check("http://10.0.0.5:5000", env) and check("https://desk.example.gov.cn", env)
    assert check(None, env)  # not a browser: the connect handler still wants a session
    assert not check("http://10.0.0.5:5001", env)  # another port of the same host
    assert not check("https://10.0.0.5:5000", env) and not check("http://evil.example", env)
    assert not check("http://10.0.0.5:5000", {"wsgi.url_scheme": "http"})  # no Host: nothing to compare with
    # behind a TLS proxy that forwards what the browser asked for
    fwd = {**env, "HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "desk.gov.cn"}
    assert check("https://desk.gov.cn", fwd) and not check("https://other.gov.cn", fwd)


def test_client_manager_follows_the_config(tmp_path):
    cfg = load_config(None, env={}, overrides={"desk": {"data_dir": str(tmp_path), "replay_minutes": 2,
                                                        "replay_max_mb": 1}})
    m = client_manager(cfg)
    assert type(m) is SequencedManager and m.buffer.seconds == 120 and m.buffer.max_bytes == 1 << 20
    bad = load_config(None, env={}, overrides={"desk": {"message_queue": "amqp://broker//"}})
    with pytest.raises(ConfigError, match=r"\[desk\] message_queue"):
        client_manager(bad)
    redis_cfg = load_config(None, env={}, overrides={"desk": {"message_queue": "redis://127.0.0.1:6399/0"}})
    m = client_manager(redis_cfg)  # connects lazily: building it needs no server
    assert isinstance(m, SequencedManager) and m.channel == "opinion-desk"
