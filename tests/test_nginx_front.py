"""deploy/nginx.conf in front of two real desk processes (Debian's nginx; one desk takes the posts, the other runs
``--role web``; one Redis message queue): Socket.IO clients through nginx on long-polling only, on WebSocket, and
polling upgraded to WebSocket all get every post pushed to the first desk, and nginx answers no 400 (a polling
request that reached the process without its session would get "Session ID unknown")."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests

from bench.common import (TOKEN, free_port, in_order_client, redis_server, session_cookie, start_desk,
                          stop_process)

ROOT = Path(__file__).resolve().parent.parent
TRANSPORTS = [["polling"], ["polling"], ["websocket"], ["polling", "websocket"]]


def nginx_front(tmp: Path, web1: str, web2: str) -> tuple[subprocess.Popen, str]:
    """deploy/nginx.conf as shipped, but for its upstream names and listen port (nginx resolves names at load)."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing (scripts/test.sh installs it)"
    port = free_port()
    conf = (ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    conf = conf.replace("web1:5000", web1.split("//")[1]).replace("web2:5000", web2.split("//")[1])
    conf = conf.replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp / "desk.conf").write_text(conf, encoding="utf-8")
    (tmp / "nginx.conf").write_text(
        f"error_log {tmp}/nginx-error.log;\npid {tmp}/nginx.pid;\ndaemon off;\nevents {{}}\nhttp {{\n"
        f"  log_format up '$status $upstream_addr $request_uri';\n  access_log {tmp}/nginx-access.log up;\n"
        f"  include {tmp}/desk.conf;\n}}\n", encoding="utf-8")
    proc = subprocess.Popen([nginx, "-p", str(tmp), "-c", str(tmp / "nginx.conf")], stderr=subprocess.PIPE)
    front = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(front + "/login", timeout=5)
            return proc, front
        except requests.RequestException:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"nginx did not start: {proc.stderr.read().decode(errors='replace')}")
            time.sleep(0.2)


@pytest.mark.slow
def test_socketio_through_nginx_polling_and_websocket(tmp_path: Path) -> None:
    procs: list[subprocess.Popen] = []
    clients = []
    with redis_server(tmp_path) as url:
        shared = {"desk": {"message_queue": url, "secret_key": "nginx-front-test"},
                  "state": {"url": f"sqlite:///{tmp_path / 'state.db'}"}}
        try:
            a, base_a, _ = start_desk(tmp_path, settings=shared, name="web1")
            procs.append(a)
            b, base_b, _ = start_desk(tmp_path, str(tmp_path / "rules-web"), settings=shared, name="web2",
                                      run_args=("--role", "web"), user=False)
            procs.append(b)
            ng, front = nginx_front(tmp_path, base_a, base_b)
            procs.append(ng)
            cookie = session_cookie(front)  # the login form through nginx
            got: list[set[str]] = []
            for tr in TRANSPORTS:
                sio = in_order_client(reconnection=False, request_timeout=30)
                seen: set[str] = set()
                sio.on("posts", lambda data, _meta=None, seen=seen: seen.update(p["text"] for p in data),
                       namespace="/desk")
                sio.connect(front, namespaces=["/desk"], transports=tr, headers={"Cookie": f"session={cookie}"},
                            wait_timeout=30)
                clients.append(sio)
                got.append(seen)
            time.sleep(1)
            http = requests.Session()
            http.headers["Authorization"] = f"Bearer {TOKEN}"
            texts = [f"人民路积水严重，请求尽快排水（第{k}条）" for k in range(30)]
            for k in range(0, 30, 10):
                r = http.post(base_a + "/api/v1/posts", timeout=60, json=[
                    {"id": f"ng-{i}", "text": t, "created_at": datetime.now(timezone.utc).isoformat()}
                    for i, t in enumerate(texts[k:k + 10], start=k)])
                assert r.status_code == 202, r.text
            deadline = time.monotonic() + 60
            while any(len(s) < len(texts) for s in got) and time.monotonic() < deadline:
                time.sleep(0.3)
            assert [len(s & set(texts)) for s in got] == [len(texts)] * len(TRANSPORTS)
            assert [c.transport() for c in clients] == ["polling", "polling", "websocket", "websocket"]
        finally:
            for c in clients:
                c.disconnect()
            for p in reversed(procs):
                stop_process(p, 30)
    log = (tmp_path / "nginx-access.log").read_text(encoding="utf-8")
    statuses = re.findall(r"^(\d{3}) ", log, re.M)
    assert "101" in statuses and statuses.count("200") > len(TRANSPORTS), log[-2000:]
    assert not [s for s in statuses if s.startswith(("4", "5"))], log[-2000:]
    polled = {line.split()[1] for line in log.splitlines() if "transport=polling" in line}
    assert len(polled) == 1, f"ip_hash sends one address's polling to one process: {polled}"
