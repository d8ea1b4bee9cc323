"""Shared by the bench scripts: serve a desk on a loopback port and log in to it."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import requests

TOKEN = "bench-token"
REPO = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-c", "from opinion_desk.cli import main; main()"]  # the desk's own command line


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree_pids(pid: int) -> list[int]:
    """A process and its descendants (a gunicorn master and its worker, an import), from /proc; gone ones left out."""
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                todo += [int(c) for c in Path(f"/proc/{p}/task/{tid}/children").read_text().split()]
        except OSError:
            continue
        seen.append(p)
    return seen


def tree_rss_mb(pid: int) -> float:
    """RSS of a process and its descendants, MB, from /proc."""
    total = 0
    for p in tree_pids(pid):
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def tree_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process and its live descendants have used so far, from /proc."""
    total = 0
    for p in tree_pids(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


@contextmanager
def serve(tmp: Path, cfg: dict[str, dict[str, Any]] | None = None) -> Iterator[tuple[str, str]]:
    """A desk (app + Socket.IO) on a free loopback port; yields (base URL, ingest token)."""
    import logging

    from werkzeug.serving import make_server

    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    from opinion_desk import create_app, stop_background

    test_config: dict[str, dict[str, Any]] = {"desk": {"data_dir": str(tmp / "var")}, "ingest": {"tokens": [TOKEN]},
                                              "rules": {"dir": str(tmp / "rules")},  # none unless the bench adds some
                                              "collectors": {"sources_dir": str(tmp / "sources")}}
    for sec, values in (cfg or {}).items():
        test_config.setdefault(sec, {}).update(values)
    app = create_app(test_config)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    serve.app = app  # type: ignore[attr-defined]
    try:
        yield f"http://127.0.0.1:{port}", TOKEN
    finally:
        server.shutdown()
        stop_background(app)


class Session(requests.Session):
    def socket_headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{c.name}={c.value}" for c in self.cookies)}


BENCH_USER, BENCH_PASSWORD = "bench-admin", "bench-password-123"


def login_session(base: str) -> Session:
    """A requests session logged in, through the real login form, as a bench admin created in the served app."""
    from opinion_desk.state.users import create_user, get_user

    app = serve.app  # type: ignore[attr-defined]
    with app.desk.state.session_scope() as s:
        if get_user(s, BENCH_USER) is None:
            create_user(s, BENCH_USER, BENCH_PASSWORD, ["admin"], display_name="基准测试")
    return login_form(base, Session())


def login_form(base: str, http: requests.Session | None = None) -> requests.Session:
    """``http`` (a new session by default) logged in as the bench admin through the desk's real login form."""
    http = http or requests.Session()
    token = re.search(r'name="csrf_token" value="([^"]+)"', http.get(base + "/login", timeout=10).text).group(1)
    r = http.post(base + "/login", data={"username": BENCH_USER, "password": BENCH_PASSWORD, "csrf_token": token},
                  allow_redirects=False, timeout=10)
    if r.status_code != 302:
        raise SystemExit(f"bench: login failed ({r.status_code})")
    return http


# --- a desk in its own process (``opinion-desk run``: gunicorn gthread, as in production) ---------------------------

def cli_env() -> dict[str, str]:
    """The environment the desk's CLI runs in: this checkout importable, no config from the caller's environment."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OPINION_DESK_CONFIG", None)
    for name in [n for n in env if n.startswith("OPINION_DESK__")]:
        env.pop(name)
    return env


def write_config(tmp: Path, port: int, rules: str | None = None,
                 settings: dict[str, dict[str, Any]] | None = None, name: str = "desk") -> Path:
    """``tmp/<name>.toml``: a desk on 127.0.0.1:``port`` with data in ``tmp/<name>-var`` (``var`` for the default
    name), the bench ingest token, ``rules`` (default: an empty ``tmp/rules``), no sources; ``settings`` (section ->
    key -> value, dotted sections as in :data:`opinion_desk.config.SCHEMA`) added on top."""
    import tomli_w

    rules_dir = rules or str(tmp / "rules")
    Path(rules_dir).mkdir(parents=True, exist_ok=True)
    (tmp / "sources").mkdir(exist_ok=True)
    cfg: dict[str, dict[str, Any]] = {
        "desk": {"data_dir": str(tmp / ("var" if name == "desk" else f"{name}-var")), "host": "127.0.0.1",
                 "port": port},
        "ingest": {"tokens": [TOKEN]}, "rules": {"dir": rules_dir},
        "collectors": {"sources_dir": str(tmp / "sources")}}
    for sec, values in (settings or {}).items():
        cfg.setdefault(sec, {}).update(values)
    nested: dict[str, Any] = {}
    for sec, values in cfg.items():
        node = nested
        for part in sec.split("."):
            node = node.setdefault(part, {})
        node.update(values)
    path = tmp / f"{name}.toml"
    path.write_text(tomli_w.dumps(nested), encoding="utf-8")
    return path


def add_user(conf: Path, cwd: Path) -> None:
    """The bench admin (:data:`BENCH_USER`) in the state database of the desk configured by ``conf`` (already
    there, as in a reused data directory: fine)."""
    r = subprocess.run([*CLI, "--config", str(conf), "users", "add", BENCH_USER, "--role", "admin", "--password",
                        BENCH_PASSWORD], env=cli_env(), cwd=cwd, capture_output=True, text=True)
    if r.returncode and "已存在" not in r.stdout + r.stderr:
        raise SystemExit(f"bench: users add failed:\n{r.stdout}{r.stderr}")


def run_supports(option: str) -> bool:
    """Whether ``opinion-desk run --help`` lists ``option`` (e.g. ``--role``)."""
    out = subprocess.run([*CLI, "run", "--help"], env=cli_env(), capture_output=True, text=True, check=True).stdout
    return option in out


def start_desk(tmp: Path, rules: str | None = None, *, settings: dict[str, dict[str, Any]] | None = None,
               name: str = "desk", run_args: tuple[str, ...] = (), user: bool = True,
               timeout: float = 180) -> tuple[subprocess.Popen, str, Path]:
    """``opinion-desk run`` (plus ``run_args``) on a free port with :func:`write_config`; with ``user`` the bench
    admin is added first. Returns (process, base URL, its log file) once ``/api/v1/health`` answers 200; exits
    with the log when it does not start within ``timeout`` seconds."""
    port = free_port()
    conf = write_config(tmp, port, rules, settings, name)
    if user:
        add_user(conf, tmp)
    log = tmp / f"{name}.log"
    with open(log, "wb") as f:
        proc = subprocess.Popen([*CLI, "--config", str(conf), "run", *run_args], env=cli_env(), cwd=tmp, stdout=f,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(base + "/api/v1/health", timeout=5).status_code == 200:
                return proc, base, log
        except requests.RequestException:  # not listening yet, or too busy starting to answer in time
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            if proc.poll() is None:
                proc.kill()
            raise SystemExit(f"bench: the desk {name} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.5)


def stop_process(proc: subprocess.Popen, wait: float = 60) -> None:
    """SIGTERM, then SIGKILL after ``wait`` seconds."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(wait)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def session_cookie(base: str) -> str:
    """The session cookie of the bench admin, logged in through the real login form."""
    return login_form(base).cookies["session"]


def in_order_client(**kwargs: Any) -> Any:
    """A python-socketio client that handles messages in arrival order on its reading thread, as a browser does
    (the stock client starts a thread per message). Its WebSocket skips websocket-client's UTF-8 check of each text
    frame, a byte-by-byte Python loop that cost about 5 ms of client CPU per 5 KB event (a browser does it in C):
    with 200 clients on two cores the clients, not the desk, set the latency."""
    kwargs.setdefault("websocket_extra_options", {"skip_utf8_validation": True})
    import engineio
    import socketio

    class InOrderEIO(engineio.Client):
        def _trigger_event(self, event, *args, **kw):  # noqa: ANN001, ANN002, ANN003, ANN202
            kw["run_async"] = False
            return super()._trigger_event(event, *args, **kw)

    class Client(socketio.Client):
        def _engineio_client_class(self):  # noqa: ANN202
            return InOrderEIO

    return Client(**kwargs)


@contextmanager
def redis_server(tmp: Path) -> Iterator[str]:
    """A real redis-server (Debian's; ``apt-get install -y redis-server``) on a free loopback port, nothing saved
    to disk; yields its ``redis://`` URL and stops it after."""
    exe = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not Path(exe).exists():
        raise SystemExit("bench: redis-server is missing (apt-get install -y redis-server)")
    port = free_port()
    log = tmp / "redis.log"
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(tmp), "--logfile", str(log)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.STDOUT)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        deadline = time.monotonic() + 20
        while True:
            try:
                client.ping()
                break
            except redis.ConnectionError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit(f"bench: redis-server did not start:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
        client.close()
        yield url
    finally:
        stop_process(proc, 10)


def percentile(xs: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``xs`` by nearest rank; NaN when empty."""
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]
