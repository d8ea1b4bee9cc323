"""Collection throughput: items per second from a local feed server through analysis into Elasticsearch, against
the indexing rate of the same posts with analysis already done (the baseline, measured in the same run).

    .venv/bin/python bench/collect.py [--items 2000] [--es-url http://127.0.0.1:9250]

Without --es-url the test node is started (or reused) like the tests do (127.0.0.1:9250).
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SENTENCES = ["县城东大街今天停水，居民提前储水。", "化工厂附近有刺鼻气味，生态环境局已派员监测。",
             "夏粮收购有序推进，已收购小麦两万余吨。", "县医院挂号难的问题有人反映了吗？", "网传明天学校停课，教育局说是谣言。",
             "防汛指挥部发布暴雨蓝色预警，请注意出行安全。"]


def feed_bytes(n: int) -> bytes:
    t0 = datetime(2024, 6, 18, 10, tzinfo=timezone(timedelta(hours=8)))
    items = []
    for i in range(n):
        body = "".join(SENTENCES[(i + k) % len(SENTENCES)] for k in range(8)) + f"（第{i}条）"
        items.append(f"<item><title>{escape(body[:20])}</title><link>/a/{i}.html</link><guid>bench-{i}</guid>"
                     f"<pubDate>{format_datetime(t0 - timedelta(minutes=i))}</pubDate>"
                     f"<description>{escape(body[:60])}</description>"
                     f"<content:encoded><![CDATA[<p>{body}</p><p>{body}</p>]]></content:encoded></item>")
    return ('<?xml version="1.0" encoding="utf-8"?><rss version="2.0" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel><title>bench</title>'
            + "".join(items) + "</channel></rss>").encode("utf-8")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--items", type=int, default=2000, help="items in the feed (default 2000)")
    ap.add_argument("--es-url", default=None, help="Elasticsearch URL (default: start/reuse the test node on 9250)")
    args = ap.parse_args()

    import tempfile

    import analyzers
    from opinion_desk.collectors import SourceSpec, build_collector
    from opinion_desk.collectors.evidence import EvidenceArchive
    from opinion_desk.collectors.http import LIMITER
    from opinion_desk.pipeline import Pipeline
    from opinion_desk.store.elastic import ElasticStore
    from tests.collectors.standins import Reply, StandIn

    url = args.es_url
    if url is None:
        from opinion_desk.esnode import ensure_node
        from tests.es_fixture import ES_HOME, ES_PORT

        url = ensure_node(port=ES_PORT, home=ES_HOME)
    LIMITER.interval = 0.0
    site = StandIn()
    site.routes["/rss.xml"] = Reply(200, feed_bytes(args.items), {"Content-Type": "application/rss+xml; charset=utf-8"})
    run = uuid.uuid4().hex[:8]
    full_store = ElasticStore(url, index_prefix=f"bench-collect-{run}-full")
    base_store = ElasticStore(url, index_prefix=f"bench-collect-{run}-base")
    analyzer = analyzers.Analyzer()
    analyzer.analyze([{"id": "warm", "text": "预热分词词典", "title": ""}])  # dictionaries loaded before timing
    try:
        with tempfile.TemporaryDirectory() as tmp:
            pipeline = Pipeline(full_store, lambda: analyzer, Path(tmp) / "spool")
            pipeline.add_hook(EvidenceArchive(Path(tmp) / "evidence").hook)  # as in the app
            collector = build_collector(SourceSpec(name="bench-rss", type="rss", cadence=60,
                                                   options={"url": site.url + "/rss.xml", "max_items": args.items,
                                                            "fetch_full": "never"}, timeout=60))
            t0 = time.perf_counter()
            res = collector.collect({})
            t_collect = time.perf_counter() - t0
            for i in range(0, len(res.posts), 500):
                pipeline.process(res.posts[i:i + 500])
            full_store.refresh()
            t_full = time.perf_counter() - t0
            posts = res.posts  # now annotated: the baseline indexes exactly these
            t1 = time.perf_counter()
            for i in range(0, len(posts), 500):
                base_store.index(posts[i:i + 500])
            base_store.refresh()
            t_base = time.perf_counter() - t1
            n = len(posts)
            assert n == args.items, f"collected {n} of {args.items}"
            full_rate, base_rate = n / t_full, n / t_base
            print(f"items: {n}")
            print(f"fetch + parse (feedparser): {t_collect:.2f}s  ({n / t_collect:,.0f} items/s)")
            print(f"feed -> analysis -> Elasticsearch (+ evidence archive): {t_full:.2f}s  ({full_rate:,.0f} items/s)")
            print(f"baseline, index analysed posts only: {t_base:.2f}s  ({base_rate:,.0f} items/s)")
            print(f"ratio full / baseline: {full_rate / base_rate:.3f}")
    finally:
        for s in (full_store, base_store):
            try:
                names = list(s.client.indices.get(index=f"{s.prefix}*", allow_no_indices=True))
                if names:
                    s.client.indices.delete(index=",".join(names))
            except Exception as e:  # noqa: BLE001
                print(f"(cleanup of {s.prefix}: {e})", file=sys.stderr)
            s.close()
        site.close()


if __name__ == "__main__":
    main()
