"""Mailing a briefing to the named leaders through the alerting outbox: one outbox row for the email channel
named by ``[briefings] channel``, whose payload carries the subject, the HTML body (charts as inline ``cid:``
images), the plain text, the addresses and the .docx as an attachment (see
:class:`~opinion_desk.alerting.channels.email.EmailChannel`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..state.users import User

DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def resolve(s: Session, names: list[str]) -> tuple[list[str], list[str]]:
    """Recipients -> (addresses, problems). An entry is an address (has '@') or a desk username whose account
    has an email address; each one that cannot be used is named in Chinese."""
    addrs: list[str] = []
    problems: list[str] = []
    for name in names:
        name = str(name).strip()
        if not name:
            continue
        if "@" in name:
            addrs.append(name)
            continue
        u = s.scalars(select(User).where(User.username == name)).first()
        if u is None:
            problems.append(f"收件人 {name}：没有这个用户")
        elif not u.active:
            problems.append(f"收件人 {name}：账号已停用")
        elif not u.email:
            problems.append(f"收件人 {name}（{u.name}）：账号未填写邮箱")
        else:
            addrs.append(u.email)
    return list(dict.fromkeys(addrs)), problems


def payload(subject: str, html: str, text: str, to: list[str], docx: Path, charts: dict[str, Path],
            filename: str) -> dict[str, Any]:
    """``filename`` is the name the leader sees on the attachment (Chinese: 舆情日报（2026年11月24日…）.docx)."""
    return {"kind": "briefing", "subject": subject, "html": html, "text": text, "to": to,
            "attachments": [{"path": str(docx), "filename": filename, "mime": DOCX_MIME}],
            "inline": [{"cid": f"{name}@briefing", "path": str(p), "mime": "image/png"} for name, p in charts.items()]}
