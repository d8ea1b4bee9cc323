"""The live desk on the real Elasticsearch node (the pipeline indexes, the engine runs as its hook before any
refresh) against ``opinion-desk rules test`` on the same posts:

- 20 alerts, each message carrying its sample posts (taken by the engine, not read back from the index);
- a burst that grows updates its alert (count, value, reason, samples) and re-notifies once ``realert`` passed;
- a late burst (a slow crawler, 40 minutes late) still alerts, its lateness shown; a month-old backfill raises
  nothing and its windows are kept;
- ``rules test`` with the live tick and noise controls lists exactly the notices the live desk sent.
"""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from click.testing import CliRunner

from opinion_desk.cli import main
from opinion_desk.detection.clock import ManualClock
from opinion_desk.detection.replay import first_tick
from opinion_desk.models import Post
from tests.conftest import write_rules

pytestmark = pytest.mark.elasticsearch

WORDS = ["爆炸", "起火", "坍塌", "泄漏", "中毒", "塌方", "溺水", "踩踏", "停电", "停水",
         "断桥", "滑坡", "冒顶", "触电", "烧伤", "倒塌", "失火", "火灾", "骚乱", "械斗"]
KEYWORD = "name: 突发关注词\ntype: keyword\nquery_key: keyword\nrealert: 30m\nfilter:\n  keywords: [" + ", ".join(WORDS) + "]\n"
FLOOD = """
name: 积水频次
type: frequency
timeframe: 10m
num_events: 5
realert: 10m
resolve_after: 10m
filter:
  keywords: [积水]
"""
STEP = timedelta(seconds=10)
T0 = (datetime.now(timezone.utc) - timedelta(days=1)).replace(second=0, microsecond=0)


@pytest.fixture
def app_config(app_config, tmp_path, es_url):
    rules_dir = write_rules(app_config, {"10-words.yaml": KEYWORD, "20-flood.yaml": FLOOD})["rules"]["dir"]
    prefix = f"odtest-live-{uuid.uuid4().hex[:10]}"
    app_config["store"] = {"backend": "elasticsearch"}
    app_config["store.elasticsearch"] = {"urls": [es_url], "index_prefix": prefix, "index_period": "day"}
    app_config["rules"]["tick_seconds"] = 10
    (tmp_path / "desk.toml").write_text(
        f'[desk]\ndata_dir = "{tmp_path / "cli-var"}"\n[rules]\ndir = "{rules_dir}"\ntick_seconds = 10\n'
        f'[store]\nbackend = "elasticsearch"\n[store.elasticsearch]\nurls = ["{es_url}"]\n'
        f'index_prefix = "{prefix}"\nindex_period = "day"\n', encoding="utf-8")
    return app_config


@pytest.fixture
def desk(app):
    """The live desk on a stepped clock; ``sent`` records every notice (alert, update, resolved) as it goes."""
    engine = app.desk.engine
    clock = ManualClock(T0 - timedelta(hours=1))
    engine.clock = clock
    engine.book.clock = clock
    sent: list[tuple] = []

    def told(kind):  # noqa: ANN001, ANN202
        def listener(a) -> None:  # noqa: ANN001
            k = "update" if kind == "match" and (a.details or {}).get("updated_at") == clock().isoformat() else kind
            sent.append((clock().isoformat(), k, a.rule, a.key, a.reason if kind == "match"
                         else a.details.get("resolved_reason"), a.value, list(a.post_ids)))
        return listener

    engine.alert_listeners.append(told("match"))
    engine.resolve_listeners.append(told("resolved"))
    yield app, engine, clock, sent
    app.desk.store.delete_all()


def post(t: datetime, text: str, sid: str) -> Post:
    return Post(source="weibo", source_id=sid, text=text, created_at=t, author=f"网友{sid}")


def stream() -> list[Post]:
    posts = [post(T0 + timedelta(minutes=i, seconds=7), f"城南路段发生{w}，现场有人受困 第{i}条", f"w{i}")
             for i, w in enumerate(WORDS)]
    posts += [post(T0 + timedelta(minutes=30, seconds=20 * k + 3), f"人民路积水严重 车辆熄火 第{k}条", f"f{k}")
              for k in range(5)]  # the burst: five posts in two minutes
    posts += [post(T0 + timedelta(minutes=33, seconds=20 * k + 5), f"人民路积水还在上涨 第{k}条", f"g{k}")
              for k in range(10)]  # it grows to 15 within realert
    posts += [post(T0 + timedelta(minutes=41, seconds=10 * k + 1), f"人民路积水没过膝盖 第{k}条", f"h{k}")
              for k in range(12)]  # after realert the window (the first five have left it) passes 15: told again
    return sorted(posts, key=lambda p: p.created_at)


def drive(app, engine, clock, posts: list[Post], tail: timedelta) -> None:  # noqa: ANN001
    """The desk as it runs: each post through the pipeline when it arrives, the engine's tick every 10 s."""
    pipeline = app.desk.pipeline
    nt = first_tick(posts[0].created_at, STEP)
    for p in posts:
        while p.created_at >= nt:
            clock.set(nt)
            engine.tick(nt)
            nt += STEP
        clock.set(p.created_at)
        res = pipeline.process([p])
        assert res.indexed == 1
    end = posts[-1].created_at + tail + STEP
    while nt <= end:
        clock.set(nt)
        engine.tick(nt)
        nt += STEP


def test_live_desk_on_elasticsearch_equals_rules_test(desk, tmp_path) -> None:
    app, engine, clock, sent = desk
    posts = stream()
    drive(app, engine, clock, posts, tail=timedelta(minutes=20))
    kinds = [(k, r) for _, k, r, *_ in sent]
    assert kinds.count(("match", "突发关注词")) == 20
    assert kinds.count(("match", "积水频次")) == 1 and kinds.count(("update", "积水频次")) == 1
    assert kinds.count(("resolved", "积水频次")) == 1

    # every alert's message carries its samples, though nothing was refreshed in the index before it was built
    from sqlalchemy import select

    from opinion_desk.state.alerts import Alert

    from opinion_desk.state.alerts import OutboxRow

    with app.desk.state.session_scope() as s:
        alerts = list(s.scalars(select(Alert)))
        payloads = {}
        for row in s.scalars(select(OutboxRow).where(OutboxRow.kind == "alert")):
            payloads.setdefault(row.alert_id, []).append(row.payload)
    assert len(alerts) == 21
    for a in alerts:
        assert payloads.get(a.id), a.rule
        for payload in payloads[a.id]:
            posts_shown = payload["posts"]
            assert posts_shown and all(p["text"] and p["author"] for p in posts_shown), (a.rule, a.key)
    flood = next(a for a in alerts if a.rule == "积水频次")
    assert flood.value == 22 and "22 条" in flood.reason and flood.count >= 3  # grew: 5 -> 15 -> 22
    assert flood.status == "resolved"

    # the dry run on the same posts lists exactly what the desk sent
    f = tmp_path / "posts.jsonl"
    f.write_text("".join(json.dumps(p.to_dict(), ensure_ascii=False) + "\n" for p in posts), encoding="utf-8")
    r = CliRunner().invoke(main, ["--config", str(tmp_path / "desk.toml"), "rules", "test", app.config["DESK"]["rules"]["dir"],
                                  "--posts", str(f), "--json", "--no-analyze"], env={"OPINION_DESK_CONFIG": ""})
    assert r.exit_code == 0, r.output
    dry = [(m["time"], m["kind"], m["rule"], m["key"], m["reason"], m["value"], m["post_ids"])
           for m in json.loads(r.stdout)["matches"]]
    assert dry == sent


def test_a_late_burst_alerts_and_a_backfill_raises_nothing(desk) -> None:
    app, engine, clock, sent = desk
    pipeline = app.desk.pipeline
    now = T0 + timedelta(hours=3)
    clock.set(now)
    month_ago = now - timedelta(days=30)
    backfill = [post(month_ago + timedelta(minutes=k), f"旧闻：人民路积水 城南发生爆炸 第{k}条", f"old{k}") for k in range(12)]
    assert pipeline.process(backfill).indexed == 12
    engine.tick(now)
    assert sent == []  # history: counted, not alerted
    late = [post(now - timedelta(minutes=40, seconds=-20 * k), f"人民路积水 第{k}条（迟到）", f"late{k}") for k in range(6)]
    assert pipeline.process(late).indexed == 6
    assert [(k, r) for _, k, r, *_ in sent] == [("match", "积水频次")]
    with app.desk.state.session_scope() as s:
        from sqlalchemy import select

        from opinion_desk.state.alerts import Alert

        alert = s.scalars(select(Alert).where(Alert.rule == "积水频次")).one()
        assert "迟到数据：晚到" in alert.reason and alert.details["lateness_seconds"] >= 38 * 60
        assert len(alert.details["samples"]) == 5 and all("迟到" in d["text"] for d in alert.details["samples"])
