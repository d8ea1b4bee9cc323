"""Making, keeping and mailing briefings: :class:`BriefingDesk` is built once with its collaborators (the post
store, the state database, the config, the outbox or none) and used by the schedule, the web page and the CLI.

Files live in ``data_dir/briefings/`` (``<slug>-<time>.docx``, ``.html`` and the chart PNGs the mail embeds);
each briefing has a row in the ``briefings`` table (:class:`~opinion_desk.state.briefings.BriefingRow`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import select

from ..errors import BriefingError
from ..state import StateDB
from ..state.alerts import OutboxRow
from ..state.briefings import BriefingRow
from ..store.base import PostStore
from . import facts, html, mail
from .period import Period, desk_zone, due

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class BriefingDesk:
    def __init__(self, cfg: Any, store: PostStore, statedb: StateDB, outbox: Any = None,
                 clock: Callable[[], datetime] = _utcnow) -> None:
        self.cfg = cfg
        self.store = store
        self.db = statedb
        self.outbox = outbox  # an alerting Outbox, or None (the CLI without mail)
        self.clock = clock
        self.tz = desk_zone(cfg)
        self.settings = cfg["briefings"]
        self.dir = cfg.data_path("briefings")

    # -- making ----------------------------------------------------------------------------------
    def make(self, period: Period, created_by: str = "system", send: bool = False) -> dict[str, Any]:
        """Gather, render (.docx, HTML, charts), keep the files and a row; mail it when ``send``. Returns the row."""
        now = self.clock()
        with self.db.session_scope() as s:
            f = facts.gather(self.store, s, self.cfg, period, now)
        from . import charts, word  # Pillow and python-docx load when a briefing is made, not with every desk

        pngs = {"volume": charts.volume_chart(f.buckets, f.bucket_unit), "sentiment": charts.sentiment_chart(f.sentiment)}
        self.dir.mkdir(parents=True, exist_ok=True)
        stem = f"{period.slug()}-{now.astimezone(self.tz):%Y%m%d%H%M%S}"
        n = 1
        while (self.dir / f"{stem}.docx").exists():
            n += 1
            stem = f"{period.slug()}-{now.astimezone(self.tz):%Y%m%d%H%M%S}-{n}"
        name = self.settings["issuer"]
        (self.dir / f"{stem}.docx").write_bytes(word.build(f, pngs, name))
        page = html.render(f, {k: html.data_uri(v) for k, v in pngs.items()}, name)
        (self.dir / f"{stem}.html").write_text(page, encoding="utf-8")
        for k, v in pngs.items():
            (self.dir / f"{stem}-{k}.png").write_bytes(v)
        with self.db.session_scope() as s:
            row = BriefingRow(kind=period.kind, title=period.title(), period_start=period.start, period_end=period.end,
                              generated_at=now, created_by=created_by, docx_file=f"{stem}.docx",
                              html_file=f"{stem}.html", figures=f.figures())
            s.add(row)
            s.flush()
            rid = row.id
        log.info("briefing %s made: %s (%s)", rid, period.title(), stem)
        if send:
            self.send(rid, f)
        return self.get(rid)

    def send(self, rid: int, f: facts.Facts | None = None) -> dict[str, Any]:
        """Queue the briefing's mail to ``[briefings] recipients``; the row says how it went (in Chinese)."""
        with self.db.session_scope() as s:
            row = s.get(BriefingRow, rid)
            if row is None:
                raise BriefingError("id", f"没有编号为 {rid} 的简报")
            addrs, problems = mail.resolve(s, list(self.settings["recipients"]))
            stem = row.docx_file.removesuffix(".docx")
            title, period = row.title, Period(row.kind, _aware(row.period_start), _aware(row.period_end), self.tz)
        channel = self.settings["channel"]
        status, ids = "error", []
        if not addrs:
            problems.insert(0, "没有可用的收件人（[briefings] recipients）")
        elif self.outbox is None or channel not in getattr(self.outbox, "channels", {}):
            problems.insert(0, f"邮件通道 {channel!r} 未配置（[alerting] smtp_host 与 mail_to，或 [alerting.channels] 中的 email 通道）")
        elif getattr(self.outbox.channels[channel], "kind", "") != "email":
            problems.insert(0, f"通道 {channel!r} 不是邮件通道，简报只能以邮件发送")
        else:
            if f is None:
                with self.db.session_scope() as s:
                    f = facts.gather(self.store, s, self.cfg, period, self.clock())
            images = {k: f"cid:{k}@briefing" for k in ("volume", "sentiment")}
            body = html.render(f, images, self.settings["issuer"])
            p = mail.payload(title, body, html.plain_text(f), addrs, self.dir / f"{stem}.docx",
                             {k: self.dir / f"{stem}-{k}.png" for k in ("volume", "sentiment")},
                             filename=f"{title}.docx")
            ids = self.outbox.enqueue(f"B{rid}", [channel], "briefing", p)
            status = "queued"
        with self.db.session_scope() as s:
            row = s.get(BriefingRow, rid)
            row.recipients, row.mail_status, row.mail_note, row.outbox_ids = addrs, status, "；".join(problems), ids
        if status != "queued" or problems:
            log.warning("briefing %s mail: %s", rid, "；".join(problems))
        return self.get(rid)

    # -- schedule --------------------------------------------------------------------------------
    def due_periods(self) -> list[Period]:
        """Scheduled briefings whose time has come and that were not made yet."""
        out = []
        for p in due(self.clock(), self.tz, self.settings["daily_at"], self.settings["weekly_on"]):
            with self.db.session_scope() as s:
                made = s.scalars(select(BriefingRow.id).where(BriefingRow.kind == p.kind, BriefingRow.created_by == "system",
                                                              BriefingRow.period_start == p.start)).first()
            if made is None:
                out.append(p)
        return out

    def tick(self) -> list[int]:
        """The schedule's job: make and mail each due briefing (at most one per kind)."""
        return [self.make(p, "system", send=bool(self.settings["recipients"]))["id"] for p in self.due_periods()]

    # -- reading ---------------------------------------------------------------------------------
    def get(self, rid: int) -> dict[str, Any]:
        with self.db.session_scope() as s:
            row = s.get(BriefingRow, rid)
            if row is None:
                raise BriefingError("id", f"没有编号为 {rid} 的简报")
            return row.to_dict()

    def list(self, limit: int = 100) -> list[dict[str, Any]]:
        """Newest first; a mailed one carries ``delivery``: sent | pending | failed (with the outbox's error)."""
        with self.db.session_scope() as s:
            rows = [r.to_dict() for r in s.scalars(select(BriefingRow).order_by(BriefingRow.generated_at.desc(),
                                                                                BriefingRow.id.desc()).limit(limit))]
            ids = [i for r in rows for i in r["outbox_ids"]]
            out = {o.id: o for o in s.scalars(select(OutboxRow).where(OutboxRow.id.in_(ids)))} if ids else {}
            for r in rows:
                mine = [out[i] for i in r["outbox_ids"] if i in out]
                if mine:
                    states = {o.status for o in mine}
                    r["delivery"] = "failed" if "failed" in states else "pending" if "pending" in states else "sent"
                    r["delivery_error"] = "；".join(o.last_error or "" for o in mine if o.status == "failed")
        return rows

    def file(self, rid: int, fmt: str) -> Path:
        """The kept .docx or .html of briefing ``rid``."""
        row = self.get(rid)
        p = self.dir / Path(row["docx_file" if fmt == "docx" else "html_file"]).name
        if not p.is_file():
            raise BriefingError("file", f"简报 {rid} 的文件 {p} 不存在（被移走或删除）")
        return p


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=timezone.utc)
