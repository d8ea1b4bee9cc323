"""Posts for the search, post-detail and event-page tests: the demo posts (opinion_desk/demo/posts.jsonl, analysed
by the real analyzer, over the last hours) and an explosion event with a Weibo repost tree (``repost_of``, ``//@``
chains, a reply), all archived as evidence the way the pipeline archives them."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from opinion_desk.models import Post

DEMO = Path(__file__).resolve().parents[2] / "opinion_desk" / "demo" / "posts.jsonl"
EVENT = "t-blast-demo"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def demo_posts() -> list[Post]:
    out = []
    for i, line in enumerate(DEMO.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        d = json.loads(line)
        d["created_at"] = (NOW - timedelta(minutes=5 * i + 3)).isoformat()
        d["source"] = "demo"
        d.setdefault("url", f"https://weibo.com/7000000001/{d['source_id']}")
        d["raw"] = {"mblog": {"mid": d["source_id"], "text": d["text"], "user": {"screen_name": d["author"]}}}
        out.append(Post.from_dict(d))
    return out


def event_posts() -> list[Post]:
    """城东化工园区 explosion: the first post, reposts through //@ chains, a government reply."""
    t0 = NOW - timedelta(hours=3)

    def mk(sid: str, minutes: int, author: str, text: str, **kw: object) -> Post:
        return Post(source="weibo-kw", source_id=sid, mid=sid, created_at=t0 + timedelta(minutes=minutes),
                    author=author, text=text, topic_id=EVENT, topic_label="化工园区 爆炸", platform="weibo",
                    url=f"https://weibo.com/7000000002/{sid}", raw={"mblog": {"mid": sid, "text": text}},
                    **kw)  # type: ignore[arg-type]

    return [
        mk("5100", 0, "城东居民", "城东化工园区附近刚才发生爆炸，浓烟很大，窗户都在震", author_type="user", reposts=860,
           comments=120, likes=300, images=[{"url": "https://wx1.sinaimg.cn/large/blast.jpg", "alt": "浓烟"}]),
        mk("5101", 4, "青山热心网友", "太吓人了//@城东居民:城东化工园区附近刚才发生爆炸", repost_of="5100", reposts=95),
        mk("5102", 9, "本地大V", "求证//@青山热心网友:太吓人了//@城东居民:城东化工园区附近刚才发生爆炸", repost_of="5100",
           author_type="verified", reposts=410, comments=80),
        mk("5103", 12, "路人乙", "转发微博//@本地大V:求证", repost_of="5100", reposts=3),
        mk("5104", 15, "路人丙", "快跑//@未采集用户:真的假的//@本地大V:求证", repost_of="5100"),
        mk("5105", 40, "青山县应急管理局", "【情况通报】城东化工园区一企业储罐闪爆，明火已扑灭，暂无人员伤亡", author_type="gov",
           reply_to="5100", reposts=1500, likes=900),
        mk("5106", 42, "路人丁", "官方通报了//@青山县应急管理局:【情况通报】", repost_of="5105", reposts=1),
    ]


def seed(app, analyzer) -> dict[str, Post]:  # noqa: ANN001
    """Index the posts, archive their raw payloads; returns them by a short name."""
    from opinion_desk.pipeline import annotate

    demo = demo_posts()
    annotate(demo, analyzer)
    event = event_posts()
    store = app.desk.store
    assert store.index(demo + event).errors == []
    store.refresh()
    app.desk.evidence.write(demo + event)
    by_text = {
        "bridge": next(p for p in demo if "东河桥" in p.text),
        "blast": next(p for p in demo if "化工园区附近刚才发生爆炸" in p.text),
        "first": event[0], "big_v": event[2], "gov": event[5],
    }
    by_text["demo"] = demo  # type: ignore[assignment]
    return by_text
