"""The spool: posts wait on disk while the store is down, and all of them arrive once it is back."""

from __future__ import annotations

import socket
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from opinion_desk.errors import StoreUnavailable
from opinion_desk.models import Post
from opinion_desk.store.base import PostQuery
from opinion_desk.store.spool import Spool, drain, spool
from opinion_desk.store.sqlite import SQLiteStore

from .conftest import make_elastic, segment

T0 = datetime(2024, 6, 1, 8, 0, tzinfo=timezone.utc)


def posts(n: int, tag: str = "p") -> list[Post]:
    return [Post(source="weibo-search", source_id=f"{tag}{i}", text=f"第{i}条 😀", created_at=T0 + timedelta(minutes=i),
                 tokens=["离线", f"n{i}"], raw={"i": i, "文本": "原文😀"}) for i in range(n)]


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_spool_round_trip_and_order(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "spool")
    first = posts(3)
    sp.put(first)
    sp.put([replace(first[1], text="后来的版本")])  # a later version of the same post, spooled after
    (sp.dir / ".half-written.jsonl.tmp").write_text("{broken")  # a crash mid-write leaves only a tmp file
    assert sp.pending() == 4 and len(sp.files()) == 2
    store = SQLiteStore(tmp_path / "posts.db", segment=segment)
    assert sp.drain(store) == 4
    assert sp.pending() == 0 and sp.files() == []
    assert store.count(PostQuery()) == 3
    assert store.get(first[1].id).text == "后来的版本"  # type: ignore[union-attr]
    assert store.get(first[0].id) == first[0]


def test_module_functions(tmp_path: Path) -> None:
    spool(posts(5), tmp_path / "s")
    spool([], tmp_path / "s")
    store = SQLiteStore(tmp_path / "posts.db", segment=segment)
    assert drain(store, tmp_path / "s", batch_size=2) == 5
    assert drain(store, tmp_path / "s") == 0


@pytest.mark.elasticsearch
def test_elasticsearch_down_then_back(tmp_path: Path, es_url: str) -> None:
    down = make_elastic(f"http://127.0.0.1:{unused_port()}", request_timeout=2)
    up = make_elastic(es_url, index_prefix=down.prefix)  # type: ignore[attr-defined]
    sp = Spool(tmp_path / "spool")
    try:
        with pytest.raises(StoreUnavailable, match="127.0.0.1"):
            down.index(posts(1))
        assert not down.ping()
        batches = [posts(40, "a"), posts(25, "b"), posts(40, "a")]  # the last re-sends the first: no duplicates
        for b in batches:
            d = sp.index_or_spool(down, b)
            assert d.spooled == len(b) and d.indexed == 0
        assert sp.pending() == 105
        assert sp.drain(down) == 0 and sp.pending() == 105  # still down: nothing lost
        assert sp.paused()  # new batches are spooled without waiting on the store (see the next test)
        assert sp.drain(up) == 105 and not sp.paused()  # back: the drain job sends the spool, oldest first
        d = sp.index_or_spool(up, posts(5, "c"))
        assert d.indexed == 5 and d.spooled == 0 and d.errors == []
        assert sp.pending() == 0
        up.refresh()
        assert up.count(PostQuery()) == 40 + 25 + 5
        assert up.count(PostQuery(text="离线")) == 70
        assert up.get(batches[1][0].id) == batches[1][0]
    finally:
        up.delete_all()  # type: ignore[attr-defined]
        up.close()
        down.close()


@pytest.mark.elasticsearch
def test_rejected_posts_are_kept_aside(tmp_path: Path, es_url: str) -> None:
    store = make_elastic(es_url)
    sp = Spool(tmp_path / "spool")
    try:
        bad = replace(posts(1, "bad")[0], sentiment="very")  # type: ignore[arg-type]  # Elasticsearch refuses it
        path = sp.put([bad, *posts(2)])
        with open(path, "a", encoding="utf-8") as fh:
            fh.write('{"text": "no source"}\n')  # an unreadable line: reported by file and line
        errors: list[str] = []
        assert sp.drain(store, errors=errors) == 2
        assert len(errors) == 2 and any(bad.id in e for e in errors) and any(f"{path}:4" in e for e in errors)
        assert sp.files() == []
        kept = [r for f in sp.dead.files() for r in sp.dead.read(f)]  # one line per refused post, with the reason
        assert sorted(r.get("id") or r["where"] for r in kept) == sorted([bad.id, f"{path}:4"])
        assert all(r["reason"] for r in kept)
        assert next(r for r in kept if r.get("id") == bad.id)["post"]["sentiment"] == "very"
        assert sp.dead.count() == 2
    finally:
        store.delete_all()  # type: ignore[attr-defined]
        store.close()


def test_a_failed_write_leaves_no_file_and_no_tmp(tmp_path: Path) -> None:
    from opinion_desk.errors import StoreError

    sp = Spool(tmp_path / "spool")

    class Unwritable:
        def __str__(self) -> str:
            raise RuntimeError("cannot be written")

        __repr__ = __str__

    good = posts(2)
    with pytest.raises(StoreError, match="cannot write spool file"):
        sp.put([good[0], replace(good[1], raw={"x": Unwritable()})])
    assert list(sp.dir.iterdir()) == []  # neither a half file nor a .tmp


def test_lone_surrogates_and_odd_values_round_trip(tmp_path: Path) -> None:
    sp = Spool(tmp_path / "spool")
    odd = replace(posts(1)[0], title="\ud800半个", raw={"k\udfff": [1.5, 10**30]})
    sp.put([odd])
    got, bad = sp.read(sp.files()[0])
    assert bad == [] and got[0].title == odd.title and got[0].raw["k\udfff"][1] == 10**30


@pytest.mark.elasticsearch
def test_after_the_store_was_unreachable_batches_wait_without_trying_it(tmp_path: Path, es_url: str) -> None:
    """A down store costs its timeouts once, not for every batch: new batches are spooled at once during the
    pause, the drain job still tries the store, and the first drain that gets through ends the pause."""
    down = make_elastic(f"http://127.0.0.1:{unused_port()}", request_timeout=2)
    up = make_elastic(es_url, index_prefix=down.prefix)  # type: ignore[attr-defined]
    sp = Spool(tmp_path / "spool")
    try:
        assert sp.index_or_spool(down, posts(2, "a")).spooled == 2 and sp.paused()
        # the store is back, but within the pause the next batch is spooled without a try
        assert sp.index_or_spool(up, posts(2, "b")).spooled == 2 and sp.pending() == 4
        assert sp.drain(up) == 4 and not sp.paused()  # the drain job tries every time; it ends the pause
        assert sp.index_or_spool(up, posts(2, "c")).indexed == 2
        assert sp.drain(down) == 0 and not sp.paused()  # nothing spooled: the drain does not touch the store
    finally:
        up.delete_all()
        up.close()
