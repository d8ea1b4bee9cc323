"""Pytest plugin: the session's Elasticsearch node, started by :func:`opinion_desk.esnode.ensure_node`.

Load it from the root conftest with ``pytest_plugins = ["tests.es_fixture"]``. The node listens on 127.0.0.1:9250
(``$OPINION_DESK_TEST_ES_PORT``) and lives under ``<repo>/.cache/es`` (as root, where the repo may sit in root's private home: under
/var/lib/opinion-desk/elasticsearch-test; ``$OPINION_DESK_TEST_ES_HOME``); it is left
running after the session so the next run starts in a second. ``$OPINION_DESK_TEST_ES_URL`` points the tests at an
existing cluster instead. When the node cannot start, every test that needs it FAILS with the reason — never skips.

``es_cluster`` is a local two-node cluster of the same server (:mod:`opinion_desk.esnode.cluster`), HTTP ports 9260
and 9261 (``$OPINION_DESK_TEST_ES_CLUSTER_PORTS``, comma-separated), transport + 100, each node with a 384 MB heap and
its data under ``ES_HOME/cluster``; it is left running too, and a node found dead (killed by a test) is started again.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
ES_PORT = int(os.environ.get("OPINION_DESK_TEST_ES_PORT", "9250"))
def _default_test_home() -> Path:
    from opinion_desk.esnode import default_home

    return default_home("elasticsearch-test") if os.geteuid() == 0 else REPO / ".cache" / "es"


ES_HOME = Path(os.environ.get("OPINION_DESK_TEST_ES_HOME") or _default_test_home())

CLUSTER_PORTS = tuple(int(p) for p in os.environ.get("OPINION_DESK_TEST_ES_CLUSTER_PORTS", "9260,9261").split(","))
CLUSTER_HEAP = "384m"
CLUSTER_TIMEOUT = 300.0  # seconds per start: two JVMs booting at once on a loaded 2-core machine take minutes

_failure: list[str] = []
_cluster_failure: list[str] = []


@pytest.fixture(scope="session")
def es_url() -> str:
    """URL of a healthy Elasticsearch node for the tests."""
    if os.environ.get("OPINION_DESK_TEST_ES_URL"):
        return os.environ["OPINION_DESK_TEST_ES_URL"].rstrip("/")
    if _failure:  # do not wait 90 s again for every test
        pytest.fail(_failure[0], pytrace=False)
    from opinion_desk.errors import ESNodeError
    from opinion_desk.esnode import ensure_node

    try:
        return ensure_node(port=ES_PORT, home=ES_HOME)
    except ESNodeError as e:
        _failure.append(f"Elasticsearch test node (port {ES_PORT}, home {ES_HOME}) could not start: {e}")
    pytest.fail(_failure[0], pytrace=False)


@pytest.fixture(scope="session")
def es_cluster():  # type: ignore[no-untyped-def]
    """The local two-node cluster (an :class:`~opinion_desk.esnode.cluster.ESCluster`), green with both nodes."""
    if _cluster_failure:
        pytest.fail(_cluster_failure[0], pytrace=False)
    from opinion_desk.errors import ESNodeError
    from opinion_desk.esnode.cluster import ESCluster

    cluster = ESCluster(CLUSTER_PORTS, {"home": str(ES_HOME), "heap": CLUSTER_HEAP})
    try:
        cluster.up(timeout=CLUSTER_TIMEOUT)
        return cluster
    except ESNodeError as e:
        _cluster_failure.append(f"Elasticsearch test cluster (ports {CLUSTER_PORTS}, home {ES_HOME}/cluster) "
                                f"could not start: {e}")
    pytest.fail(_cluster_failure[0], pytrace=False)


@pytest.fixture
def es_cluster_urls(es_cluster) -> list[str]:  # type: ignore[no-untyped-def]
    """The URLs of both cluster nodes, the cluster green with both in (a node a test killed is back)."""
    from opinion_desk.errors import ESNodeError

    try:
        return es_cluster.up(timeout=CLUSTER_TIMEOUT)
    except ESNodeError as e:
        pytest.fail(f"Elasticsearch test cluster could not be brought back to green: {e}", pytrace=False)
