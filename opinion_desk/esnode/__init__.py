"""The local Elasticsearch node: fetch the pinned server from Maven Central, start, stop and inspect it.

The server is the ``integ-test-zip`` distribution (server core only: no ``GET /``, no analysis-common,
painless, ingest or reindex), version pinned once in :data:`opinion_desk.config.SCHEMA` ``es_node.version``.
Everything lives under ``es_node.home``::

    HOME/elasticsearch-VERSION.zip   the download (also cached by Maven in ~/.m2)
    HOME/elasticsearch-VERSION/      the unpacked server
    HOME/data/  HOME/logs/           the node's data and logs
    HOME/node.pid  HOME/node.json    pid file and {"port", "pid", "url", "version"} of the running node

Elasticsearch refuses to run as root: when started by root the node runs as the system user ``es_node.user``
(created if missing) and HOME is handed to it; otherwise it runs as the current user. One node per HOME.

Tests and tools that do not go through the CLI call :func:`ensure_node`. A node may also be one of a local
cluster (:mod:`.cluster`): then it keeps its data, logs, pid and state files in its own ``node_dir`` and finds its
peers by their transport ports (HTTP port + 100).
"""

from __future__ import annotations

import fcntl
import json
import os
import pwd
import re
import signal
import stat
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..config import SCHEMA
from ..errors import ESNodeError
from .dist import fetch_dist
from .jdk import find_java_home, java_major, min_java  # noqa: F401  (re-exported)

HEALTH_TIMEOUT = 90.0


def _defaults() -> dict[str, Any]:
    return {k: key.default for k, key in SCHEMA["es_node"].items()}


def default_home(purpose: str = "elasticsearch") -> Path:
    """Where the node lives when ``es_node.home`` is empty: under ~/.cache for a user; for root, whose home
    the node's unprivileged user cannot enter, under /var/lib/opinion-desk."""
    if os.geteuid() == 0:
        return Path("/var/lib/opinion-desk") / purpose
    return Path.home() / ".cache" / "opinion-desk" / purpose


class ESNode:
    """One local node on 127.0.0.1, configured by the ``[es_node]`` config section: a single-node cluster, or
    with ``peers`` (the HTTP ports of every node of a local cluster, this one included) one of those nodes, keeping
    its files in ``node_dir`` (default: HOME) and named ``{cluster_name}-{port}``."""

    def __init__(self, cfg: dict[str, Any] | None = None, *, node_dir: str | os.PathLike[str] | None = None,
                 cluster_name: str = "opinion-desk", peers: Sequence[int] = ()) -> None:
        c = _defaults()
        c.update(cfg or {})
        self.version: str = str(c["version"])
        self.home = Path(os.path.expanduser(str(c["home"] or default_home()))).absolute()
        self.port = int(c["port"])
        self.java_home_cfg: str = str(c.get("java_home") or "")
        self.heap: str = str(c.get("heap") or "512m")
        if not re.fullmatch(r"[1-9][0-9]*[mMgG]", self.heap):
            raise ESNodeError(f"es_node.heap {self.heap!r} is not a JVM heap size like '512m' or '2g'")
        self.user_name: str = str(c.get("user") or "opinion-es")
        self.node_dir = Path(node_dir).absolute() if node_dir is not None else self.home
        self.cluster_name = cluster_name
        self.peers = [int(p) for p in peers]
        if self.peers and self.port not in self.peers:
            raise ESNodeError(f"node port {self.port} is not one of its cluster's ports {self.peers}")

    @property
    def name(self) -> str:
        return f"{self.cluster_name}-{self.port}"

    # paths ---------------------------------------------------------------------------------------------
    @property
    def zip_path(self) -> Path:
        return self.home / f"elasticsearch-{self.version}.zip"

    @property
    def dist_dir(self) -> Path:
        return self.home / f"elasticsearch-{self.version}"

    @property
    def pid_file(self) -> Path:
        return self.node_dir / "node.pid"

    @property
    def state_file(self) -> Path:
        return self.node_dir / "node.json"

    @property
    def log_file(self) -> Path:
        return self.node_dir / "logs" / f"{self.cluster_name}.log"  # named after cluster.name

    def url(self, port: int | None = None) -> str:
        return f"http://127.0.0.1:{port or self.port}"

    # fetch and java ------------------------------------------------------------------------------------
    def fetch(self) -> Path:
        """Download (via Maven Central) and unpack the pinned server unless already there; returns its dir."""
        return fetch_dist(self.version, self.home)

    def java_home(self) -> Path:
        """The JDK to run the node with (see :func:`~opinion_desk.esnode.jdk.find_java_home`)."""
        return find_java_home(self.version, self.java_home_cfg)

    # user ----------------------------------------------------------------------------------------------
    def _run_user(self) -> pwd.struct_passwd | None:
        """The account the node runs as when we are root (created on first use); None when not root."""
        if os.geteuid() != 0:
            return None
        try:
            return pwd.getpwnam(self.user_name)
        except KeyError:
            pass
        p = subprocess.run(["useradd", "-r", "-M", "-s", "/usr/sbin/nologin", self.user_name],
                           capture_output=True, text=True)
        if p.returncode != 0 and "already exists" not in p.stderr:
            raise ESNodeError(f"could not create system user '{self.user_name}' (es_node.user): {p.stderr.strip()}")
        return pwd.getpwnam(self.user_name)

    def _check_reachable(self, user: pwd.struct_passwd) -> None:
        """The node's user must be able to walk down to HOME (e.g. not through root's private /root)."""
        for anc in [*reversed(self.home.parents)]:
            st = anc.stat()
            ok = (st.st_uid == user.pw_uid or st.st_mode & stat.S_IXOTH
                  or (st.st_gid == user.pw_gid and st.st_mode & stat.S_IXGRP))
            if not ok:
                raise ESNodeError(
                    f"the node runs as user '{user.pw_name}' (Elasticsearch refuses root) but {anc} is not searchable "
                    f"by it, so it cannot reach es_node.home {self.home}. Set es_node.home to a directory outside "
                    f"{anc} (e.g. /var/lib/opinion-desk/elasticsearch) or grant search: chmod o+x {anc}")

    def _hand_over(self, user: pwd.struct_passwd) -> None:
        """Give HOME's server and the node's directory, data and logs to the node's user."""
        for d in (self.home, *[p for p in self.node_dir.parents if self.home in p.parents], self.node_dir):
            os.chown(d, user.pw_uid, user.pw_gid)
        for sub in (self.dist_dir, self.node_dir / "data", self.node_dir / "logs"):
            sub.mkdir(exist_ok=True)
            for root, dirs, files in os.walk(sub):
                os.chown(root, user.pw_uid, user.pw_gid)
                for n in dirs + files:
                    os.lchown(os.path.join(root, n), user.pw_uid, user.pw_gid)

    # lifecycle -----------------------------------------------------------------------------------------
    @contextmanager
    def _lock(self) -> Iterator[None]:
        self.node_dir.mkdir(parents=True, exist_ok=True)
        with open(self.node_dir / ".lock", "a") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def health(self, port: int | None = None, timeout: float = 2.0) -> dict[str, Any] | None:
        """Cluster health at ``port`` (status yellow or green), or None when nothing healthy answers."""
        try:
            with urllib.request.urlopen(f"{self.url(port)}/_cluster/health?wait_for_status=yellow&timeout=1s",
                                        timeout=timeout) as r:
                data = json.loads(r.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None
        return data if data.get("status") in ("yellow", "green") else None

    def answers(self, timeout: float = 2.0) -> bool:
        """Whether the node's HTTP layer answers at all (a cluster node without a master answers 503)."""
        try:
            with urllib.request.urlopen(f"{self.url()}/_nodes/_local/name", timeout=timeout):
                return True
        except urllib.error.HTTPError:
            return True
        except (OSError, ValueError, urllib.error.URLError):
            return False

    def _ready(self) -> bool:
        """Up as far as this node alone can tell: healthy when single, answering when one of a cluster (whose
        health needs its peers: :mod:`.cluster` waits for that)."""
        return self.answers() if self.peers else self.health() is not None

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:  # a stale pid file may name a recycled pid: only an Elasticsearch process counts
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"org.elasticsearch" in cmdline and self._alive(pid) else None

    def _state(self) -> dict[str, Any]:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def up(self, timeout: float = HEALTH_TIMEOUT) -> str:
        """Start the node (fetching it first if needed) and wait for yellow health; returns its URL.

        A node already healthy on the port is reused. Raises :class:`ESNodeError` quoting the node's log.
        """
        with self._lock():
            if self._ready():
                return self.url()
            pid, st = self._pid(), self._state()
            if pid and st.get("port") and st["port"] != self.port:
                raise ESNodeError(f"the node of {self.node_dir} already runs on port {st['port']} (pid {pid}); "
                                  f"use that port or stop it first: opinion-desk es down --home {self.home}")
            if pid:  # ours, but not healthy (yet): give it a moment, else restart it
                if self._wait(pid, min(timeout, 30)):
                    return self.url()
                self._stop(pid)
            return self._start(timeout)

    def _start(self, timeout: float) -> str:
        user = self._run_user()
        if user is not None:
            self._check_reachable(user)
        java = self.java_home()
        dist = self.fetch()
        for d in ("data", "logs"):
            (self.node_dir / d).mkdir(parents=True, exist_ok=True)
        if user is not None:
            self._hand_over(user)
        self.pid_file.unlink(missing_ok=True)
        try:
            self._log_start = self.log_file.stat().st_size
        except OSError:
            self._log_start = 0
        env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "JAVA_"))}
        env.update(ES_JAVA_HOME=str(java), ES_JAVA_OPTS=f"-Xms{self.heap} -Xmx{self.heap}",
                   ES_PATH_CONF=str(dist / "config"))
        if user is not None:
            env.update(HOME=str(self.home), USER=user.pw_name, LOGNAME=user.pw_name)
        cmd = [str(dist / "bin" / "elasticsearch"), "-d", "-p", str(self.pid_file),
               f"-Ecluster.name={self.cluster_name}", f"-Enode.name={self.name}",
               "-Enetwork.host=127.0.0.1", f"-Ehttp.port={self.port}", f"-Etransport.port={self.port + 100}",
               *self._discovery(), "-Expack.security.enabled=false",
               f"-Epath.data={self.node_dir / 'data'}", f"-Epath.logs={self.node_dir / 'logs'}",
               "-Ecluster.routing.allocation.disk.threshold_enabled=false"]
        if (dist / "modules" / "x-pack-ml").exists():
            cmd.append("-Expack.ml.enabled=false")
        kw: dict[str, Any] = {}
        if user is not None:
            kw.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        try:
            p = subprocess.run(cmd, env=env, cwd=str(self.node_dir), capture_output=True, text=True,
                               timeout=timeout, stdin=subprocess.DEVNULL, **kw)
        except subprocess.TimeoutExpired:
            raise ESNodeError(f"starting Elasticsearch took over {timeout:.0f}s\n{self._log_tail()}") from None
        if p.returncode != 0:
            out = "\n".join(ln for ln in (p.stdout + p.stderr).strip().splitlines() if not ln.startswith("\tat "))
            raise ESNodeError(f"Elasticsearch {self.version} failed to start on port {self.port} "
                              f"(java {java}, home {self.home}):\n{self._log_tail()}\n--- launcher output ---\n"
                              f"{out[-1500:]}")
        pid = self._pid()
        if not self._wait(pid, timeout):
            raise ESNodeError(f"Elasticsearch on {self.url()} did not become healthy within {timeout:.0f}s "
                              f"(pid {pid}, java {java}):\n{self._log_tail()}")
        self.state_file.write_text(json.dumps({"port": self.port, "pid": self._pid(), "url": self.url(),
                                               "version": self.version, "java_home": str(java)}))
        return self.url()

    def _discovery(self) -> list[str]:
        """Single-node discovery, or the peers' transport ports; the first start of a cluster's nodes (no cluster
        state in the data yet) also names the master-eligible nodes that bootstrap it."""
        if not self.peers:
            return ["-Ediscovery.type=single-node"]
        out = ["-Ediscovery.seed_hosts=" + ",".join(f"127.0.0.1:{p + 100}" for p in self.peers)]
        if not (self.node_dir / "data" / "_state").exists():
            out.append("-Ecluster.initial_master_nodes=" + ",".join(f"{self.cluster_name}-{p}" for p in self.peers))
        return out

    def _wait(self, pid: int | None, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._ready():
                return True
            if pid is not None and not self._alive(pid):
                return False
            time.sleep(0.5)
        return False

    @staticmethod
    def _alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        try:  # a zombie child counts as gone
            return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
        except (OSError, IndexError):
            return True

    def _log_tail(self, lines: int = 30) -> str:
        """The last lines the node logged since this start (older runs' lines are not quoted)."""
        try:
            with open(self.log_file, "rb") as fh:
                start = getattr(self, "_log_start", 0)
                fh.seek(start if start <= os.fstat(fh.fileno()).st_size else 0)  # rotated meanwhile
                text = fh.read().decode("utf-8", errors="replace").splitlines()
        except OSError:
            return f"(no log at {self.log_file})"
        if not text:
            return f"(nothing logged to {self.log_file} by this start)"
        # the cause first: ERROR/FATAL lines, the exception under them and its "Caused by" lines
        key = [ln for i, ln in enumerate(text)
               if ("][ERROR]" in ln or "][FATAL]" in ln or ln.startswith("Caused by:")
                   or (i and ("][ERROR]" in text[i - 1] or "][FATAL]" in text[i - 1]) and not ln.startswith("["))
               )][:12]
        cause = ("--- errors in " + str(self.log_file) + " ---\n" + "\n".join(key) + "\n") if key else ""
        tail = [ln for ln in text if not ln.startswith("\tat ")][-lines:]
        return cause + f"--- last lines of {self.log_file} (stack frames left out) ---\n" + "\n".join(tail)

    def down(self, timeout: float = 30.0) -> bool:
        """Stop the node of this HOME via its pid file (SIGTERM, wait, then SIGKILL). False if none ran."""
        with self._lock():
            pid = self._pid()
            if pid is None:
                self.pid_file.unlink(missing_ok=True)
                self.state_file.unlink(missing_ok=True)
                return False
            self._stop(pid, timeout)
            return True

    def kill(self) -> int | None:
        """Stop the node at once with SIGKILL, as a crash or the OOM killer would (no clean shutdown); returns
        the pid killed, None if none ran. Its pid and state files stay: the next :meth:`up` sees them stale."""
        with self._lock():
            pid = self._pid()
            if pid is None:
                return None
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return pid
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and self._alive(pid):
                time.sleep(0.05)
            return pid

    def _stop(self, pid: int, timeout: float = 30.0) -> None:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self._alive(pid):
            time.sleep(0.2)
        if self._alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            time.sleep(0.5)
        if self._alive(pid):
            raise ESNodeError(f"Elasticsearch pid {pid} (from {self.pid_file}) did not stop")
        self.pid_file.unlink(missing_ok=True)
        self.state_file.unlink(missing_ok=True)

    def status(self) -> dict[str, Any]:
        """What runs: {"running", "healthy", "url", "port", "pid", "version", "home", "fetched", "health"}."""
        st, pid = self._state(), self._pid()
        port = int(st.get("port") or self.port)
        health = self.health(port)
        return {"running": pid is not None, "healthy": health is not None, "url": self.url(port), "port": port,
                "pid": pid, "version": st.get("version", self.version), "home": str(self.home),
                "fetched": (self.dist_dir / "bin" / "elasticsearch").exists(),
                "health": health.get("status") if health else None}


def ensure_node(port: int = 9250, home: str | os.PathLike[str] | None = None,
                cfg: dict[str, Any] | None = None, timeout: float = HEALTH_TIMEOUT) -> str:
    """Make sure a healthy local node answers on ``port`` (fetching/starting it under ``home``); return its URL.

    ``cfg`` is an ``[es_node]`` section (defaults from the config schema); ``port``/``home`` override it.
    Raises :class:`ESNodeError` naming the reason when the node cannot start.
    """
    c = dict(cfg or {})
    c["port"] = port
    if home is not None:
        c["home"] = str(home)
    return ESNode(c).up(timeout=timeout)
