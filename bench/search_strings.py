"""String search (words + character bigrams) and the evidence index, against what the same run's plain paths cost.

    PYTHONPATH=. .venv/bin/python bench/search_strings.py [-n 200000] [--rounds 5]

A fresh SQLite store gets ``n`` posts made from the demo posts (each with a unique 编号, segmented by the desk's
analyzer once per demo text), and an evidence archive their raw payloads. It times, best of ``rounds``:

- baseline: a word-only search (the FTS5 word index, what search did before issue 16) for the same query;
- string: :meth:`SQLiteStore.search` with words OR strings (what 检索 does now), newest first and by relevance;
- evidence: one post's captures through the index (:meth:`EvidenceArchive.captures`) against the old scan of the
  whole archive (:meth:`EvidenceArchive.locate`).

It prints each time and its ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analyzers import segment  # noqa: E402
from opinion_desk.collectors.evidence import EvidenceArchive  # noqa: E402
from opinion_desk.models import Post  # noqa: E402
from opinion_desk.store.base import PostQuery  # noqa: E402
from opinion_desk.store.sqlite import SQLiteStore, _hex  # noqa: E402

DEMO = Path(__file__).resolve().parents[1] / "opinion_desk" / "demo" / "posts.jsonl"
QUERIES = ["东河桥", "园区爆炸", "化工园区", "青山", "编号12345"]


def best(fn, rounds: int) -> float:  # noqa: ANN001
    ts = []
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return min(ts) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=200_000, help="posts in the store (default 200000)")
    ap.add_argument("--rounds", type=int, default=5, help="best of this many runs (default 5)")
    a = ap.parse_args()
    demo = [json.loads(line) for line in DEMO.read_text(encoding="utf-8").splitlines() if line.strip()]
    toks = {d["source_id"]: segment(d["text"]) for d in demo}
    t0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
    with tempfile.TemporaryDirectory() as tmp:
        store = SQLiteStore(Path(tmp) / "posts.db", segment=segment)
        archive = EvidenceArchive(Path(tmp) / "evidence")
        batch: list[Post] = []
        for i in range(a.n):
            d = demo[i % len(demo)]
            text = f"{d['text']} 编号{i}"
            batch.append(Post(source="bench", source_id=str(i), text=text, created_at=t0 + timedelta(seconds=30 * i),
                              collected_at=t0 + timedelta(seconds=30 * i), tokens=toks[d["source_id"]] + [f"编号{i}"],
                              author=d["author"], raw={"mblog": {"mid": str(i), "text": text}}))
            if len(batch) == 5000 or i == a.n - 1:
                store.index(batch)
                archive.write(batch)
                batch = []
            if (i + 1) % 50_000 == 0:
                print(f"  {i + 1} posts stored and archived", file=sys.stderr)
        print(f"{a.n} posts, best of {a.rounds} (ms; ratio to the word-only search of the same query)")
        print(f"{'query':<10} {'words':>8} {'string':>8} {'ratio':>6} {'relevance':>10} {'ratio':>6} {'hits':>8}")
        for text in QUERIES:
            match = " ".join(f'"{_hex(t)}"' for t in segment(text))

            def words() -> None:
                store._query("SELECT COUNT(*) FROM posts WHERE rowid IN (SELECT rowid FROM posts_fts WHERE "  # noqa: B023
                             "posts_fts MATCH ?)", [match])  # noqa: B023
                store._query("SELECT doc FROM posts WHERE rowid IN (SELECT rowid FROM posts_fts WHERE posts_fts "
                             "MATCH ?) ORDER BY created_at DESC LIMIT 20", [match])  # noqa: B023

            base = best(words, a.rounds)
            new = best(lambda: store.search(PostQuery(text=text)), a.rounds)  # noqa: B023
            rel = best(lambda: store.search(PostQuery(text=text, sort="relevance")), a.rounds)  # noqa: B023
            hits = store.count(PostQuery(text=text))
            print(f"{text:<10} {base:8.1f} {new:8.1f} {new / max(base, 0.01):6.1f} {rel:10.1f} "
                  f"{rel / max(base, 0.01):6.1f} {hits:8d}")
        pid = Post(source="bench", source_id=str(a.n // 2), text="x", created_at=t0).id
        scan = best(lambda: list(archive.locate(pid)), 1)
        index = best(lambda: archive.captures(pid), a.rounds)
        print(f"evidence of one post: scan {scan:.1f} ms, index {index:.2f} ms (ratio {index / scan:.5f})")
        store.close()


if __name__ == "__main__":
    main()
