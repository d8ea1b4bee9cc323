"""Desk memory during a large import: the RSS of ``opinion-desk import`` over N posts (default 1,000,000), sampled
every second, against baselines measured in the same run on the same file.

The posts are real Weibo texts (``../shared/data/weibo/*.jsonl``: the sentiment and rumour sets and every post of
the event cascades) recycled with fresh ids, authors and times spread over one month, so terms and topics keep
arriving as they do on a desk: about a third of the posts carry a hashtag from a pool that grows through the month
(new events), and each cycle through the texts prefixes some with a different place name. Runs, each in its own
subprocess on a fresh data directory (embedded SQLite store):

- ``analyzer``: the analyzer alone (``analyzers.Analyzer().analyze`` in batches of 500, no store, no rules);
- ``norules``: ``opinion-desk import`` with an empty rules directory;
- ``rules``: ``opinion-desk import`` with the shipped rules (``rules/``).

Printed for each: RSS at every 10 % of the posts, the peak, and peak(all posts) / peak(first 25 %) (1.0 = flat);
then each run's peak against the analyzer-only peak.

    .venv/bin/python bench/import_memory.py [--posts 1000000] [--runs analyzer,norules,rules] [--keep-file F]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
from bench.common import tree_rss_mb  # noqa: E402
DATA = REPO.parent / "shared" / "data" / "weibo"
CLI = [sys.executable, "-c", "from opinion_desk.cli import main; main()"]
PLACES = ["青山县", "东城区", "南湖镇", "西岭乡", "北关街道", "河口市", "石桥村", "新城区", "临江县", "白沙镇"]
BATCH = 500


# -- the posts ---------------------------------------------------------------------------------------------------
def real_texts() -> list[str]:
    texts: list[str] = []
    for name in ("sentiment_dev.jsonl", "rumour_dev.jsonl", "event_streams_dev.jsonl"):
        path = DATA / name
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                if "posts" in rec:
                    texts += [p["text"] for p in rec["posts"] if p.get("text")]
                elif rec.get("text"):
                    texts.append(rec["text"])
    if not texts:
        raise SystemExit(f"bench: no texts in {DATA}")
    return [t for t in dict.fromkeys(texts) if t.strip()]


def write_posts(path: Path, n: int, seed: int = 15) -> int:
    """N posts as desk JSONL, event times in order over the month before now; returns the distinct texts used."""
    rng = random.Random(seed)
    texts = real_texts()
    rng.shuffle(texts)
    words = [w for t in texts[:20000] for w in (t[i:i + 2] for i in range(0, min(len(t), 12), 3))
             if len(w) == 2 and all("\u4e00" <= c <= "\u9fff" for c in w)]
    end = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(hours=1)
    start = end - timedelta(days=30)
    step = (end - start) / max(1, n)
    tags: list[str] = []
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            text = texts[i % len(texts)]
            cycle = i // len(texts)
            if cycle and rng.random() < 0.3:
                text = PLACES[(i + cycle) % len(PLACES)] + text
            if rng.random() < 0.002 or not tags:  # a new event's hashtag (about 2,000 over 1M posts)
                tags.append(f"#{rng.choice(PLACES)}{rng.choice(words)}{rng.choice(words)}#")
            if rng.random() < 0.33:  # recent events are talked about most
                text = f"{tags[-1 - min(len(tags) - 1, int(rng.expovariate(0.1)))]}{text}"
            t = start + step * i
            f.write(json.dumps({"id": f"im{i}", "source": "weibo", "text": text,
                                "author": f"u{rng.randrange(200_000)}", "created_at": t.isoformat()},
                               ensure_ascii=False) + "\n")
    return len(texts)


# -- RSS -------------------------------------------------------------------------------------------------------


def run_sampled(cmd: list[str], env: dict, cwd: Path, progress, n: int, label: str) -> dict:  # noqa: ANN001
    """Run ``cmd``, sampling RSS every second and the posts done (``progress()``); RSS at each 10 %."""
    t0 = time.monotonic()
    log = open(cwd / f"{label}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    samples: list[tuple[float, int, float]] = []  # (seconds, posts done, RSS MB)
    marks: dict[int, float] = {}
    next_mark = 1
    while proc.poll() is None:
        time.sleep(1.0)
        rss = tree_rss_mb(proc.pid)
        done = progress()
        if rss:
            samples.append((time.monotonic() - t0, done, rss))
        while next_mark <= 10 and done >= n * next_mark / 10:
            peak = max(s[2] for s in samples)
            marks[next_mark * 10] = peak
            print(f"  {label:8s} {next_mark * 10:3d} %  ({done:8d} posts, {time.monotonic() - t0:6.0f} s)  "
                  f"RSS {rss:6.0f} MB  peak so far {peak:6.0f} MB", flush=True)
            next_mark += 1
    log.close()
    secs = time.monotonic() - t0
    text = (cwd / f"{label}.log").read_text(errors="replace")
    # exit code 1 with its summary line: the import counted some failed lines or posts (shown in the tail)
    if proc.returncode != 0 and not (proc.returncode == 1 and " posts read, " in text):
        raise SystemExit(f"bench: {label} exited {proc.returncode}:\n{text[-3000:]}")
    peak = max((s[2] for s in samples), default=0.0)
    quarter = max((s[2] for s in samples if s[1] <= n / 4), default=peak)
    return {"label": label, "secs": secs, "peak": peak, "peak_25": quarter, "marks": marks,
            "rate": n / secs, "tail": text.strip().splitlines()[-2:]}


def import_run(file: Path, n: int, tmp: Path, rules: Path | None, label: str) -> dict:
    work = tmp / label
    work.mkdir()
    rules_dir = rules or (work / "rules")
    rules_dir.mkdir(exist_ok=True)
    (work / "sources").mkdir()
    conf = work / "desk.toml"
    conf.write_text(f'[desk]\ndata_dir = "{work / "var"}"\n\n[rules]\ndir = "{rules_dir}"\n\n'
                    f'[collectors]\nsources_dir = "{work / "sources"}"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("OPINION_DESK_CONFIG", None)
    imports = work / "var" / "imports"

    def progress() -> int:
        try:
            for p in imports.glob("*.json"):
                return int(json.loads(p.read_text(encoding="utf-8"))["read"])
        except (OSError, ValueError, KeyError):
            pass
        return 0

    return run_sampled([*CLI, "--config", str(conf), "import", str(file)], env, work, progress, n, label)


def analyzer_run(file: Path, n: int, tmp: Path) -> dict:
    work = tmp / "analyzer"
    work.mkdir()
    prog = work / "progress"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child-analyze", str(file), "--progress-file", str(prog)]

    def progress() -> int:
        try:
            return int(prog.read_text() or 0)
        except (OSError, ValueError):
            return 0

    return run_sampled(cmd, env, work, progress, n, "analyzer")


def child_analyze(file: str, progress_file: str) -> None:
    """The analyzer-only run: what the import's pipeline asks of the analyzer, batch by batch, nothing else."""
    sys.path.insert(0, str(REPO))
    import analyzers

    a = analyzers.Analyzer().load()
    done = 0
    batch: list[dict] = []
    with open(file, encoding="utf-8") as f:
        for line in f:
            rec = json.loads(line)
            batch.append({"id": rec["id"], "text": rec["text"], "title": ""})
            if len(batch) >= BATCH:
                a.analyze(batch)
                done += len(batch)
                batch = []
                if done % 5000 == 0:
                    Path(progress_file).write_text(str(done))
    if batch:
        a.analyze(batch)
    Path(progress_file).write_text(str(done + len(batch)))
    topics = a.topics
    print(f"analyzer state: {len(a.keywords.terms)} IDF terms, {len(topics)} topics")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=1_000_000, help="posts to import (default 1,000,000)")
    ap.add_argument("--runs", default="analyzer,norules,rules",
                    help="which runs, comma-separated: analyzer, norules, rules (default all three)")
    ap.add_argument("--rules", default=str(REPO / "rules"), help="rules directory of the 'rules' run")
    ap.add_argument("--keep-file", default=None, help="write the posts here (and reuse it when it has N lines)")
    ap.add_argument("--child-analyze", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--progress-file", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child_analyze:
        child_analyze(args.child_analyze, args.progress_file)
        return

    with tempfile.TemporaryDirectory(prefix="import-memory-") as tmpname:
        tmp = Path(tmpname)
        file = Path(args.keep_file) if args.keep_file else tmp / "posts.jsonl"
        t = time.monotonic()
        if file.is_file() and sum(1 for _ in open(file, "rb")) == args.posts:
            print(f"posts: reusing {file}")
        else:
            k = write_posts(file, args.posts)
            print(f"posts: {args.posts} from {k} distinct real texts, written in {time.monotonic() - t:.0f} s "
                  f"({file.stat().st_size / 1e6:.0f} MB)")
        results = []
        for run in [r.strip() for r in args.runs.split(",") if r.strip()]:
            print(f"run {run}:", flush=True)
            if run == "analyzer":
                results.append(analyzer_run(file, args.posts, tmp))
            elif run in ("norules", "rules"):
                results.append(import_run(file, args.posts, tmp, Path(args.rules) if run == "rules" else None, run))
            else:
                raise SystemExit(f"bench: unknown run {run!r}")
            r = results[-1]
            print(f"  {run}: {r['secs']:.0f} s ({r['rate']:.0f} posts/s); " + " | ".join(r["tail"]), flush=True)

    print(f"\nimport memory, {args.posts} posts (RSS of the process tree, MB)")
    print(f"{'run':8s} " + " ".join(f"{p:>5d}%" for p in range(10, 101, 10)) + "   peak  peak/peak@25%  posts/s")
    for r in results:
        print(f"{r['label']:8s} " + " ".join(f"{r['marks'].get(p, 0):6.0f}" for p in range(10, 101, 10))
              + f"  {r['peak']:5.0f}  {r['peak'] / r['peak_25']:13.2f}  {r['rate']:7.0f}")
    base = next((r for r in results if r["label"] == "analyzer"), None)
    if base:
        for r in results:
            if r is not base:
                print(f"peak {r['label']} / peak analyzer-only: {r['peak'] / base['peak']:.2f}  "
                      f"(+{r['peak'] - base['peak']:.0f} MB)")
    full = next((r for r in results if r["label"] == "rules"), None)
    if full:
        print(f"goal: peak with the shipped rules <= 400 MB: {'yes' if full['peak'] <= 400 else 'NO'} "
              f"({full['peak']:.0f} MB)")


if __name__ == "__main__":
    main()
