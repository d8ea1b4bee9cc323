"""The propagation path builder (opinion_desk/web/propagation.py): //@ chains, repost_of, reply_to, no cycles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from opinion_desk.models import Post
from opinion_desk.web.propagation import build, chain_names, summary

T = datetime(2026, 11, 24, 2, tzinfo=timezone.utc)


def mk(sid: str, minutes: int, author: str, text: str, **kw: object) -> Post:
    return Post(source="w", source_id=sid, mid=sid, created_at=T + timedelta(minutes=minutes), author=author,
                text=text, **kw)  # type: ignore[arg-type]


def parents(posts: list[Post]) -> dict[str, str]:
    nodes = build(posts)
    name = {p.id: p.author for p in posts}
    return {n.author: name.get(n.parent, n.parent) for n in nodes.values()}


def test_chain_names():
    assert chain_names("好//@青山 热心:转//@B：原文//@C:x") == ["B", "C"]  # a space ends a name; ：too
    assert chain_names("邮箱 a//@b 没有冒号") == []


def test_chains_reposts_and_replies():
    posts = [mk("1", 0, "原作者", "原文"), mk("2", 1, "A", "转//@原作者:原文", repost_of="1"),
             mk("3", 2, "B", "再转//@A:转//@原作者:原文", repost_of="1"),
             mk("4", 3, "C", "//@隐身:嗯//@B:再转", repost_of="1"),
             mk("5", 4, "D", "只有 repost_of", repost_of="1"), mk("6", 5, "E", "回复", reply_to="1"),
             mk("7", 6, "F", "未知原帖", repost_of="999")]
    got = parents(posts)
    assert got["A"] == "原作者" and got["B"] == "A" and got["C"] == "@隐身" and got["隐身"] == "B"
    assert got["D"] == "原作者" and got["E"] == "原作者" and got["F"] == "" and got["原作者"] == ""


def test_no_cycles_from_crossed_chains():
    posts = [mk("1", 0, "A", "//@X:a//@Y:b"), mk("2", 0, "B", "//@Y:b//@X:a"), mk("3", 0, "C", "//@C:自己")]
    nodes = build(posts)
    for nid in nodes:  # every walk up ends
        seen, up = set(), nid
        while up:
            assert up not in seen
            seen.add(up)
            up = nodes[up].parent
    s = summary(posts, ZoneInfo("Asia/Shanghai"))
    assert s["posts"] == 3 and s["timeline"] == [{"t": "11-24 10:00", "n": 3, "total": 3}]


def test_time_axis_steps_by_span():
    zone = ZoneInfo("Asia/Shanghai")
    short = summary([mk("1", 0, "A", "x"), mk("2", 17, "B", "y")], zone)["timeline"]
    assert [b["t"] for b in short] == ["11-24 10:00", "11-24 10:05", "11-24 10:10", "11-24 10:15"]
    long = summary([mk("1", 0, "A", "x"), mk("2", 60 * 24 * 5, "B", "y")], zone)["timeline"]
    assert long[0]["t"] == "11-24" and long[-1] == {"t": "11-29", "n": 1, "total": 2}
