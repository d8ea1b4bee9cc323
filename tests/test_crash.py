"""kill -9 the real desk within 0.5 s of acknowledging 1,000-post batches, restart it: nothing acknowledged is
lost and nothing is stored twice (issue 15). The full ten rounds with figures: bench/crash_ingest.py."""

from __future__ import annotations

from bench.crash_ingest import crash_rounds


def test_acknowledged_posts_survive_kill_9(tmp_path):
    fig = crash_rounds(tmp_path, rounds=3, batches=2, size=1000, log=lambda _s: None)
    assert fig.acknowledged == 6000
    assert (fig.lost, fig.duplicated, fig.unexpected) == (0, 0, 0)
    assert fig.stored == 6000
    assert max(fig.inbox_at_restart) > 0  # the kills did land before the posts were stored: replay was needed
    log = (tmp_path / "desk.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in log


def test_acknowledged_posts_survive_kill_9_while_being_stored(tmp_path):
    fig = crash_rounds(tmp_path, rounds=2, batches=2, size=1000, log=lambda _s: None, mid_store=True)
    assert (fig.acknowledged, fig.stored, fig.lost, fig.duplicated, fig.unexpected) == (4000, 4000, 0, 0, 0)
    assert "Traceback" not in (tmp_path / "desk.log").read_text(encoding="utf-8", errors="replace")
