"""A worker's side of the ingest queue: claim posts the web processes accepted, run them through the pipeline,
add the stored ones to the rule feed, then forget them in the queue.

Order of commits makes it at-least-once and never lossy: the queue rows are deleted only after the posts are in
the store (or its spool / the dead letters) *and* in the rule feed; a worker killed anywhere before that leaves
its claim to expire and another worker does the batch again, which the posts' stable ids make harmless (the store
overwrites, the rule feed takes a post id once).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from .errors import InputError
from .models import Post
from .pipeline import Pipeline
from .state.ingest_queue import IngestQueue
from .state.rule_feed import RuleFeed

log = logging.getLogger(__name__)


@dataclass
class DrainResult:
    claimed: int = 0
    stored: int = 0  # indexed or spooled
    rejected: int = 0  # kept in the dead letters
    fed: int = 0  # newly in the rule feed


class QueueDrain:
    """``run_once()`` handles one claimed batch; a worker calls it in a loop (or as a short interval job) until it
    returns a batch of 0."""

    def __init__(self, queue: IngestQueue, pipeline: Pipeline, feed: RuleFeed | None, holder: str,
                 batch: int = 200, lease_seconds: float = 300.0) -> None:
        self.queue = queue
        self.pipeline = pipeline
        self.feed = feed  # None: one process runs the rules straight from the pipeline's hooks
        self.holder = holder
        self.batch = batch
        self.lease_seconds = lease_seconds  # longer than analysing and storing a batch can take

    def run_once(self) -> DrainResult:
        items = self.queue.claim(self.batch, self.holder, self.lease_seconds)
        out = DrainResult(claimed=len(items))
        if not items:
            return out
        posts: list[Post] = []
        unreadable: list[tuple[Post | str, str, str]] = []
        for it in items:
            try:
                posts.append(Post.from_dict(it.post, where=f"ingest_queue#{it.id}"))
            except InputError as e:  # checked when accepted, so only a changed rule of the checks lands here
                unreadable.append((json.dumps(it.post, ensure_ascii=False), str(e), f"ingest_queue#{it.id}"))
        try:
            if unreadable:
                self.pipeline.dead.add(unreadable)
            result = self.pipeline.process(posts)
            stored = [p for p in posts if p.id not in result.refused]
            if self.feed is not None and stored:
                out.fed = len(self.feed.append([p.to_dict() for p in stored]))
        except Exception:
            self.queue.release([it.id for it in items])  # another try (here or elsewhere) at once
            raise
        self.queue.done([it.id for it in items])
        out.stored = result.indexed + result.spooled
        out.rejected = result.rejected + len(unreadable)
        return out

    def drain(self, max_batches: int = 50) -> DrainResult:
        """Batches until the queue has none for us (or ``max_batches``); the totals."""
        total = DrainResult()
        for _ in range(max_batches):
            r = self.run_once()
            for k in ("claimed", "stored", "rejected", "fed"):
                setattr(total, k, getattr(total, k) + getattr(r, k))
            if not r.claimed:
                break
        return total


class QueueIntake:
    """What the ingest API submits to in a web process, and what a worker's collectors hand their posts to: the
    posts go into the ingest queue (committed, so durable,
    when :meth:`submit` returns) and a worker's :class:`QueueDrain` analyses and stores them."""

    def __init__(self, queue: IngestQueue) -> None:
        self.queue = queue

    def submit(self, posts: list[Post]) -> None:
        from .errors import StoreError

        try:
            self.queue.put([p.to_dict() for p in posts])
        except Exception as e:  # the state database is away: the API answers 503 and the sender sends again
            raise StoreError(f"ingest queue: {e}") from e

    def process(self, posts: list[Post]) -> None:
        """A collector's run (the scheduler calls this): its posts join the queue, so the one worker that holds
        the analysis lease analyses them with every other post (topics and events are clustered in one place)."""
        self.submit(posts)
