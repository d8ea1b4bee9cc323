"""The rules' side of the rule feed: the holder of the rules lease reads the feed from its committed cursor, in
order, into the engine, and commits the cursor after each batch.

A holder killed after the engine saw a batch but before the commit leaves the batch to its successor, which feeds
it again: the engine counts a post id once (its applied-posts memory) and an alert's match key is unique, so the
replay neither double-counts nor alerts twice.
"""

from __future__ import annotations

import logging

from ..models import Post
from ..state.rule_feed import RuleFeed
from .engine import Engine

log = logging.getLogger(__name__)

CURSOR = "rules"


class FeedReader:
    def __init__(self, feed: RuleFeed, engine: Engine, name: str = CURSOR, batch: int = 500,
                 prune_every: int = 20) -> None:
        self.feed = feed
        self.engine = engine
        self.name = name  # the cursor's name in rule_feed_cursors
        self.batch = batch
        self.prune_every = prune_every  # batches between two prunes of what the cursor passed
        self._batches = 0

    def run_once(self) -> int:
        """Feed the engine the next batch after the cursor; returns how many posts (0: caught up)."""
        cursor = self.feed.cursor(self.name)
        items = self.feed.after(cursor, self.batch)
        if not items:
            return 0
        posts = [Post.from_dict(i.post, where=f"rule_feed#{i.seq}") for i in items]
        self.engine.on_posts(posts)
        self.feed.commit(self.name, items[-1].seq)
        self._batches += 1
        if self._batches % self.prune_every == 0:
            self.feed.prune()
        return len(items)

    def catch_up(self, max_batches: int = 100) -> int:
        """Batches until caught up (or ``max_batches``); returns the posts fed."""
        n = 0
        for _ in range(max_batches):
            got = self.run_once()
            n += got
            if got < self.batch:
                break
        return n
