"""The composition root: one Desk builds each part once and wires who hears what, per role."""

from __future__ import annotations

from pathlib import Path

from opinion_desk import broadcast, create_app
from opinion_desk.config import load_config
from opinion_desk.ingest_worker import QueueIntake
from opinion_desk.root import Desk
from tests.conftest import make_test_config


def _desk(tmp_path: Path, analyzer, role: str = "all", **kw) -> Desk:  # noqa: ANN001
    cfg = load_config(path=None, env={}, overrides=make_test_config(tmp_path))
    return Desk(cfg, role=role, analyzer_factory=lambda: analyzer, **kw)  # type: ignore[arg-type]


def test_one_of_each_part_shared_by_its_collaborators(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    desk = _desk(tmp_path, analyzer)
    try:
        assert desk.pipeline.store is desk.store is desk.engine.store is desk.incidents.store is desk.briefings.store
        assert desk.scheduler.statedb is desk.state is desk.incidents.db is desk.engine.statedb
        assert desk.dispatcher.on_alert in desk.engine.alert_listeners
        assert desk.dispatcher.on_resolved in desk.engine.resolve_listeners
        # post stored -> rules and live feed, in this process
        assert desk.engine.on_posts in desk.pipeline.hooks and broadcast.posts in desk.pipeline.hooks
        assert desk.intake is desk.pipeline and desk.leases is None and desk.feed is None
    finally:
        desk.close()


def test_the_app_is_an_adapter_over_a_desk(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    desk = _desk(tmp_path, analyzer)
    app = create_app(desk=desk)
    try:
        assert app.desk is desk and app.config["DESK"] is desk.cfg and app.secret_key == desk.secret_key
    finally:
        desk.close()


def test_an_import_without_a_message_queue_keeps_no_live_feed(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    desk = _desk(tmp_path, analyzer, live_feed=False)
    try:
        assert broadcast.posts not in desk.pipeline.hooks and desk.engine.on_posts in desk.pipeline.hooks
    finally:
        desk.close()


def test_roles_route_posts_through_the_state_database(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    web = _desk(tmp_path / "web", analyzer, role="web")
    worker = _desk(tmp_path / "worker", analyzer, role="worker")
    try:
        # web: pushed posts go to the ingest queue; nothing runs in the background
        assert isinstance(web.intake, QueueIntake) and web.leases is None
        web.start()
        assert web.scheduler.aps.get_jobs() == []
        # worker: stored posts go to the rule feed, not straight to its engine; singletons run under leases
        assert worker.feed is not None and worker.leases is not None and worker.scheduler.leases is worker.leases
        assert worker.engine.on_posts not in worker.pipeline.hooks and worker.feed_posts in worker.pipeline.hooks
        # its collectors queue their posts: the analysis lease holder clusters every post with one analyzer
        assert isinstance(worker.scheduler.pipeline, QueueIntake)
    finally:
        web.stop()
        web.close()
        worker.close()


def test_a_web_process_shows_the_rules_the_workers_fire(tmp_path: Path, analyzer) -> None:  # noqa: ANN001
    """The rules page of a web process reads what the rules lease holder saved (its own engine sees no post)."""
    from datetime import datetime, timezone

    from opinion_desk.models import Post

    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "f.yaml").write_text("name: 积水\ntype: frequency\ntimeframe: 1h\nnum_events: 2\nquery_key: source\n"
                                  "filter:\n  keywords: [积水]\n", encoding="utf-8")
    shared = {"state": {"url": f"sqlite:///{tmp_path / 'state.db'}"}, "rules": {"dir": str(rules)}}

    def desk(name: str, role: str) -> Desk:
        over = make_test_config(tmp_path / name, **shared)
        return Desk(load_config(path=None, env={}, overrides=over), role=role,  # type: ignore[arg-type]
                    analyzer_factory=lambda: analyzer)

    worker, web = desk("worker", "worker"), desk("web", "web")
    try:
        now = datetime.now(timezone.utc)
        worker.engine.on_posts([Post(source="wb", source_id=str(i), text="人民路积水", tokens=["人民路", "积水"],
                                     created_at=now, collected_at=now) for i in range(3)])
        worker.engine.save_state()
        app = create_app(desk=web)
        with app.test_request_context():
            from opinion_desk.web.alerts import rules_status

            firing = {r["name"]: r["firing"] for r in rules_status().get_json()["rules"]}
        assert firing == {"积水": ["wb"]}
    finally:
        worker.close()
        web.close()
