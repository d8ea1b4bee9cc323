"""Indexing rate of the post stores against the raw APIs underneath them, on the same documents.

    PYTHONPATH=. .venv/bin/python bench/store.py [-n 20000] [--batch 500] [--port 9250]

Elasticsearch: ``ElasticStore.index`` vs ``client.bulk(operations=...)`` of the very documents it builds (same
index names, ids and batch size), against the local node ensured by ``esnode`` on --port (fresh indices,
deleted afterwards). SQLite: ``SQLiteStore.index`` vs a raw ``executemany`` of the same rows into a bare table.
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from opinion_desk.esnode import ensure_node  # noqa: E402
from opinion_desk.models import Post  # noqa: E402
from opinion_desk.store import to_us  # noqa: E402
from opinion_desk.store.elastic import ElasticStore  # noqa: E402
from opinion_desk.store.sqlite import SQLiteStore  # noqa: E402

WORDS = ("暴雨 地铁 停运 积水 学校 食堂 投诉 回应 政府 通报 网友 视频 现场 救援 医院 交通 事故 官方 辟谣 谣言 "
         "物价 房价 就业 疫苗 停电 供水 发布会 记者 调查 处理 🔥 😡 👍").split()


def make_posts(n: int) -> list[Post]:
    rnd = random.Random(42)
    t0 = datetime(2024, 5, 1, tzinfo=timezone.utc)
    out = []
    for i in range(n):
        toks = rnd.choices(WORDS, k=rnd.randint(8, 40))
        out.append(Post(source=rnd.choice(["weibo-search", "rss-gov-sz", "ingest"]), source_id=str(i),
                        text="".join(toks), created_at=t0 + timedelta(seconds=i * 97), title="",
                        author=f"用户{rnd.randint(1, 500)}", author_type=rnd.choice(["gov", "media", "user"]),
                        sentiment=rnd.uniform(-1, 1), sentiment_label=rnd.choice(["negative", "neutral", "positive"]),
                        topic_id=f"t{rnd.randint(1, 30)}", tokens=toks, keywords=toks[:5], hashtags=toks[:1],
                        raw={"mid": str(i), "text": "".join(toks), "user": {"name": f"用户{i % 500}"}}))
    return out


def rate(n: int, seconds: float) -> str:
    return f"{n / seconds:10,.0f} docs/s  ({seconds:6.2f} s)"


def _fresh(url: str, tag: str) -> ElasticStore:
    return ElasticStore(url, index_prefix=f"bench-{tag}-{uuid.uuid4().hex[:8]}", segment=str.split, request_timeout=120)


def bench_elastic(posts: list[Post], batch: int, port: int, home: str | None, rounds: int) -> None:
    from opinion_desk.store.base import PostQuery

    url = ensure_node(port=port, home=home)
    print(f"Elasticsearch node {url}: {len(posts):,} posts, batches of {batch}, best of {rounds} rounds "
          f"(fresh indices each, after a warm-up)")
    builder = _fresh(url, "ops")
    ops_batches = []
    for i in range(0, len(posts), batch):
        ops: list[dict] = []
        for p in posts[i:i + batch]:
            ops.append({"index": {"_index": None, "_id": p.id}})
            ops.append(builder._doc(p))
        ops_batches.append(ops)
    builder.close()

    def run_raw() -> float:
        s = _fresh(url, "raw")
        try:
            s.ensure_template()  # same template (mappings, alias): both write identical indices
            for ops in ops_batches:
                for j in range(0, len(ops), 2):
                    ops[j]["index"]["_index"] = s.index_name(datetime.fromisoformat(ops[j + 1]["created_at"]))
            t = time.perf_counter()
            for ops in ops_batches:
                resp = s.client.bulk(operations=ops)
                assert not resp["errors"]
            took = time.perf_counter() - t
            s.refresh()
            assert s.count(PostQuery()) == len(posts)
            return took
        finally:
            s.delete_all()
            s.close()

    def run_store(n: int = len(posts)) -> float:
        s = _fresh(url, "store")
        try:
            t = time.perf_counter()
            for i in range(0, n, batch):
                res = s.index(posts[i:min(i + batch, n)])
                assert not res.errors, res.errors[:3]
            took = time.perf_counter() - t
            s.refresh()
            assert s.count(PostQuery()) == n
            return took
        finally:
            s.delete_all()
            s.close()

    run_store(min(len(posts), 5000))  # warm-up: JIT, first index creation
    raw_s = store_s = float("inf")
    for _ in range(rounds):
        raw_s = min(raw_s, run_raw())
        store_s = min(store_s, run_store())
    print(f"  raw client.bulk (docs prebuilt) {rate(len(posts), raw_s)}")
    print(f"  ElasticStore.index              {rate(len(posts), store_s)}")
    print(f"  ratio store/raw                 {raw_s / store_s:10.2f}x")


def bench_sqlite(posts: list[Post], batch: int) -> None:
    print(f"SQLite: {len(posts):,} posts, batches of {batch}")
    with tempfile.TemporaryDirectory() as d:
        rows = [(p.id, to_us(p.created_at), p.source, p.author, p.author_type, p.region, p.topic_id,
                 p.sentiment_label, p.rumour_score, json.dumps(p.tokens, ensure_ascii=False),
                 json.dumps(p.keywords, ensure_ascii=False), json.dumps(p.hashtags, ensure_ascii=False),
                 json.dumps(p.to_dict(), ensure_ascii=False)) for p in posts]
        con = sqlite3.connect(f"{d}/raw.db", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("CREATE TABLE posts (id TEXT PRIMARY KEY, created_at INTEGER, source TEXT, author TEXT, "
                    "author_type TEXT, region TEXT, topic_id TEXT, sentiment_label TEXT, rumour_score REAL, "
                    "tokens TEXT, keywords TEXT, hashtags TEXT, doc TEXT)")
        t = time.perf_counter()
        for i in range(0, len(rows), batch):
            con.execute("BEGIN")
            con.executemany(f"INSERT OR REPLACE INTO posts VALUES ({', '.join('?' * 13)})", rows[i:i + batch])
            con.execute("COMMIT")
        raw_s = time.perf_counter() - t
        con.close()

        store = SQLiteStore(f"{d}/store.db", segment=str.split)
        t = time.perf_counter()
        for i in range(0, len(posts), batch):
            store.index(posts[i:i + batch])
        store_s = time.perf_counter() - t
        store.close()
        print(f"  raw executemany (rows prebuilt) {rate(len(posts), raw_s)}")
        print(f"  SQLiteStore.index (+FTS5)       {rate(len(posts), store_s)}")
        print(f"  ratio store/raw                 {raw_s / store_s:10.2f}x")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20_000)
    ap.add_argument("--batch", type=int, default=500)
    ap.add_argument("--port", type=int, default=9250)
    ap.add_argument("--home", default=str(Path(__file__).resolve().parents[1] / ".cache" / "es"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--skip-es", action="store_true")
    a = ap.parse_args()
    posts = make_posts(a.n)
    bench_sqlite(posts, a.batch)
    if not a.skip_es:
        bench_elastic(posts, a.batch, a.port, a.home, a.rounds)


if __name__ == "__main__":
    main()
