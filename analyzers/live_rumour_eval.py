"""The live desk's rumour alerts measured on the eval's held-out stream (``opinion-desk eval --only rumour``).

The 疑似谣言 figures of :func:`analyzers.evaluate.eval_rumour_events` come from
:func:`analyzers.rumour.cascade_assessment`, which judges each cascade's whole first hour at once; the desk
alerts as posts arrive, with the ``rumour`` rule type (:class:`opinion_desk.detection.types.rumour.RumourRule`, the
same helpers of :mod:`analyzers.rumour`) as configured by ``rules/30-rumour.yaml``. Here the same held-out stream is replayed through that rule as the desk runs it: the rule
file loaded by the project's loader, posts annotated by the real analyzer with :func:`opinion_desk.pipeline.annotate`
(rumour_score, complaint_score, event ids and labels), fed to an :class:`~opinion_desk.detection.engine.Engine`
batch by batch on the live tick (``rules.tick_seconds``, 10 s), and the matches recorded by the desk's
:class:`~opinion_desk.detection.noise.AlertBook` (realert folding) on a throwaway SQLite state database. An alert
belongs to the cascade (or to the everyday posts) holding most of its posts.
"""

from __future__ import annotations

import hashlib
import math
import tempfile
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Sequence

RULE_FILE = Path(__file__).resolve().parents[1] / "rules" / "30-rumour.yaml"
EVERYDAY = "everyday"
TICK_SECONDS = 10.0  # the desk's default rules.tick_seconds


def live_stream(cascade_posts: Sequence[dict[str, Any]], windows: Sequence[tuple[float, float]],
                everyday: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The replayed stream: ``cascade_posts`` as :func:`analyzers.evaluate.cascade_stream` gives them (``event`` is
    the truth), plus each ``everyday`` row (``id``, ``text``) as a post of its own, spread evenly over ``windows``
    (the cascades' first hours, ``(start, end)`` in epoch seconds) in a stable order, so that in every window
    rumour posts keep about the stream's base rate. Everyday posts carry ``event`` = ``"everyday"``."""
    out = [dict(p) for p in cascade_posts]
    rows = sorted(everyday, key=lambda r: hashlib.md5(str(r["id"]).encode()).hexdigest())
    if windows and rows:
        per = math.ceil(len(rows) / len(windows))
        for j, r in enumerate(rows):
            start, end = windows[j % len(windows)]
            slot = j // len(windows)
            out.append({"id": f"everyday-{r['id']}", "text": r["text"], "event": EVERYDAY,
                        "ts": start + (slot + 0.5) * (end - start) / per})
    out.sort(key=lambda p: p["ts"])
    return out


def replay_live_rule(stream: Sequence[dict[str, Any]], analyzer: Any, rule_file: str | Path = RULE_FILE,
                     tick_seconds: float = TICK_SECONDS) -> dict[str, Any]:
    """Replay ``stream`` (time-ordered dicts: ``id``, ``text``, ``ts``, ``event``; optional ``mid``, ``repost_of``,
    ``reply_to``) through the shipped rule file as the live desk runs it. Returns the alerts (each with its posts'
    ``events`` counted and its ``owner``: the event holding most of its posts) and the notices sent."""
    from opinion_desk.detection.clock import ManualClock
    from opinion_desk.detection.engine import Engine
    from opinion_desk.detection.loader import load_rule_file
    from opinion_desk.models import Post
    from opinion_desk.pipeline import annotate
    from opinion_desk.state import StateDB
    from opinion_desk.state.alerts import Alert

    posts = [Post(source="weibo", source_id=str(s["id"]), text=s["text"], platform="weibo",
                  created_at=datetime.fromtimestamp(float(s["ts"]), timezone.utc), mid=str(s.get("mid") or ""),
                  repost_of=str(s.get("repost_of") or ""), reply_to=str(s.get("reply_to") or "")) for s in stream]
    truth = {p.id: str(s["event"]) for p, s in zip(posts, stream)}
    notices: list[str] = []
    with tempfile.TemporaryDirectory(prefix="live-rumour-") as tmp:
        db = StateDB(f"sqlite:///{Path(tmp) / 'state.db'}")
        try:
            db.upgrade()
            step = timedelta(seconds=tick_seconds)
            clock = ManualClock(posts[0].created_at if posts else datetime.now(timezone.utc))
            eng = Engine(clock=clock, statedb=db, record_alerts=True)
            eng.alert_listeners.append(lambda a: notices.append(a.id))
            eng.add_rule(load_rule_file(rule_file))
            i = 0
            while i < len(posts):  # one batch per tick interval of post time; empty stretches are skipped
                tick = posts[i].created_at + step
                batch = []
                while i < len(posts) and posts[i].created_at < tick:
                    batch.append(posts[i])
                    i += 1
                annotate(batch, analyzer)
                clock.set(tick)
                eng.on_posts(batch)
                eng.tick(tick)
            if posts:  # let the last windows be checked once more after the stream ends
                end = posts[-1].created_at + step
                clock.set(end)
                eng.tick(end)
            with db.session_scope() as s:
                alerts = [{"id": a.id, "key": a.key, "post_ids": list(a.post_ids or []), "count": a.count}
                          for a in s.query(Alert).order_by(Alert.created_at)]
        finally:
            db.dispose()
    for a in alerts:
        a["events"] = Counter(truth[p] for p in a["post_ids"] if p in truth)
        a["owner"] = a["events"].most_common(1)[0][0] if a["events"] else EVERYDAY
    return {"alerts": alerts, "notices": len(notices), "posts": len(posts)}


def live_rule_figures(replay: dict[str, Any], rumour_cascades: Sequence[str],
                      other_cascades: Sequence[str]) -> dict[str, Any]:
    """Recall: rumour cascades owning at least one alert / rumour cascades. Precision of alerts: alerts owned by a
    rumour cascade / all alerts; the others are split into those on non-rumour cascades and on everyday posts."""
    rum, other = set(rumour_cascades), set(other_cascades)
    alerts = replay["alerts"]
    owners = [a["owner"] for a in alerts]
    alerted = {o for o in owners if o in rum}
    true_alerts = sum(o in rum for o in owners)
    on_other = sum(o in other for o in owners)
    on_everyday = sum(o not in rum and o not in other for o in owners)
    return {"rumour_cascades": len(rum), "alerted_cascades": len(alerted),
            "recall": round(len(alerted) / len(rum), 4) if rum else 0.0,
            "alerts": len(alerts), "true_alerts": true_alerts, "on_non_rumour_cascades": on_other,
            "on_everyday_posts": on_everyday, "non_rumour_cascades_alerted": len({o for o in owners if o in other}),
            "precision": round(true_alerts / len(alerts), 4) if alerts else 0.0,
            "notices": replay["notices"], "posts": replay["posts"]}
