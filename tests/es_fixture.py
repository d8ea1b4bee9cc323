"""Pytest plugin: the session's Elasticsearch node, started by :func:`opinion_desk.esnode.ensure_node`.

Load it from the root conftest with ``pytest_plugins = ["tests.es_fixture"]``. The node listens on 127.0.0.1:9250
(``$OPINION_DESK_TEST_ES_PORT``) and lives under ``<repo>/.cache/es`` (as root, where the repo may sit in root's private home: under
/var/lib/opinion-desk/elasticsearch-test; ``$OPINION_DESK_TEST_ES_HOME``); it is left
running after the session so the next run starts in a second. ``$OPINION_DESK_TEST_ES_URL`` points the tests at an
existing cluster instead. When the node cannot start, every test that needs it FAILS with the reason — never skips.
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

_failure: list[str] = []


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
