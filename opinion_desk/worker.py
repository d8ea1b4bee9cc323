"""``opinion-desk run --role worker``: a desk process with no web server.

It runs the background work (:mod:`opinion_desk.jobs`): collectors, the pipeline (also draining the ingest queue
the web processes fill), rules, the outbox, deadlines, briefings. What it emits for the dashboards goes through
``[desk] message_queue`` to the web processes. It stops on SIGTERM or Ctrl-C: the scheduler first, then the
pipeline's queue to the store, then the outbox.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from typing import Any

log = logging.getLogger(__name__)


def run_worker(cfg: Any) -> None:
    from .extensions import socketio
    from .livefeed import bind_publisher
    from .root import Desk

    if not bind_publisher(socketio, cfg):
        log.warning("no [desk] message_queue: the dashboards will not see this worker's live events")
    desk = Desk(cfg, role="worker")
    stop = threading.Event()

    def on_signal(signum: int, _frame: Any) -> None:
        log.info("worker %d: signal %d, stopping", os.getpid(), signum)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    desk.start()
    print(f"舆情值班台工作进程已启动（pid {os.getpid()}，帖子库 {cfg['store']['backend']}）", file=sys.stderr,
          flush=True)
    try:
        while not stop.wait(1.0):
            pass
    finally:
        try:
            desk.stop()
        finally:  # a failing stop (its last analyzer state not saved) still closes the store and the state database
            desk.close()
