"""The embedded store does not open a connection per HTTP request: 2,000 requests to /api/v1/health and the
dashboard's APIs, each on a new connection (so the threaded server runs each on a new thread), under
``ulimit -n 256``: every one answers 200 and the desk's open file descriptors stay flat."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

SCRIPT = r"""
import http.client, json, os, resource, sys, threading
resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))
from werkzeug.serving import make_server
from opinion_desk import create_app
from tests.conftest import ensure_user, login_client, make_test_config, session_cookie
from pathlib import Path

app = create_app(make_test_config(Path(sys.argv[1])), analyzer_factory=lambda: None)
cookie = session_cookie(login_client(app, ensure_user(app, "admin")))
srv = make_server("127.0.0.1", 0, app, threaded=True)
threading.Thread(target=srv.serve_forever, daemon=True).start()
port = srv.server_port
urls = ["/api/v1/health", "/api/v1/posts?minutes=60&size=5", "/api/v1/stats/volume?minutes=60&interval=1m",
        "/api/v1/stats/top?minutes=60&n=5", "/api/v1/rules", "/api/v1/alerts?limit=5", "/api/v1/incidents"]
fds = lambda: len(os.listdir("/proc/self/fd"))
statuses, marks = {}, {}
for i in range(2000):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request("GET", urls[i % len(urls)], headers={"Cookie": "session=" + cookie})
    r = c.getresponse(); r.read(); c.close()
    statuses[r.status] = statuses.get(r.status, 0) + 1
    if i + 1 in (200, 1000, 2000):
        marks[i + 1] = fds()
srv.shutdown()
print(json.dumps({"statuses": statuses, "fds": marks, "pool": app.desk.store.open_connections()}))
"""


def test_fds_stay_flat_over_2000_requests(tmp_path) -> None:
    r = subprocess.run([sys.executable, "-c", SCRIPT, str(tmp_path)], capture_output=True, text=True, timeout=600,
                       cwd=REPO)
    assert r.returncode == 0, r.stderr[-3000:]
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["statuses"] == {"200": 2000}, out
    fds = out["fds"]
    assert fds["2000"] <= fds["200"] + 4, fds  # flat: a leak of two per request would be +3,600
    assert out["pool"] <= 4
