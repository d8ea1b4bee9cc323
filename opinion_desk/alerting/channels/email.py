"""Email over SMTP (``[alerting] smtp_*``): a Chinese HTML + plain-text message to ``to``. An incident notice
(``kind = "escalation"``) also goes to the addresses of the people it names (the approvers, the department's
contacts), as plain text; the built-in ``email`` channel exists whenever ``smtp_host`` is set, so those people
are written to even when ``mail_to`` is empty."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from ...errors import DeliveryError
from .base import Channel, mentions, render, title


class EmailChannel(Channel):
    kind = "email"
    REQUIRED = ()

    def __init__(self, name: str, conf: dict[str, Any], settings: dict[str, Any] | None = None) -> None:
        if not conf.get("to") and not conf.get("people_only"):
            raise ValueError(f"channel '{name}'（{self.kind}）：缺少 to（收件人）")
        super().__init__(name, conf, settings)

    def recipients(self, payload: dict[str, Any]) -> list[str]:
        if payload.get("kind") == "briefing":  # a briefing names its own readers (the leaders), not the duty box
            return list(payload.get("to") or [])
        to = self.conf.get("to") or []
        to = list(to if isinstance(to, list) else [to])
        if payload.get("kind") == "escalation":
            to += [a for a in mentions(payload, "email") if a not in to]
        return to

    def message(self, payload: dict[str, Any]) -> EmailMessage:
        if payload.get("kind") == "briefing":
            return self.briefing(payload)
        s = self.settings
        msg = EmailMessage()
        msg["Subject"] = payload["subject"] if payload.get("kind") == "audit_digest" else title(payload)
        msg["From"] = self.conf.get("from") or s.get("mail_from") or "opinion-desk@localhost"
        msg["To"] = ", ".join(self.recipients(payload))
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain="opinion-desk")
        if payload.get("kind") == "escalation":
            msg.set_content(render("escalation.txt", payload), charset="utf-8")
            return msg
        if payload.get("kind") == "audit_digest":  # the daily signed digest of the audit chain (audit_digest.py)
            msg.set_content(render("audit_digest.txt", payload), charset="utf-8")
            return msg
        msg.set_content(render("email.txt", payload), charset="utf-8")
        msg.add_alternative(render("email.html", payload), subtype="html", charset="utf-8")
        return msg

    def briefing(self, payload: dict[str, Any]) -> EmailMessage:
        """A 舆情简报 (:mod:`opinion_desk.briefings.mail`) brings its own ``subject``, ``text``, ``html`` and ``to``,
        with ``inline`` images the HTML shows as ``cid:`` and ``attachments`` (``{"path", "filename", "mime"}``);
        a file gone missing fails the delivery for good, naming the file."""
        msg = EmailMessage()
        msg["Subject"] = payload["subject"]
        msg["From"] = self.conf.get("from") or self.settings.get("mail_from") or "opinion-desk@localhost"
        msg["To"] = ", ".join(self.recipients(payload))
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain="opinion-desk")
        msg.set_content(payload["text"], charset="utf-8")
        msg.add_alternative(payload["html"], subtype="html", charset="utf-8")
        for part in payload.get("inline", []):
            main, _, sub = part.get("mime", "image/png").partition("/")
            msg.get_payload()[-1].add_related(self._read(part["path"]), main, sub, cid=f"<{part['cid']}>")
        for part in payload.get("attachments", []):
            main, _, sub = part.get("mime", "application/octet-stream").partition("/")
            msg.add_attachment(self._read(part["path"]), main, sub, filename=part["filename"])
        return msg

    def _read(self, path: str) -> bytes:
        try:
            return Path(path).read_bytes()
        except OSError as e:
            raise DeliveryError(self.name, f"attachment {path}: {e.strerror or e}", retryable=False) from None

    def send(self, payload: dict[str, Any]) -> None:
        s = self.settings
        host = self.conf.get("smtp_host") or s.get("smtp_host")
        if not host:
            raise DeliveryError(self.name, "no SMTP server configured ([alerting] smtp_host)", retryable=False)
        port = int(self.conf.get("smtp_port") or s.get("smtp_port") or 25)
        if not self.recipients(payload):
            raise DeliveryError(self.name, "no recipients (set [alerting] mail_to, or give the people an email)",
                                retryable=False)
        msg = self.message(payload)
        try:
            with smtplib.SMTP(host, port, timeout=self.timeout) as smtp:
                if s.get("smtp_starttls"):
                    smtp.starttls(context=ssl.create_default_context())
                if s.get("smtp_user"):
                    smtp.login(s["smtp_user"], s.get("smtp_password", ""))
                smtp.send_message(msg)
        except smtplib.SMTPAuthenticationError as e:
            raise DeliveryError(self.name, f"SMTP login refused: {e.smtp_code} {e.smtp_error!r}", retryable=False) from None
        except smtplib.SMTPRecipientsRefused as e:
            raise DeliveryError(self.name, f"recipients refused: {sorted(e.recipients)}", retryable=False) from None
        except (smtplib.SMTPException, OSError) as e:
            raise DeliveryError(self.name, f"SMTP {host}:{port}: {type(e).__name__}: {e}") from None
