"""The local Elasticsearch node manager (opinion_desk/esnode.py) against the real server."""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path

import pytest

from opinion_desk.errors import ESNodeError
from opinion_desk.esnode import ESNode, ensure_node, java_major, min_java
from tests.es_fixture import ES_HOME, ES_PORT  # es_url comes from the plugin the root conftest loads

pytestmark = pytest.mark.elasticsearch


def test_ensure_node_reuses_a_running_node(es_url: str) -> None:
    node = ESNode({"port": ES_PORT, "home": str(ES_HOME)})
    before = node.status()
    t = time.monotonic()
    assert ensure_node(port=ES_PORT, home=ES_HOME) == es_url
    assert time.monotonic() - t < 5  # reused, not restarted
    after = node.status()
    assert after["healthy"] and after["health"] in ("green", "yellow")
    assert after["url"] == es_url and after["pid"] == before["pid"] and after["fetched"]
    with urllib.request.urlopen(f"{es_url}/_cluster/health") as r:
        assert json.loads(r.read())["cluster_name"] == "opinion-desk"


def test_second_port_on_same_home_is_refused(es_url: str) -> None:
    if not ESNode({"port": ES_PORT, "home": str(ES_HOME)}).status()["running"]:
        pytest.fail(f"the node at {es_url} was not started from {ES_HOME}")
    with pytest.raises(ESNodeError, match="already runs on port"):
        ensure_node(port=ES_PORT + 1, home=ES_HOME)


def test_status_of_an_empty_home(tmp_path: Path) -> None:
    st = ESNode({"port": 9299, "home": str(tmp_path)}).status()
    assert st == {**st, "running": False, "healthy": False, "fetched": False, "pid": None}
    assert ESNode({"port": 9299, "home": str(tmp_path)}).down() is False


def test_java_detection() -> None:
    node = ESNode({"home": "/nonexistent"})
    jh = node.java_home()
    assert (java_major(jh) or 0) >= min_java(node.version)
    assert min_java("9.1.0") == 21 and min_java("8.19.7") == 17
    with pytest.raises(ESNodeError, match="java_home"):
        ESNode({"java_home": "/nonexistent/jdk"}).java_home()


@pytest.mark.slow
def test_a_node_that_cannot_start_says_why() -> None:
    import socket

    home = ES_HOME.parent / "es-fail"  # its own home (unpacked once, kept in .cache)
    with socket.socket() as busy:
        busy.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ESNodeError) as err:
            ensure_node(port=port, home=home, cfg={"heap": "256m"}, timeout=60)
    msg = str(err.value)
    assert str(port) in msg and ("BindException" in msg or "Address already in use" in msg), msg[-2000:]
    assert not ESNode({"port": port, "home": str(home)}).status()["running"]


def test_the_cluster_is_reused_and_its_nodes_keep_apart(es_cluster) -> None:
    from tests.es_fixture import CLUSTER_PORTS

    t = time.monotonic()
    assert es_cluster.up() == [f"http://127.0.0.1:{p}" for p in CLUSTER_PORTS]
    assert time.monotonic() - t < 5  # reused, not restarted
    with urllib.request.urlopen(f"{es_cluster.urls[1]}/_nodes/_all/settings") as r:
        nodes = {n["name"]: n for n in json.loads(r.read())["nodes"].values()}
    assert sorted(nodes) == sorted(n.name for n in es_cluster.nodes)
    for node in es_cluster.nodes:
        s = nodes[node.name]["settings"]
        assert s["cluster"]["name"] == "opinion-desk-cluster"  # never the single test node's cluster
        assert s["transport"]["port"] == str(node.port + 100) and s["http"]["port"] == str(node.port)
        assert Path(s["path"]["data"][0] if isinstance(s["path"]["data"], list) else s["path"]["data"]) \
            == ES_HOME / "cluster" / f"node-{node.port}" / "data"
        assert node.dist_dir == ES_HOME / f"elasticsearch-{node.version}"  # one unpacked server for every node
    master = es_cluster.master()
    assert master is not None and master in es_cluster.nodes
    assert es_cluster.health()["status"] == "green"


def test_a_cluster_needs_distinct_ports() -> None:
    from opinion_desk.esnode.cluster import ESCluster

    with pytest.raises(ESNodeError, match="two or more distinct ports"):
        ESCluster((9260, 9260), {"home": "/nonexistent"})
    with pytest.raises(ESNodeError, match="not one of its cluster's ports"):
        ESNode({"port": 9262, "home": "/nonexistent"}, peers=(9260, 9261))
