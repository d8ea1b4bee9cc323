"""Topic clustering alone: the compiled clusterer against the pure-Python reference, on the same posts in one run.

    PYTHONPATH=. .venv/bin/python bench/topics.py [--posts 20000]

The pipeline's own inputs ((post id, SimHash, keywords) for real Weibo posts from ../shared/data/weibo when present)
are computed once; each implementation then assigns them fresh and warm (after as many other posts, as a running
desk is), with process CPU time, best of three. Also checks that both return the same topics.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20000)
    args = ap.parse_args()
    from analyze import load_posts

    from analyzers import Analyzer, topics

    if not topics.COMPILED:
        sys.exit("analyzers._topics was not built: install gcc and rerun `pip install -e .`")
    pool = load_posts(2 * args.posts)
    a = Analyzer().load()
    partials = a.analyze_stateless(pool)
    kws = a.keywords.extract_prepared(partials.prep, [r["tokens"] for r in partials])
    stream = [(r["id"], h, list(k)) for r, h, k in zip(partials, partials.hashes, kws) if r["tokens"]]
    others, posts = stream[: len(stream) // 2], stream[len(stream) // 2:]

    def run(cls: type, warm: list) -> tuple[float, list]:
        tc = cls()
        for x in warm:
            tc.assign(*x)
        t0 = time.process_time()
        out = [tc.assign(*x) for x in posts]
        return time.process_time() - t0, out

    gc.disable()
    rows = {}
    for cls in (topics.PyTopicClusterer, topics.TopicClusterer):
        for name, warm in (("fresh", []), ("warm", others)):
            results = [run(cls, warm) for _ in range(3)]
            rows[cls.__name__, name] = (min(t for t, _ in results), results[0][1])
    print(f"{len(posts)} posts ({len(others)} others first for 'warm'), CPU seconds, best of 3")
    for name in ("fresh", "warm"):
        (tp, op), (tc_, oc) = rows["PyTopicClusterer", name], rows["CTopicClusterer", name]
        print(f"{name:6} reference {tp:6.3f} s ({len(posts) / tp:8.0f} posts/s)   compiled {tc_:6.3f} s "
              f"({len(posts) / tc_:8.0f} posts/s)   ratio {tp / tc_:.1f}x   same topics: {op == oc}")


if __name__ == "__main__":
    main()
