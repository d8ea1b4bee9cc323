"""The backend registry, open_store and the Flask resource trio."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from opinion_desk import store as store_pkg
from opinion_desk.config import load_config
from opinion_desk.errors import ConfigError, StoreError


def test_sqlite_does_not_load_the_elasticsearch_client() -> None:
    code = ("import sys, opinion_desk.store as s, opinion_desk.store.sqlite, opinion_desk.store.spool; "
            "assert 'elasticsearch' not in sys.modules; print(sorted(s.BACKENDS))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "['elasticsearch', 'sqlite']"


def test_unknown_backend_is_named() -> None:
    with pytest.raises(ConfigError, match="backend"):
        store_pkg.backend_class("mongo")


def test_the_desk_keeps_one_store(tmp_path: Path) -> None:
    from opinion_desk.root import Desk

    cfg = load_config(env={}, overrides={"desk": {"data_dir": str(tmp_path)}})
    desk = Desk(cfg)
    try:
        assert desk.store.name == "sqlite" and desk.store.ping()
        assert desk.pipeline.store is desk.store and desk.incidents.store is desk.store  # one store, shared
    finally:
        desk.close()
