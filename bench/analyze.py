"""Throughput and memory of the analysis stack, as ratios against baselines measured in the same run.

    PYTHONPATH=. .venv/bin/python bench/analyze.py [--posts 20000] [--snownlp 300] [--workers 0]

Prints posts/s of: stock SnowNLP sentiments (small sample), plain jieba.lcut, the full Analyzer on one core and
with all cores; the ratios; and the RSS of the loaded stack measured in a fresh subprocess.
Uses real Weibo posts from ../shared/data/weibo when present, else synthetic posts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "weibo"

RSS_PROBE = r"""
import sys; sys.path.insert(0, %r)
def rss():
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
base = rss()
import analyzers
a = analyzers.Analyzer().load()
a.analyze([{"id": str(i), "text": "网传某地暴雨，紧急扩散！#河南暴雨# @人民日报 [泪]" * (i %% 3 + 1)} for i in range(2000)])
print(f"{base:.1f} {rss():.1f}")
"""


def load_posts(n: int) -> list[dict]:
    posts: list[dict] = []
    for name in ("sentiment_dev.jsonl", "rumour_dev.jsonl"):
        p = DATA / name
        if p.is_file():
            with open(p, encoding="utf-8") as f:
                posts.extend({"id": r["id"], "text": r["text"]} for r in map(json.loads, f))
    if not posts:
        base = ["网传某地暴雨导致地铁停运，紧急扩散！#河南暴雨# @人民日报 [泪]", "今天天气真好，感谢消防员[赞]",
                "【通报】关于网传某小区强拆一事的情况说明 http://t.cn/xyz"]
        posts = [{"id": str(i), "text": base[i % 3] + str(i)} for i in range(n)]
    while len(posts) < n:
        posts = posts + [{"id": p["id"] + "x", "text": p["text"]} for p in posts]
    return posts[:n]


def rate(fn, n: int) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--posts", type=int, default=20000)
    ap.add_argument("--snownlp", type=int, default=300, help="posts for the stock SnowNLP baseline (0 = skip)")
    ap.add_argument("--workers", type=int, default=0, help="processes for the parallel run (0 = every core)")
    args = ap.parse_args()
    pool = load_posts(2 * args.posts)
    posts, others = pool[: args.posts], pool[args.posts:]  # others: a different stream that warms a running desk
    texts = [p["text"] for p in posts]
    print(f"{len(posts)} posts, mean {sum(map(len, texts)) / len(texts):.0f} chars, from "
          f"{'../shared/data/weibo' if (DATA / 'sentiment_dev.jsonl').is_file() else 'synthetic text'}; "
          f"{os.cpu_count()} cores")

    import jieba
    jieba.setLogLevel(60)
    jieba.initialize()
    jieba.lcut(texts[0])
    r_jieba = rate(lambda: [jieba.lcut(t) for t in texts], len(texts))

    r_snow = None
    if args.snownlp:
        from snownlp import SnowNLP
        sample = texts[: args.snownlp]
        SnowNLP(sample[0]).sentiments
        r_snow = rate(lambda: [SnowNLP(t).sentiments for t in sample], len(sample))

    from analyzers import Analyzer
    a = Analyzer().load()
    a.analyze(posts[:200])
    a1 = Analyzer().load()
    r_one = rate(lambda: a1.analyze(posts), len(posts))
    del a1
    a2 = Analyzer().load()  # before the warm analyzer: forked workers should not inherit its heap
    from analyzers.parallel import cpu_count
    workers = args.workers or cpu_count()
    r_par = rate(lambda: list(a2.analyze_parallel(posts, workers=workers)), len(posts))
    del a2
    aw = Analyzer().load()
    aw.analyze(others)  # steady state: token, word and vocabulary caches filled by other posts, as in a running desk
    r_warm = rate(lambda: aw.analyze(posts), len(posts))

    out = subprocess.run([sys.executable, "-c", RSS_PROBE % str(ROOT)], capture_output=True, text=True, check=True)
    base_rss, rss = map(float, out.stdout.split())

    print(f"{'stock SnowNLP(text).sentiments':34} {r_snow or float('nan'):10.0f} posts/s  (on {args.snownlp} posts)")
    print(f"{'plain jieba.lcut':34} {r_jieba:10.0f} posts/s")
    print(f"{'Analyzer.analyze, one core':34} {r_one:10.0f} posts/s  (a fresh analyzer)")
    print(f"{'Analyzer.analyze, one core, warm':34} {r_warm:10.0f} posts/s  (after {len(others)} other posts)")
    print(f"{'Analyzer.analyze_parallel, ' + str(workers) + ' procs':34} {r_par:10.0f} posts/s")
    print(f"ratios: one core / jieba.lcut = {r_one / r_jieba:.2f}x fresh, {r_warm / r_jieba:.2f}x warm"
          + (f", one core / SnowNLP = {r_one / r_snow:.0f}x fresh, {r_warm / r_snow:.0f}x warm" if r_snow else "")
          + f", parallel / one core = {r_par / r_one:.2f}x")
    from analyzers import features, topics
    print("topic clusterer: " + ("compiled (analyzers/_topics.c)" if topics.COMPILED
                                 else "the pure-Python reference (analyzers._topics was not built)")
          + "; count-once sums: " + ("compiled (analyzers/_features.c)" if features.COMPILED
                                     else "the numpy reference (analyzers._features was not built)"))
    print(f"RSS of a fresh process with the loaded stack: {rss:.0f} MB (interpreter alone {base_rss:.0f} MB)")


if __name__ == "__main__":
    main()
