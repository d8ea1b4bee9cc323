"""Make the 2M-post SQLite file of bench/dashboard_scale.py by doubling its cached 1M file in SQL (minutes instead
of the ~20 min a load through ``SQLiteStore.index`` takes on a loaded machine).

    .venv/bin/python bench/double_store.py [--posts 1000000]

Copies ``.cache/dashboard_scale/sqlite-<N>/var/posts.db`` to ``sqlite-<2N>/var/posts.db`` and adds, for each post,
a copy with its own source id (``<source_id>-2``, so its own post id), ``mid`` and ``repost_of`` (the copies' repost
chains stay among the copies), the same time, event, text and analysis; its FTS rows (words and bigrams) are copied
from the index's content, and every rollup count doubles (same times, same values). Writes ``loaded.json`` with the
1M file's load time, so dashboard_scale.py reuses the result while the 1M file is fresh. Delete the directory after.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from opinion_desk.models import post_id  # noqa: E402

CACHE = REPO / ".cache" / "dashboard_scale"
CHUNK = 50_000


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


def double(src: Path, dst: Path) -> None:
    shutil.copyfile(src, dst)
    c = sqlite3.connect(dst, isolation_level=None)
    c.create_function("pid", 2, post_id, deterministic=True)
    c.execute("PRAGMA journal_mode=DELETE")
    c.execute("PRAGMA synchronous=OFF")
    c.execute("PRAGMA cache_size=-800000")
    lo, hi = c.execute("SELECT MIN(rowid), MAX(rowid) FROM posts").fetchone()
    off = hi
    cols = [r[1] for r in c.execute("PRAGMA table_info(posts)")]
    doc = ("json_set(doc, '$.source_id', json_extract(doc, '$.source_id') || '-2', "
           "'$.mid', CASE WHEN json_extract(doc, '$.mid') <> '' THEN json_extract(doc, '$.mid') || '-2' ELSE '' END, "
           "'$.repost_of', CASE WHEN json_extract(doc, '$.repost_of') <> '' "
           "THEN json_extract(doc, '$.repost_of') || '-2' ELSE '' END)")
    sel = {c_: c_ for c_ in cols}
    sel["id"] = "pid(source, json_extract(doc, '$.source_id') || '-2')"
    sel["doc"] = doc
    t0 = time.perf_counter()
    for a in range(lo, hi + 1, CHUNK):
        b = min(hi, a + CHUNK - 1)
        c.execute("BEGIN")
        c.execute(f"INSERT INTO posts(rowid, {', '.join(cols)}) SELECT rowid + {off}, "
                  f"{', '.join(sel[x] for x in cols)} FROM posts WHERE rowid BETWEEN ? AND ?", (a, b))
        for fts in ("posts_fts", "posts_grams"):
            col = "terms" if fts == "posts_fts" else "grams"
            c.execute(f"INSERT INTO {fts}(rowid, {col}) SELECT id + {off}, c0 FROM {fts}_content "
                      "WHERE id BETWEEN ? AND ?", (a, b))
        c.execute("COMMIT")
        el = time.perf_counter() - t0
        log(f"  {b - lo + 1:,}/{hi - lo + 1:,} copies ({(b - lo + 1) / el:,.0f}/s)")
    c.execute("BEGIN")
    for t in ("rollup_minute", "rollup_hour", "rollup_total"):
        c.execute(f"UPDATE {t} SET n = n * 2")
    c.execute("COMMIT")
    log("rollups doubled; ANALYZE")
    c.execute("ANALYZE")
    c.execute("PRAGMA journal_mode=WAL")
    c.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000, help="the cached file to double")
    a = ap.parse_args()
    src = CACHE / f"sqlite-{a.posts}"
    dst = CACHE / f"sqlite-{2 * a.posts}"
    marker = json.loads((src / "loaded.json").read_text())
    if dst.exists():
        shutil.rmtree(dst)
    (dst / "var").mkdir(parents=True)
    log(f"doubling {src / 'var' / 'posts.db'} into {dst / 'var' / 'posts.db'}")
    t = time.perf_counter()
    double(src / "var" / "posts.db", dst / "var" / "posts.db")
    n = sqlite3.connect(dst / "var" / "posts.db").execute("SELECT COUNT(*) FROM posts").fetchone()[0]
    if n != 2 * a.posts:
        raise SystemExit(f"double_store: {n:,} posts, expected {2 * a.posts:,}")
    (dst / "loaded.json").write_text(json.dumps({"n": 2 * a.posts, "end": marker["end"],
                                                 "seconds": time.perf_counter() - t, "doubled_from": a.posts}))
    log(f"done in {time.perf_counter() - t:.0f} s: {n:,} posts")


if __name__ == "__main__":
    main()
