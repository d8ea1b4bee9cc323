"""Every call the dashboard, 检索, 帖子详情 and 事件 pages make, against the real desk holding N posts, on both stores.

    .venv/bin/python bench/dashboard_scale.py [--posts 1000000 2000000] [--store sqlite elasticsearch] [--repeat 20]

Posts: the real Weibo texts of ../shared/data/weibo (sentiment and rumour sets, ~62k distinct), analysed once by the
desk's own Analyzer (cached in .cache/dashboard_scale/templates.jsonl), recycled with their own ids, authors,
sources, regions, events (500 per million), reposts and times: an office's rate held constant, so 1M posts span the
60 days before the load and 2M the 120 days (a store grows by keeping a longer history), stored in time order give
or take an hour (a crawler's lag), as a desk collects them; written in batches straight through the store API
(``SQLiteStore.index`` / ``ElasticStore.index``; no analysis per post). The SQLite file is kept under
.cache/dashboard_scale/ and reused while its newest post is under ``--max-age`` hours old; the Elasticsearch indices (prefix ``bench-scale-<N>-<pid>``, on the test node 127.0.0.1:9250) are deleted after.

Then one real desk per size (``opinion-desk run``, gunicorn) is started on its data, all at once, and each call is
timed over ``--repeat`` rounds after two warm-ups, each round asking every desk in turn (the order alternating), so
the sizes share the machine's noisy moments: p50/p95 in ms, each desk's RSS (master + worker) after all calls, and
each call's p50 and p95 ratios larger/smaller. Targets (issue 16): p95 <= 100 ms, RSS <= 400 MB,
2M/1M <= 1.3.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import time
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from bench.common import login_form as login, tree_rss_mb  # noqa: E402
from bench.common import start_desk as common_start_desk  # noqa: E402
DATA = REPO.parent / "shared" / "data" / "weibo"
CACHE = REPO / ".cache" / "dashboard_scale"
SPAN = timedelta(days=60)  # per million posts (span_of)
TOPICS = 500  # per million posts (topics_of)
LAG = 3600  # seconds a post may be stored after it was created
SOURCES = ["weibo-search", "weibo-hot", "rss-gov-sz", "news-cn", "forum-local", "ingest"]
REGIONS = ["北京", "上海", "广东", "浙江", "江苏", "四川", "湖北", "河南", "山东", "福建", "湖南", "陕西", ""]
AUTHOR_TYPES = (["user"] * 80) + (["verified"] * 12) + (["media"] * 5) + (["gov"] * 3)
BATCH = 5000


def log(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)


# data ------------------------------------------------------------------------------------------------------
def templates() -> list[dict]:
    """The distinct real texts with the Analyzer's annotations (analysed once, cached)."""
    path = CACHE / "templates.jsonl"
    if path.is_file():
        with open(path, encoding="utf-8") as f:
            return [json.loads(line) for line in f]
    texts: dict[str, None] = {}
    for name in ("sentiment_dev.jsonl", "rumour_dev.jsonl"):
        with open(DATA / name, encoding="utf-8") as f:
            for r in map(json.loads, f):
                if r.get("text", "").strip():
                    texts.setdefault(r["text"].strip(), None)
    from analyzers import Analyzer

    an = Analyzer().load()
    out: list[dict] = []
    items = list(texts)
    log(f"analysing {len(items):,} distinct real texts once (cached in {path})")
    for i in range(0, len(items), 2000):
        chunk = items[i:i + 2000]
        for t, a in zip(chunk, an.analyze([{"id": str(i + j), "text": t} for j, t in enumerate(chunk)])):
            d = a.to_dict()
            out.append({"text": t, **{k: d[k] for k in ("tokens", "keywords", "sentiment", "sentiment_label",
                                                         "simhash", "rumour_score", "rumour_cues", "hashtags",
                                                         "mentions")}})
        log(f"  {min(i + 2000, len(items)):,}/{len(items):,}")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for r in out:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    tmp.replace(path)
    return out


def span_of(n: int) -> timedelta:
    """The time ``n`` posts span: an office's rate held constant (1M posts in 60 days), so a larger store holds a
    longer history, as a desk that has run longer does."""
    return SPAN * max(n, 1) / 1_000_000


def topics_of(n: int) -> int:
    """Events among ``n`` posts: 500 per million (a longer history has more events, not larger ones)."""
    return max(1, TOPICS * n // 1_000_000)


def make_post(i: int, n: int, t: dict, end: datetime, rnd: random.Random):  # noqa: ANN201
    """Post ``i`` of ``n``: posts arrive in time order as a desk collects them, each created up to an hour before
    it is stored (a crawler's lag), so the store's insertion order is the time order give or take an hour."""
    from opinion_desk.models import Post

    topics = topics_of(n)
    topic = i % topics
    span = span_of(n).total_seconds()
    created = end - timedelta(seconds=span * (1 - (i + 0.5) / n) + rnd.random() * LAG)
    repost_of = f"m{i - topics}" if i >= topics and rnd.random() < 0.5 else ""
    return Post(source=SOURCES[i % len(SOURCES)], source_id=f"b{i}", text=t["text"], created_at=created,
                url=f"https://weibo.com/{1000 + i % 50000}/m{i}", author=f"用户{rnd.randrange(50_000)}",
                author_id=str(1000 + rnd.randrange(50_000)), author_type=rnd.choice(AUTHOR_TYPES),
                region=rnd.choice(REGIONS), platform="weibo", reposts=int(rnd.paretovariate(1.2)) - 1,
                comments=int(rnd.paretovariate(1.5)) - 1, likes=int(rnd.paretovariate(1.1)) - 1,
                collected_at=created + timedelta(seconds=30), mid=f"m{i}", repost_of=repost_of,
                tokens=t["tokens"], keywords=t["keywords"], sentiment=t["sentiment"],
                sentiment_label=t["sentiment_label"], simhash=t["simhash"], topic_id=f"ev{topic:03d}",
                topic_label=f"基准事件{topic:03d}", rumour_score=t["rumour_score"], rumour_cues=t["rumour_cues"],
                hashtags=t["hashtags"], mentions=t["mentions"],
                raw={"mid": f"m{i}", "text": t["text"], "reposts_count": 0})


def load(store, n: int, tmpl: list[dict], end: datetime) -> float:  # noqa: ANN001
    """Write ``n`` posts through ``store.index`` in batches; returns seconds."""
    rnd = random.Random(16)
    t0 = time.perf_counter()
    for i in range(0, n, BATCH):
        posts = [make_post(j, n, tmpl[(j * 7919) % len(tmpl)], end, rnd) for j in range(i, min(i + BATCH, n))]
        res = store.index(posts)
        if res.errors:
            raise SystemExit(f"bench: store refused posts: {res.errors[:3]}")
        if (i // BATCH) % 40 == 0:
            el = time.perf_counter() - t0
            log(f"  {i + len(posts):,}/{n:,} posts ({(i + len(posts)) / el:,.0f}/s)")
    return time.perf_counter() - t0


def sqlite_data(n: int, tmpl: list[dict], max_age_h: float) -> Path:
    """A data dir whose posts.db holds ``n`` posts (reused while fresh)."""
    from opinion_desk.store.sqlite import SQLiteStore

    d = CACHE / f"sqlite-{n}"
    marker = d / "loaded.json"
    if marker.is_file():
        m = json.loads(marker.read_text())
        age = (datetime.now(timezone.utc) - datetime.fromisoformat(m["end"])).total_seconds() / 3600
        if m.get("n") == n and age < max_age_h:
            log(f"SQLite {n:,}: reusing {d} (loaded {age:.1f} h ago)")
            t = time.perf_counter()
            store = SQLiteStore(d / "var" / "posts.db", segment=str.split, background_upgrade=False)
            log(f"SQLite {n:,}: opened in {time.perf_counter() - t:.2f} s, upgrade pending: {store.pending_upgrade()}")
            t = time.perf_counter()
            store.upgrade()  # a file of an older schema: brought up to date here, as `opinion-desk store upgrade`
            store.close()
            log(f"SQLite {n:,}: upgrade {time.perf_counter() - t:.1f} s")
            return d
    if d.exists():
        import shutil

        shutil.rmtree(d)
    (d / "var").mkdir(parents=True)
    end = datetime.now(timezone.utc)
    log(f"SQLite {n:,}: loading through SQLiteStore.index into {d / 'var' / 'posts.db'}")
    store = SQLiteStore(d / "var" / "posts.db", segment=str.split)
    secs = load(store, n, tmpl, end)
    store.close()
    log(f"SQLite {n:,}: loaded in {secs:.0f} s ({n / secs:,.0f} posts/s)")
    marker.write_text(json.dumps({"n": n, "end": end.isoformat(), "seconds": secs}))
    return d


def es_data(n: int, tmpl: list[dict], url: str, prefix: str) -> None:
    from opinion_desk.store.elastic import ElasticStore

    store = ElasticStore(url, index_prefix=prefix, segment=str.split, request_timeout=300)
    log(f"Elasticsearch {n:,}: loading through ElasticStore.index into {prefix}-*")
    secs = load(store, n, tmpl, datetime.now(timezone.utc))
    store.refresh()
    store.client.indices.forcemerge(index=f"{prefix}-*", max_num_segments=1, request_timeout=1800)
    store.close()
    log(f"Elasticsearch {n:,}: loaded in {secs:.0f} s ({n / secs:,.0f} posts/s), force-merged")


def es_delete(url: str, prefix: str) -> None:
    from opinion_desk.store.elastic import ElasticStore

    s = ElasticStore(url, index_prefix=prefix, segment=str.split)
    s.delete_all()
    s.close()


# the desk --------------------------------------------------------------------------------------------------


def start_desk(data: Path, store_toml: str) -> tuple[subprocess.Popen, str]:
    proc, base, _log = common_start_desk(data, settings=tomllib.loads(store_toml), timeout=300)
    return proc, base


def calls(tmpl: list[dict]) -> list[tuple[str, str]]:
    """(label, path) of every call the pages make; the rare string and the common word come from the texts. A search
    without a range is the page's default (近7天; an event's posts: all time)."""
    from collections import Counter

    kw = Counter(k for t in tmpl for k in set(t["keywords"]))
    common = kw.most_common(1)[0][0]
    # a rare string: four characters of a text that occur in no other text (so ~N/62k posts hold it)
    rare = ""
    bodies = "\n".join(t["text"] for t in tmpl)
    for t in tmpl[1000:]:
        s = re.sub(r"[^\u4e00-\u9fff]", "", t["text"])
        if len(s) >= 12 and bodies.count(s[4:8]) == 1:
            rare = s[4:8]
            break
    enc = requests.utils.quote
    return [
        ("volume 1m x 1h", "/api/v1/stats/volume?interval=1m&minutes=60"),
        ("volume 1m x 24h", "/api/v1/stats/volume?interval=1m&minutes=1440"),
        ("volume 1h x 24h", "/api/v1/stats/volume?interval=1h&minutes=1440"),
        ("volume 1h x all", "/api/v1/stats/volume?interval=1h"),
        ("volume 1d x all", "/api/v1/stats/volume?interval=1d"),
        ("volume 1h x 24h neg", "/api/v1/stats/volume?interval=1h&minutes=1440&sentiment=neg"),
        ("hot words 1h", "/api/v1/stats/top?field=keywords&n=10&minutes=60"),
        ("hot words 24h", "/api/v1/stats/top?field=keywords&n=10&minutes=1440"),
        ("hot words all", "/api/v1/stats/top?field=keywords&n=10"),
        ("sentiment 1h", "/api/v1/stats/top?field=sentiment_label&n=5&minutes=60"),
        ("sentiment 24h", "/api/v1/stats/top?field=sentiment_label&n=5&minutes=1440"),
        ("sentiment all", "/api/v1/stats/top?field=sentiment_label&n=5"),
        ("feed 50 x 24h", "/api/v1/posts?size=50&minutes=1440"),
        ("检索 page", "/search"),
        (f"search rare {rare}", f"/api/v1/search?q={enc(rare)}"),
        (f"search common {common}", f"/api/v1/search?q={enc(common)}"),
        ("search common newest", f"/api/v1/search?q={enc(common)}&sort=newest"),
        ("search common reach", f"/api/v1/search?q={enc(common)}&sort=reach"),
        ("search common p5", f"/api/v1/search?q={enc(common)}&page=5"),
        ("search common 30d", f"/api/v1/search?q={enc(common)}&range=30d"),
        # 全部时间 (one choice away on the page): every match of all history is read, so it grows with the history
        ("search common, all time", f"/api/v1/search?q={enc(common)}&range=all"),
        ("search common reach, all", f"/api/v1/search?q={enc(common)}&sort=reach&range=all"),
        ("search rare, all time", f"/api/v1/search?q={enc(rare)}&range=all"),
        ("filters neg+gov+src", "/api/v1/search?sentiment=neg&author_type=gov&source=weibo-hot"),
        ("filters region+platform", f"/api/v1/search?region={enc('湖北')}&platform=weibo"),
        ("filter event", "/api/v1/search?topic=ev007"),
        ("tag rumour", "/api/v1/search?tag=rumour"),
        ("tag complaint", "/api/v1/search?tag=complaint"),
        ("no filter, reach", "/api/v1/search?sort=reach"),
        ("export csv common", f"/search/export.csv?q={enc(rare)}"),
        ("post page", "/posts/{post}"),
        ("post evidence", "/api/v1/posts/{post}/evidence"),
        ("event page", "/events/ev007"),
        ("event propagation", "/api/v1/events/ev007/propagation"),
        ("event page, cold", "/events/ev{k}"),  # another event each time: its summary is computed, not cached
    ]


def pct(xs: list[float], p: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


def time_calls(desks: list[tuple[str, requests.Session, int]], plan: list[tuple[str, str]],
               repeat: int, events: int) -> list[tuple[dict[str, tuple[float, float]], float]]:
    """Each call of ``plan`` on every desk of ``desks`` (base URL, logged-in session, pid) in turn, ``repeat`` times
    after two warm-ups, the desks' order alternating each round: a noisy moment of the machine falls on all sizes
    alike, so the ratios compare like with like. ``events``: how many events every desk holds (a cold event page
    opens another one each round). Returns per desk {label: (p50, p95)} and its RSS after the calls."""
    posts = [http.get(base + "/api/v1/posts?size=1&minutes=1440", timeout=60).json()["posts"][0]["id"]
             for base, http, _pid in desks]
    out: list[dict[str, tuple[float, float]]] = [{} for _ in desks]
    for label, path in plan:
        times: list[list[float]] = [[] for _ in desks]
        for k in range(repeat + 2):
            order = list(range(len(desks)))[::1 if k % 2 == 0 else -1]
            for i in order:
                base, http, _pid = desks[i]
                url = base + path.replace("{post}", requests.utils.quote(posts[i], safe="")).replace(
                    "{k}", f"{(100 + k) % events:03d}")
                t = time.perf_counter()
                r = http.get(url, timeout=300)
                el = (time.perf_counter() - t) * 1000
                if r.status_code != 200:
                    raise SystemExit(f"bench: {label}: HTTP {r.status_code}: {r.text[:300]}")
                if k >= 2:
                    times[i].append(el)
        for i, ts in enumerate(times):
            out[i][label] = (statistics.median(ts), pct(ts, 95))
        print(f"  {label:28} " + "   ".join(f"p50 {o[label][0]:7.1f} p95 {o[label][1]:7.1f}"
                                           f"{' MISS' if o[label][1] > 100 else ''}" for o in out), flush=True)
    return [(o, tree_rss_mb(pid)) for o, (_b, _h, pid) in zip(out, desks)]


def run_desks(setups: list[tuple[Path, str]], plan: list[tuple[str, str]], repeat: int,
              events: int) -> list[tuple[dict, float]]:
    """One desk per (data dir, store settings), all running at once, timed together (:func:`time_calls`)."""
    procs: list[subprocess.Popen] = []
    try:
        desks = []
        for data, store_toml in setups:
            proc, base = start_desk(data, store_toml)
            procs.append(proc)
            log(f"desk up at {base} (pid {proc.pid}) on {data.name}, RSS {tree_rss_mb(proc.pid):.0f} MB")
            desks.append((base, login(base), proc.pid))
        print("  call                         " + "   ".join(f"{d.name:>26}" for d, _t in setups), flush=True)
        res = time_calls(desks, plan, repeat, events)
        for (data, _t), (_o, rss) in zip(setups, res):
            print(f"  desk RSS after the calls, {data.name}: {rss:.0f} MB{'   MISS' if rss > 400 else ''}", flush=True)
        return res
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, nargs="+", default=[1_000_000, 2_000_000])
    ap.add_argument("--store", nargs="+", default=["sqlite", "elasticsearch"], choices=["sqlite", "elasticsearch"])
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--es-port", type=int, default=9250)
    ap.add_argument("--max-age", type=float, default=6.0, help="hours a cached SQLite load stays usable")
    a = ap.parse_args()
    tmpl = templates()
    plan = calls(tmpl)
    results: dict[tuple[str, int], tuple[dict, float]] = {}
    for backend in a.store:
        print(f"\n== {backend}, {' and '.join(f'{n:,}' for n in a.posts)} posts ==", flush=True)
        if backend == "sqlite":
            setups = [(sqlite_data(n, tmpl, a.max_age), "[store]\nbackend = \"sqlite\"\n") for n in a.posts]
            for n, r in zip(a.posts, run_desks(setups, plan, a.repeat, topics_of(min(a.posts)))):
                results[(backend, n)] = r
            continue
        from opinion_desk.esnode import ensure_node

        url = ensure_node(port=a.es_port, home=REPO / ".cache" / "es")
        prefixes = [f"bench-scale-{n}-{os.getpid()}" for n in a.posts]
        try:
            setups = []
            for n, prefix in zip(a.posts, prefixes):
                data = CACHE / f"es-{n}"
                (data / "var").mkdir(parents=True, exist_ok=True)
                es_data(n, tmpl, url, prefix)
                setups.append((data, f'[store]\nbackend = "elasticsearch"\n\n[store.elasticsearch]\nurls = ["{url}"]\n'
                                     f'index_prefix = "{prefix}"\n'))
            for n, r in zip(a.posts, run_desks(setups, plan, a.repeat, topics_of(min(a.posts)))):
                results[(backend, n)] = r
        finally:
            for prefix in prefixes:
                es_delete(url, prefix)
                log(f"deleted {prefix}-*")
    print("\n== summary: p95 ms (target <= 100), RSS MB (<= 400), ratio larger/smaller of p95 and of p50 (<= 1.3) ==")
    for backend in a.store:
        sizes = [n for n in a.posts if (backend, n) in results]
        head = "  ".join(f"{n // 1000:>7}k" for n in sizes)
        print(f"{backend:28} {head}" + ("  p95 ratio  p50 ratio" if len(sizes) > 1 else ""))
        for label, _ in plan:
            p50 = [results[(backend, n)][0][label][0] for n in sizes]
            vals = [results[(backend, n)][0][label][1] for n in sizes]
            row = "  ".join(f"{v:8.1f}" for v in vals)
            ratio = f"  {vals[-1] / vals[0]:9.2f}  {p50[-1] / p50[0]:9.2f}" if len(vals) > 1 else ""
            print(f"  {label[:26]:26} {row}{ratio}")
        rss = [results[(backend, n)][1] for n in sizes]
        print(f"  {'RSS MB':26} " + "  ".join(f"{v:8.0f}" for v in rss)
              + (f"  {rss[-1] / rss[0]:9.2f}" if len(rss) > 1 else ""))


if __name__ == "__main__":
    main()
