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


def test_flask_trio(tmp_path: Path) -> None:
    cfg = load_config(env={}, overrides={"desk": {"data_dir": str(tmp_path)}})
    app = Flask(__name__)
    app.config["DESK"] = cfg
    s = store_pkg.init_app(app)
    with app.app_context():
        assert store_pkg.get_store() is s and s.name == "sqlite" and s.ping()
    with app.app_context():
        assert store_pkg.get_store() is s  # lives for the app's lifetime, not per request
        store_pkg.close_store()
        assert store_pkg.EXTENSION_KEY not in app.extensions
        s2 = store_pkg.get_store()  # reopened lazily from the config
        assert s2 is not s
        store_pkg.close_store()
    with pytest.raises(StoreError, match="DESK"):
        store_pkg.init_app(Flask("bare"))
