"""The propagation path of an event: who posted first, who reposted or answered whom, who spread it most, how fast.

Edges come from, in this order of trust:

1. the ``//@name:`` chain in a repost's text (Weibo writes "my words//@B: B's words//@C: C's words"): the post's
   parent is B's latest post of the event before it, B's is C's, and so on; a name with no post of its own in the
   event becomes a *chain node* (someone who reposted without being collected);
2. ``repost_of`` (Weibo ``retweeted_status``): the original's platform id (``mid`` or source id);
3. ``reply_to``: the post or comment a comment answers.

A post with none of these is a root. Every edge points from an earlier (or same-time) post to a later one, so the
path has no cycles.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from ..models import Post
from ..store.base import Spreader

CHAIN = re.compile(r"//\s*@([^:：\s/@]{1,30})\s*[:：]")
STEPS = ((timedelta(hours=2), timedelta(minutes=5)), (timedelta(hours=12), timedelta(minutes=30)),
         (timedelta(days=3), timedelta(hours=1)))
MAX_NODES = 400  # the graph stays readable (and light on a phone); the figures count every post


@dataclass
class Node:
    id: str
    author: str
    post: Post | None = None  # None: a chain node (a name from a //@ chain without a collected post)
    parent: str = ""
    via: str = ""  # chain | repost | reply
    children: list[str] = field(default_factory=list)


def reach(p: Post) -> int:
    return int(p.reposts or 0) + int(p.comments or 0) + int(p.likes or 0)


def chain_names(text: str) -> list[str]:
    """The names of a ``//@`` chain, nearest first."""
    return CHAIN.findall(text or "")


def build(posts: list[Post]) -> dict[str, Node]:
    """The path's nodes by id (post ids, and ``@name`` for chain nodes), each with its parent and children."""
    posts = sorted(posts, key=lambda p: (p.created_at, p.id))
    nodes: dict[str, Node] = {p.id: Node(p.id, p.author, p) for p in posts}
    by_pid: dict[str, list[Post]] = defaultdict(list)  # platform id (mid, source id) -> posts, oldest first
    by_author: dict[str, list[Post]] = defaultdict(list)
    for p in posts:
        for key in {p.mid, p.source_id} - {""}:
            by_pid[key].append(p)
        if p.author:
            by_author[p.author].append(p)

    def latest_before(cands: list[Post], child: Post) -> Post | None:
        best = None
        for c in cands:
            if c.id != child.id and c.created_at <= child.created_at:
                best = c
        return best

    def link(child: str, parent: str, via: str) -> bool:
        """Hang ``child`` below ``parent`` unless that would make a cycle (or it already hangs somewhere)."""
        if nodes[child].parent or child == parent:
            return False
        up = parent
        while up:
            if up == child:
                return False
            up = nodes[up].parent
        nodes[child].parent, nodes[child].via = parent, via
        nodes[parent].children.append(child)
        return True

    for p in posts:
        names = [n for n in chain_names(p.text) if n != p.author]
        target = by_pid.get(p.repost_of) if p.repost_of else None
        original = latest_before(target, p) if target else None
        child = p.id
        for name in names:
            found = latest_before(by_author.get(name, []), p)
            if found is not None:
                link(child, found.id, "chain")
                child = ""
                break
            vid = f"@{name}"
            nodes.setdefault(vid, Node(vid, name))
            placed = bool(nodes[vid].parent)
            if not link(child, vid, "chain") or placed:
                child = ""
                break
            child = vid
        if child and original is not None:
            link(child, original.id, "repost")
        elif child == p.id and p.reply_to and (answered := latest_before(by_pid.get(p.reply_to, []), p)):
            link(p.id, answered.id, "reply")
    return nodes


def _descendants(nodes: dict[str, Node], nid: str) -> int:
    n, stack = 0, list(nodes[nid].children)
    while stack:
        c = stack.pop()
        n += 1
        stack.extend(nodes[c].children)
    return n


def spreaders(ordered: list[Post], nodes: dict[str, Node], fmt: Callable[[datetime], str],
              counted: list[Spreader] | None = None) -> list[dict[str, Any]]:
    """Key spreaders, top 10: each author's reach and the reposts hanging below their drawn posts. With
    ``counted`` (the store's :meth:`~opinion_desk.store.base.PostStore.spreaders` over every post of the event)
    those are the authors and their figures; else they come from the drawn posts."""
    if counted is not None:
        spread: dict[str, int] = defaultdict(int)
        for p in ordered:
            spread[p.author] += _descendants(nodes, p.id)
        return [{"author": s.author, "posts": s.posts, "reach": s.reach, "spread": spread.get(s.author, 0),
                 "author_type": s.author_type, "first": fmt(s.first_at), "post_id": s.first_id} for s in counted]
    by_author: dict[str, dict[str, Any]] = {}
    for p in ordered:
        name = p.author or "（未署名）"
        a = by_author.get(name)
        if a is None:  # the author's first post (formatted once per author, not once per post)
            a = by_author[name] = {"author": name, "posts": 0, "reach": 0, "spread": 0,
                                   "author_type": p.author_type, "first": fmt(p.created_at), "post_id": p.id}
        a["posts"] += 1
        a["reach"] += reach(p)
        a["spread"] += _descendants(nodes, p.id)
    return sorted(by_author.values(), key=lambda a: (-a["reach"], -a["spread"], a["first"]))[:10]


def time_step(span: timedelta) -> timedelta:
    """The time axis's step for an event lasting ``span``: 5 minutes within 2 hours, 30 minutes within 12, hourly
    within 3 days, else daily."""
    return next((s for limit, s in STEPS if span <= limit), timedelta(days=1))


def timeline(counted: list[tuple[datetime, int]], zone: tzinfo, step: timedelta | None = None) -> list[dict[str, Any]]:
    """Posts per step and the running total, in the desk's zone, from ``counted``: (time, posts) oldest first —
    each post once, or the store's buckets no wider than ``step`` (then given: the step of the event's whole span,
    which the buckets' starts may understate by a bucket). Without ``step``, :func:`time_step` of ``counted``."""
    counted = [(t, n) for t, n in counted if n]
    if not counted:
        return []
    step = step or time_step(counted[-1][0] - counted[0][0])
    start = counted[0][0].astimezone(zone).replace(second=0, microsecond=0)
    if step < timedelta(hours=1):
        start = start.replace(minute=start.minute - start.minute % int(step.total_seconds() // 60))
    elif step == timedelta(hours=1):
        start = start.replace(minute=0)
    else:
        start = start.replace(hour=0, minute=0)
    counts: dict[int, int] = defaultdict(int)
    for t, n in counted:
        counts[int((t - start) // step)] += n
    out, total = [], 0
    for k in range(max(counts) + 1):
        total += counts.get(k, 0)
        out.append({"t": (start + k * step).strftime("%m-%d %H:%M" if step < timedelta(days=1) else "%m-%d"),
                    "n": counts.get(k, 0), "total": total})
    return out


def graph(ordered: list[Post], nodes: dict[str, Node], fmt: Callable[[datetime], str]) -> dict[str, Any]:
    """The ECharts graph of the first :data:`MAX_NODES` posts (with the chain nodes and parents they hang from)."""
    first = ordered[0] if ordered else None
    shown = [p.id for p in ordered[:MAX_NODES]]
    keep = set(shown)
    for nid in shown:
        parent = nodes[nid].parent
        while parent and parent not in keep:
            keep.add(parent)
            parent = nodes[parent].parent
    out, depth = [], 0
    for nid in keep:
        n, p = nodes[nid], nodes[nid].post
        r = reach(p) if p else 0
        category = 0 if p is first else (2 if p is None else (3 if p.author_type == "gov" else 1))
        out.append({"id": nid, "name": n.author or "（未署名）", "category": category, "value": r,
                    "size": round(12 + 6 * math.log10(1 + r), 1) if p else 10, "time": fmt(p.created_at) if p else "",
                    "text": p.text[:80] if p else "（转发链上的用户，未采集到其帖子）", "children": len(n.children)})
        d, parent = 0, n.parent
        while parent:
            d, parent = d + 1, nodes[parent].parent
        depth = max(depth, d)
    edges = [{"source": nodes[nid].parent, "target": nid, "via": nodes[nid].via}
             for nid in keep if nodes[nid].parent in keep]
    return {"nodes": out, "edges": edges, "depth": depth, "shown": len(shown),
            "roots": sum(1 for nid in keep if not nodes[nid].parent)}


def summary(posts: list[Post], zone: tzinfo, counted: tuple[list[tuple[datetime, int]], timedelta] | None = None,
            top: list[Spreader] | None = None) -> dict[str, Any]:
    """Everything the event page shows: first post, spreaders, time axis, graph nodes and edges. The time axis is
    drawn from ``counted`` (the store's buckets of every post of the event, and the axis's step) and the key
    spreaders from ``top`` (the store's, over every post) when given, else from ``posts``."""
    nodes = build(posts)
    ordered = sorted(posts, key=lambda p: (p.created_at, p.id))
    fmt: Callable[[datetime], str] = lambda t: t.astimezone(zone).strftime("%Y-%m-%d %H:%M")  # noqa: E731
    first = ordered[0] if ordered else None
    return {"posts": len(posts), "first": first, "first_time": fmt(first.created_at) if first else "",
            "last_time": fmt(ordered[-1].created_at) if ordered else "", "reach": sum(reach(p) for p in posts),
            "spreaders": spreaders(ordered, nodes, fmt, top),
            "timeline": (timeline(counted[0], zone, counted[1]) if counted is not None
                         else timeline([(p.created_at, 1) for p in ordered], zone)),
            "reposts_linked": sum(1 for n in nodes.values() if n.parent and n.post is not None),
            "chain_nodes": sum(1 for n in nodes.values() if n.post is None), **graph(ordered, nodes, fmt)}
