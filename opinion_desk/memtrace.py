"""Where the desk's memory goes, for a memory hunt on a running desk (off unless asked for); and giving the
memory that analysed batches freed back to the system (:func:`release_freed_memory`).

With ``OPINION_DESK_TRACEMALLOC=<file>`` in its environment, the desk process (the gunicorn worker of
``opinion-desk run``) traces its Python allocations (``tracemalloc``), takes a first snapshot after
``OPINION_DESK_TRACEMALLOC_FIRST`` seconds (default 60: past start-up) and then every
``OPINION_DESK_TRACEMALLOC_EVERY`` seconds (default 60) and at exit appends to ``<file>.<pid>`` the
``OPINION_DESK_TRACEMALLOC_TOP`` (default 25) source lines whose allocations grew most since that first snapshot,
with the traced total and the RSS. Tracing costs time (about 1.5-3x in allocation-heavy code): for benches only.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
import tracemalloc
from pathlib import Path
from typing import Any

ENV = "OPINION_DESK_TRACEMALLOC"
TRIM_EVERY = 1.0  # seconds: release_freed_memory() gives freed heap back to the system at most this often
_trimmed_at = 0.0
_malloc_trim: Any = None


def release_freed_memory() -> None:
    """Give the C heap's free memory back to the system (glibc ``malloc_trim``), at most every ``TRIM_EVERY``
    seconds; a no-op elsewhere. Each analysed batch frees its temporaries (texts, token lists, arrays, JSON),
    and glibc keeps what it freed for later, scattered over the heap: about 40 MB of RSS after a 100k-post
    import that the next batches did not reuse. Called by the pipeline after each batch; takes about a
    millisecond."""
    global _trimmed_at, _malloc_trim
    now = time.monotonic()
    if now - _trimmed_at < TRIM_EVERY:
        return
    _trimmed_at = now
    if _malloc_trim is None:
        try:
            import ctypes
            import ctypes.util

            _malloc_trim = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
        except (OSError, AttributeError):
            _malloc_trim = False
    if _malloc_trim:
        _malloc_trim(0)


def _rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


class MemTrace:
    """Snapshots of one process's Python allocations, their growth written to ``path``."""

    def __init__(self, path: Path, first: float = 60.0, every: float = 60.0, top: int = 25, frames: int = 4) -> None:
        self.path, self.first, self.every, self.top, self.frames = path, first, every, top, frames
        self.t0 = time.monotonic()
        self.base: tracemalloc.Snapshot | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def start(self) -> None:
        if not tracemalloc.is_tracing():
            tracemalloc.start(self.frames)
        threading.Thread(target=self._run, name="memtrace", daemon=True).start()
        atexit.register(self.dump, "exit")

    def stop(self) -> None:
        self._stop.set()
        atexit.unregister(self.dump)
        tracemalloc.stop()

    def _snapshot(self) -> tracemalloc.Snapshot:
        return tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__),
                                                           tracemalloc.Filter(False, __file__)])

    def _run(self) -> None:
        if self._stop.wait(self.first):
            return
        with self._lock:
            self.base = self._snapshot()
            self._write(f"first snapshot at {time.monotonic() - self.t0:.0f} s", [])
        while not self._stop.wait(self.every):
            self.dump("periodic")

    def dump(self, why: str) -> None:
        with self._lock:
            if self.base is None or not tracemalloc.is_tracing():
                return
            stats = self._snapshot().compare_to(self.base, "lineno")[:self.top]
            self._write(f"{why} at {time.monotonic() - self.t0:.0f} s: growth since the first snapshot", stats)

    def _write(self, head: str, stats: list) -> None:
        cur, peak = tracemalloc.get_traced_memory()
        lines = [f"== {head}; traced {cur / 1e6:.1f} MB (peak {peak / 1e6:.1f} MB), RSS {_rss_mb():.0f} MB"]
        lines += [str(s) for s in stats]
        try:
            with open(f"{self.path}.{os.getpid()}", "a", encoding="utf-8") as f:
                f.write("\n".join(lines) + "\n")
        except OSError:
            pass


def start_from_env() -> MemTrace | None:
    """Start tracing when ``OPINION_DESK_TRACEMALLOC`` names a file (see the module docstring)."""
    path = os.environ.get(ENV, "").strip()
    if not path:
        return None

    def num(name: str, default: float) -> float:
        try:
            return float(os.environ.get(f"{ENV}_{name}", default))
        except ValueError:
            return default

    mt = MemTrace(Path(path), first=num("FIRST", 60), every=num("EVERY", 60), top=int(num("TOP", 25)))
    mt.start()
    return mt
