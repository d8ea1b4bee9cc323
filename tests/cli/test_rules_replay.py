"""``opinion-desk rules test RULE.yaml --since 7d``: the same replay contract on both post stores.

The store holds more posts than one page (ties of one instant straddling a page boundary, microseconds inside
one millisecond, posts older than the span); the replay must read each post of the span exactly once, oldest
first, and report the same matches on SQLite and on the real Elasticsearch node.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.config import load_config
from opinion_desk.detection.replay import PAGE, store_posts
from opinion_desk.models import Post
from opinion_desk.store import open_store
from opinion_desk.store.base import PostQuery

KEYWORD = "name: 重点关注词\ntype: keyword\nquery_key: keyword\nfilter:\n  keywords: [爆炸]\n"
SPIKE = """
name: 积水声量突增
type: spike
timeframe: 1h
spike_height: 3
threshold_cur: 10
resolve_after: 30m
filter:
  keywords: [积水]
"""

NOW = datetime.now(timezone.utc).replace(microsecond=0)
START = NOW - timedelta(days=3)
N_SPAN = 3 * PAGE + 37  # posts inside the span: several pages


def corpus() -> tuple[list[Post], dict[str, int]]:
    """Posts of the last three days (every 10th about an explosion; a burst about flooding on day two), a tie
    group of one instant across the first page boundary, and some posts of two weeks ago (outside --since 7d)."""
    posts: list[Post] = []
    for i in range(N_SPAN):
        t = START + timedelta(seconds=i * 150, microseconds=(i * 137) % 1000)
        if PAGE - 5 <= i < PAGE + 5:  # ten posts of one instant straddle the first page boundary
            t = START + timedelta(seconds=(PAGE - 5) * 150, microseconds=250)
        if PAGE * 2 - 2 <= i < PAGE * 2 + 2:  # four posts of one millisecond, distinct microseconds
            t = START + timedelta(seconds=(PAGE * 2 - 2) * 150, microseconds=400 + (i % 4) * 100)
        if i % 10 == 0:
            text = f"城南化工厂发生爆炸 第{i}条"
        elif i % 90 == 5:
            text = f"人民路积水 第{i}条"
        else:
            text = f"今天天气不错 第{i}条"
        posts.append(Post(source="weibo", source_id=f"s{i:05d}", text=text, created_at=t, tokens=text.split()))
    burst_at = START + timedelta(days=1, hours=6)
    for k in range(20):
        text = f"人民路积水 车辆熄火 第{k}条"
        posts.append(Post(source="weibo", source_id=f"b{k:02d}", text=text, tokens=text.split(),
                          created_at=burst_at + timedelta(seconds=k * 20)))
    for k in range(5):  # two weeks ago: outside --since 7d
        text = f"城南化工厂发生爆炸 旧帖{k}"
        posts.append(Post(source="weibo", source_id=f"old{k}", text=text, tokens=text.split(),
                          created_at=NOW - timedelta(days=14, minutes=k)))
    expect = {"span": N_SPAN + 20, "explosions": len(range(0, N_SPAN, 10))}
    return posts, expect


@pytest.fixture(params=["sqlite", pytest.param("elasticsearch", marks=pytest.mark.elasticsearch)])
def desk_config(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A config file naming a fresh store of each backend, filled with :func:`corpus`."""
    lines = [f'[desk]\ndata_dir = "{tmp_path / "var"}"\n']
    if request.param == "elasticsearch":
        es_url = request.getfixturevalue("es_url")
        prefix = f"odtest-rules-{uuid.uuid4().hex[:10]}"
        lines.append(f'[store]\nbackend = "elasticsearch"\n[store.elasticsearch]\nurls = ["{es_url}"]\n'
                     f'index_prefix = "{prefix}"\nindex_period = "day"\n')
    path = tmp_path / "desk.toml"
    path.write_text("".join(lines), encoding="utf-8")
    (tmp_path / "var").mkdir()
    store = open_store(load_config(path, env={}), segment=str.split)
    try:
        res = store.index(corpus()[0])
        assert not res.errors, res.errors[:3]
        store.refresh()
        yield str(path)
    finally:
        if request.param == "elasticsearch":
            store.delete_all()  # type: ignore[attr-defined]
        store.close()


def run_rule(cfg: str, tmp_path: Path, text: str, *extra: str) -> dict:
    rule = tmp_path / "rule.yaml"
    rule.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", cfg, "rules", "test", str(rule), "--since", "7d", "--json", *extra],
                           env={"OPINION_DESK_CONFIG": ""})
    assert r.exit_code == 0, r.output
    return json.loads(r.stdout)


def test_replay_reads_every_post_of_the_span_once(desk_config: str, tmp_path: Path) -> None:
    _, expect = corpus()
    out = run_rule(desk_config, tmp_path, KEYWORD, "--raw")  # every match, not only the notices
    assert out["posts"] == expect["span"]
    matches = out["matches"]
    assert len(matches) == expect["explosions"]  # no post twice at a page boundary, none skipped, none too old
    ids = [m["post_ids"][0] for m in matches]
    assert len(set(ids)) == len(ids)
    assert all(m["key"] == "爆炸" and m["reason"] == "命中关注词：爆炸" for m in matches)
    assert matches[0]["posts"][0]["text"] == "城南化工厂发生爆炸 第0条"  # the posts behind a match, from the store
    times = [m["time"] for m in matches]
    assert times == sorted(times)


def test_window_rule_fires_and_resolves_on_event_time(desk_config: str, tmp_path: Path) -> None:
    out = run_rule(desk_config, tmp_path, SPIKE)
    kinds = [(m["kind"], m["key"]) for m in out["matches"]]
    assert kinds == [("match", ""), ("resolved", "")]
    fired, resolved = out["matches"]
    burst_at = START + timedelta(days=1, hours=6)
    assert burst_at <= datetime.fromisoformat(fired["time"]) <= burst_at + timedelta(minutes=10)
    assert "声量突增" in fired["reason"] and "舆情平息" in resolved["reason"]
    assert fired["posts"] and all("积水" in p["text"] for p in fired["posts"])


def test_store_pages_by_time_cursor(desk_config: str) -> None:
    """Small pages: every post once, oldest first, across many page boundaries and tie groups."""
    store = open_store(load_config(desk_config, env={}), segment=str.split)
    try:
        q = PostQuery(since=NOW - timedelta(days=7), until=NOW + timedelta(seconds=1))
        seen = [p.id for p in store_posts(store, q, page_size=7)]
        want = store.count(q)
        assert len(seen) == want == corpus()[1]["span"] and len(set(seen)) == want
        # oldest first to the millisecond (Elasticsearch orders by milliseconds, then by id)
        times = [p.created_at.replace(microsecond=p.created_at.microsecond // 1000 * 1000)
                 for p in store_posts(store, q, page_size=500)]
        assert times == sorted(times)
    finally:
        store.close()
