"""opinion_desk/serving.py: the gunicorn worker's app build."""

from __future__ import annotations

import gc
import weakref

from flask import Flask

from opinion_desk.serving import DeskServer


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the collector frees it


def test_the_start_is_frozen_out_of_the_collector() -> None:
    """What the start built is out of the collector's full passes (gc.freeze); garbage of the start is collected
    first, not kept for good."""
    refs: list[weakref.ref[Node]] = []

    def build() -> Flask:
        refs.append(weakref.ref(Node()))  # garbage left by the start
        return Flask("desk-test")

    server = DeskServer(build, lambda _app: None, host="127.0.0.1", port=0, threads=1)
    gc.unfreeze()
    gc.disable()  # only the load's own collection may free the garbage
    try:
        app = server.load()
        assert isinstance(app, Flask) and server.app is app
        assert gc.get_freeze_count() > 0
        assert refs[0]() is None
    finally:
        gc.enable()
        gc.unfreeze()
