"""A local Elasticsearch cluster: several nodes of the same Maven-fetched server on 127.0.0.1 (tests, trials).

Every node is an :class:`~opinion_desk.esnode.ESNode` with its own HTTP port (transport port = HTTP + 100) and its
own directory; they share the unpacked server and the cache home of the single node::

    HOME/elasticsearch-VERSION/     the server (one copy for the single node and every cluster node)
    HOME/cluster/node-PORT/         one node: data/, logs/, node.pid, node.json

All nodes are master-eligible data nodes that find each other through ``discovery.seed_hosts`` (their transport
ports); the first start bootstraps the cluster with ``cluster.initial_master_nodes``. With two nodes Elasticsearch
keeps only one of them in the voting configuration (it must be odd): the cluster survives losing the other one
(whose primaries' replicas are promoted), but not losing that one — :meth:`ESCluster.master` says which it is.

:meth:`ESCluster.up` starts the nodes that are not running, all at once (a cluster node waits for its peers before
it is healthy), then waits for green health with every node in; a running cluster is reused in a second.
"""

from __future__ import annotations

import json
import os
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ESNodeError
from . import HEALTH_TIMEOUT, ESNode

CLUSTER_NAME = "opinion-desk-cluster"


class ESCluster:
    """The nodes listening on ``ports`` (HTTP) of one local cluster under ``es_node.home``/cluster."""

    def __init__(self, ports: Sequence[int] = (9260, 9261), cfg: dict[str, Any] | None = None, *,
                 name: str = CLUSTER_NAME) -> None:
        if len(set(ports)) != len(ports) or len(ports) < 2:
            raise ESNodeError(f"a local cluster needs two or more distinct ports, got {list(ports)}")
        self.name = name
        self.ports = [int(p) for p in ports]
        first = ESNode(cfg)
        self.home = first.home
        self.dir = self.home / "cluster"
        self.nodes = [ESNode({**(cfg or {}), "port": p}, node_dir=self.dir / f"node-{p}", cluster_name=name,
                             peers=self.ports) for p in self.ports]

    @property
    def urls(self) -> list[str]:
        return [n.url() for n in self.nodes]

    def node(self, port: int) -> ESNode:
        for n in self.nodes:
            if n.port == port:
                return n
        raise ESNodeError(f"no node on port {port} in the cluster {self.ports}")

    # state -------------------------------------------------------------------------------------------------
    def _get(self, path: str, timeout: float = 5.0, only: Sequence[ESNode] | None = None) -> Any:
        """GET ``path`` from the first node that answers 200 (or 408: a health wait that timed out, whose body is
        still the health); None when none does."""
        for n in only or self.nodes:
            try:
                with urllib.request.urlopen(f"{n.url()}{path}", timeout=timeout) as r:
                    return json.loads(r.read())
            except urllib.error.HTTPError as e:
                if e.code == 408:
                    try:
                        return json.loads(e.read())
                    except (OSError, ValueError):
                        pass
                continue
            except (OSError, ValueError, urllib.error.URLError):
                continue
        return None

    def health(self, wait: str = "0s") -> dict[str, Any] | None:
        """Cluster health as the first answering node sees it (waiting up to ``wait`` for green with every node
        in), or None when no node has a master to ask."""
        data = self._get(f"/_cluster/health?wait_for_status=green&wait_for_nodes={len(self.nodes)}&timeout={wait}",
                         timeout=_seconds(wait) + 5)
        return data if isinstance(data, dict) and data.get("cluster_name") == self.name else None

    def green(self) -> bool:
        h = self.health()
        return bool(h) and h["status"] == "green" and h["number_of_nodes"] == len(self.nodes)  # type: ignore[index]

    def master(self) -> ESNode | None:
        """The elected master node (the one the cluster cannot lose when it has two nodes), None without one."""
        data = self._get("/_cat/master?format=json")
        names = {n.name: n for n in self.nodes}
        return names.get(data[0].get("node")) if isinstance(data, list) and data else None

    def status(self) -> list[dict[str, Any]]:
        """Each node's :meth:`ESNode.status`-like facts: running, answering, url, pid."""
        return [{"port": n.port, "url": n.url(), "name": n.name, "pid": n._pid(), "running": n._pid() is not None,
                 "answers": n.answers()} for n in self.nodes]

    # lifecycle ---------------------------------------------------------------------------------------------
    def up(self, timeout: float = HEALTH_TIMEOUT) -> list[str]:
        """Start every node that is not running (all at once), wait for green with every node in; return the
        URLs. Nodes already running are reused; a dead one (killed, crashed) is started again and rejoins."""
        if self.green():
            return self.urls
        first = self.nodes[0]
        user = first._run_user()  # once, before the threads: useradd and the download are not for racing
        if user is not None:
            first._check_reachable(user)
        first.fetch()
        errors: dict[int, str] = {}

        def start(n: ESNode) -> None:
            try:
                n.up(timeout=timeout)
            except ESNodeError as e:
                errors[n.port] = str(e)
            except Exception as e:  # noqa: BLE001 - reported with the node it happened to
                errors[n.port] = f"{type(e).__name__}: {e}"

        threads = [threading.Thread(target=start, args=(n,), name=f"es-node-{n.port}") for n in self.nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise ESNodeError("; ".join(f"cluster node {p} could not start: {e}" for p, e in errors.items()))
        deadline = time.monotonic() + timeout
        h: dict[str, Any] | None = None
        while time.monotonic() < deadline:
            h = self.health(wait="5s")
            if h and h["status"] == "green" and h["number_of_nodes"] == len(self.nodes):
                return self.urls
            time.sleep(0.5)
        raise ESNodeError(f"the local cluster {self.name} on ports {self.ports} did not turn green with "
                          f"{len(self.nodes)} nodes within {timeout:.0f}s (last health: {h})\n"
                          + "\n".join(f"node {n.port}: {n._log_tail(15)}" for n in self.nodes))

    def down(self, timeout: float = 30.0) -> int:
        """Stop every node (SIGTERM, then SIGKILL); returns how many ran."""
        return sum(n.down(timeout) for n in self.nodes)


def _seconds(value: str) -> float:
    return float(value[:-1]) if value.endswith("s") and value[:-1].replace(".", "", 1).isdigit() else 0.0


def ensure_cluster(ports: Sequence[int] = (9260, 9261), home: str | os.PathLike[str] | None = None,
                   cfg: dict[str, Any] | None = None, heap: str | None = None,
                   timeout: float = HEALTH_TIMEOUT) -> list[str]:
    """Make sure a green local cluster of ``len(ports)`` nodes answers on ``ports`` (HTTP, transport + 100),
    starting the nodes that do not run under ``home``/cluster; return their URLs.

    ``cfg`` is an ``[es_node]`` section (its ``port`` is ignored); ``home`` and ``heap`` (per node) override it.
    Raises :class:`ESNodeError` naming the node and the reason when the cluster cannot form.
    """
    c = dict(cfg or {})
    if home is not None:
        c["home"] = str(Path(home))
    if heap is not None:
        c["heap"] = heap
    return ESCluster(ports, c).up(timeout=timeout)
