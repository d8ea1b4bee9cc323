"""The web desk: blueprints and Socket.IO handlers. One registry of blueprints, :data:`BLUEPRINTS`."""

from __future__ import annotations

from importlib import import_module

from flask import Flask

# "module:attribute" of each blueprint, registered in this order
BLUEPRINTS = [
    "opinion_desk.web.auth:bp",  # login/logout, the login requirement for every page and API
    "opinion_desk.web.dashboard:bp",
    "opinion_desk.web.api:bp",
    "opinion_desk.web.sources:bp",  # source health pages and API
    "opinion_desk.web.alerts:bp",  # alerts, silences
    "opinion_desk.web.incidents:bp",  # incidents, drafts, approvals, timeliness
    "opinion_desk.web.briefings:bp",  # 舆情简报: the list, the form, the Word and HTML files
    "opinion_desk.web.statements:bp",  # the public read-only statement pages the answers link to
    "opinion_desk.web.search:bp",  # 检索: the search page, its API and CSV export
    "opinion_desk.web.posts:bp",  # 帖子详情: analysis, near-duplicates, evidence, 立案
    "opinion_desk.web.events:bp",  # 事件传播路径: first poster, repost tree, spreaders, time axis
]


def init_app(app: Flask) -> None:
    from .params import init_app as checked_params

    checked_params(app)  # a bad query parameter or input item is a 400 naming it, on every blueprint
    init_display(app)
    for target in BLUEPRINTS:
        mod, _, attr = target.partition(":")
        app.register_blueprint(getattr(import_module(mod), attr))
    from . import live  # noqa: F401  (Socket.IO handlers of the /desk namespace)


def init_display(app: Flask) -> None:
    """What every template shows a person: times in the desk's zone (``{{ t|localtime }}``, the zone in
    ``<meta name="desk-tz">`` for the pages' scripts) and display names of platforms and sources."""
    from .. import display, timefmt

    tz = timefmt.zone(app.config["DESK"])
    app.jinja_env.filters["localtime"] = lambda t, pattern=timefmt.SECONDS: timefmt.fmt(t, tz, pattern)
    app.jinja_env.filters["platform_zh"] = display.platform_name
    app.jinja_env.globals["desk_tz"] = tz.key
    app.jinja_env.globals["desk_tz_label"] = timefmt.zone_label(tz)

    @app.context_processor
    def desk_names() -> dict[str, object]:  # the tables the pages' scripts name platforms and sources by
        titles = display.source_titles(app.desk.sources.specs)  # type: ignore[attr-defined]
        return {"desk_names": {"platforms": display.PLATFORMS, "sources": titles},
                "source_zh": lambda name: display.source_name(name, titles)}
