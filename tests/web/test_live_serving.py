"""``opinion-desk run`` serves with gunicorn (gthread worker + simple-websocket), not Werkzeug's development server:
the real command in a subprocess, a real Socket.IO client over the WebSocket transport, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest
import requests
import socketio

from tests.conftest import INGEST_TOKEN, REPO, free_port

PASSWORD = "serving-password-123"
CLI = [sys.executable, "-c", "from opinion_desk.cli import main; main()"]


@pytest.fixture
def desk_process(tmp_path: Path):
    """The desk started by its own command; yields (base URL, log path)."""
    port = free_port()
    (tmp_path / "rules").mkdir()
    (tmp_path / "sources").mkdir()
    conf = tmp_path / "desk.toml"
    conf.write_text(f'''[desk]
data_dir = "{tmp_path / 'var'}"
host = "127.0.0.1"
port = {port}
web_threads = 16

[ingest]
tokens = ["{INGEST_TOKEN}"]

[rules]
dir = "{tmp_path / 'rules'}"

[collectors]
sources_dir = "{tmp_path / 'sources'}"
''', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OPINION_DESK_CONFIG", None)
    subprocess.run([*CLI, "--config", str(conf), "users", "add", "serving-admin", "--role", "admin",
                    "--password", PASSWORD], check=True, env=env, cwd=tmp_path, capture_output=True, timeout=120)
    log_path = tmp_path / "desk.log"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([*CLI, "--config", str(conf), "run"], env=env, cwd=tmp_path, stdout=log,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if requests.get(base + "/api/v1/health", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the desk did not start (rc {proc.poll()}):\n{log_path.read_text(errors='replace')}")
            time.sleep(0.5)
        yield base, log_path, proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def login(base: str) -> requests.Session:
    http = requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(base + "/login", timeout=10).text).group(1)
    r = http.post(base + "/login", data={"username": "serving-admin", "password": PASSWORD, "csrf_token": token},
                  allow_redirects=False, timeout=10)
    assert r.status_code == 302, r.text[:300]
    return http


@pytest.mark.slow
def test_run_serves_socketio_over_websocket_with_gunicorn(desk_process):
    base, log_path, proc = desk_process
    r = requests.get(base + "/api/v1/health", timeout=10)
    assert r.headers.get("Server", "").startswith("gunicorn"), r.headers  # not Werkzeug
    http = login(base)
    cookie = {"Cookie": f"session={http.cookies['session']}"}

    got: list = []
    sio = socketio.Client(reconnection=False)
    sio.on("posts", lambda batch, meta=None: got.append((batch, meta)), namespace="/desk")
    sio.connect(base, namespaces=["/desk"], transports=["websocket"], headers=cookie, wait_timeout=10)
    try:
        assert sio.transport() == "websocket"
        item = {"id": "prod-1", "text": "网传城东大桥封闭，求证", "created_at": datetime.now(timezone.utc).isoformat()}
        r = requests.post(base + "/api/v1/posts", json=[item], headers={"Authorization": f"Bearer {INGEST_TOKEN}"},
                          timeout=30)
        assert r.status_code == 202, r.text
        deadline = time.monotonic() + 60
        while not got and time.monotonic() < deadline:
            time.sleep(0.1)
        assert got, "no live event from the production server"
        batch, meta = got[0]
        assert batch[0]["text"] == item["text"] and meta["seq"] >= 1 and meta["epoch"]
    finally:
        sio.disconnect()

    # a page on another port of the same host is refused, on the real server too
    other = socketio.Client(reconnection=False,
                            websocket_extra_options={"origin": base.rsplit(":", 1)[0] + f":{free_port()}"})
    with pytest.raises(socketio.exceptions.ConnectionError):
        other.connect(base, namespaces=["/desk"], transports=["websocket"], headers=cookie, wait_timeout=5)

    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    log = log_path.read_text(errors="replace")
    assert "gunicorn gthread" in log and "Traceback" not in log, log
    assert "werkzeug" not in log.lower() and "HTTP/0.9" not in log, log
