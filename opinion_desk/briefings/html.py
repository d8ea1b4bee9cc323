"""The briefing as one self-contained HTML page (charts inline as ``data:`` PNGs), readable in a browser at any
width and usable as the body of the mail (charts there as ``cid:`` parts). Rendered outside any request."""

from __future__ import annotations

import base64
import functools
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from . import text
from .facts import LIST_CAP, Facts

TEMPLATES = Path(__file__).resolve().parent.parent / "web" / "templates"
RESULT_CLASSES = {"按时": "res-met", "超时": "res-missed", "进行中": "res-running"}


@functools.cache
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def render(facts: Facts, images: dict[str, str], desk_name: str = "舆情值班台") -> str:
    """``images`` maps ``volume`` and ``sentiment`` to an image address (a data URI, or ``cid:...`` in mail)."""
    return _env().get_template("briefings_report.html").render(
        f=facts, t=text, images=images, desk_name=desk_name, cap=LIST_CAP, classes=RESULT_CLASSES)


def plain_text(facts: Facts) -> str:
    """The mail's plain-text part: the overview and the section summaries."""
    lines = [facts.period.title(), text.span_line(facts), "", text.overview(facts), "",
             text.trend(facts), text.alerts_line(facts), text.incidents_line(facts), text.publications_line(facts)]
    if facts.events:
        lines += ["", "热点事件："]
        lines += [f"{i}. {e['label']}（{e['posts']:,} 条，负面 {e['neg']:,} 条）— {e['status']}"
                  for i, e in enumerate(facts.events, 1)]
    lines += ["", "完整简报见附件（Word 文档）。"]
    return "\n".join(lines)
