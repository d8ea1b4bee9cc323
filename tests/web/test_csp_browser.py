"""The Content-Security-Policy in a real browser: every page of the desk loads and runs its scripts (live feed,
charts) with no CSP violation, and a page of another site cannot frame the desk."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.browser
PAGES = ["/", "/alerts", "/incidents", "/sources", "/account/password"]


def _watch(page) -> list[str]:
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: seen.append(f"pageerror: {e}"))
    return seen


def test_pages_run_under_the_policy(live_server, page):
    seen = _watch(page)
    for path in PAGES:
        r = page.goto(live_server + path)
        assert r.status == 200, path
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
        page.wait_for_load_state("networkidle")
    page.goto(live_server + "/")
    page.wait_for_function("() => document.querySelector('#conn') && !document.querySelector('#conn').classList.contains('off')",
                           timeout=20000)  # desk.js ran and the Socket.IO connection was allowed
    csp = [m for m in seen if "Content Security Policy" in m or "Refused to" in m]
    assert csp == [], csp
    assert not [m for m in seen if m.startswith("pageerror")], seen


def test_another_site_cannot_frame_the_desk(live_server, page):
    html = f'<html><body><iframe id="f" src="{live_server}/login" width="600" height="400"></iframe></body></html>'

    class Evil(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):  # noqa: ANN002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Evil)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page.goto(f"http://localhost:{server.server_address[1]}/")
        page.wait_for_timeout(1500)
        frame = page.frame_locator("#f")
        assert frame.locator("#login-form").count() == 0  # the login form never shows inside the frame
    finally:
        server.shutdown()
