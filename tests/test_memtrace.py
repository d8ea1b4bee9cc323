"""The memory hunt helper: with OPINION_DESK_TRACEMALLOC the desk writes the source lines whose allocations grew
since its first snapshot; release_freed_memory gives the C heap's free memory back and is rate-limited."""

from __future__ import annotations

import os
import time

from opinion_desk import memtrace


def test_growth_since_the_first_snapshot_is_written_with_the_growing_line(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv(memtrace.ENV, str(tmp_path / "mt"))
    monkeypatch.setenv(f"{memtrace.ENV}_FIRST", "0.05")
    monkeypatch.setenv(f"{memtrace.ENV}_EVERY", "30")
    mt = memtrace.start_from_env()
    try:
        assert mt is not None
        deadline = time.monotonic() + 10
        while mt.base is None and time.monotonic() < deadline:
            time.sleep(0.02)
        hoard = [bytearray(1000) for _ in range(20_000)]  # about 20 MB that stays
        mt.dump("test")
        text = (tmp_path / f"mt.{os.getpid()}").read_text(encoding="utf-8")
    finally:
        mt.stop()
    assert "first snapshot" in text and "test at" in text and "RSS" in text
    growth = [line for line in text.splitlines() if "test_memtrace.py" in line]
    assert growth and "size=" in growth[0]
    assert len(hoard) == 20_000


def test_no_tracing_without_the_variable(monkeypatch) -> None:
    monkeypatch.delenv(memtrace.ENV, raising=False)
    assert memtrace.start_from_env() is None


def test_release_freed_memory_is_rate_limited() -> None:
    memtrace._trimmed_at = 0.0
    memtrace.release_freed_memory()
    first = memtrace._trimmed_at
    memtrace.release_freed_memory()  # within TRIM_EVERY: nothing done
    assert memtrace._trimmed_at == first > 0
