"""Email over SMTP (``[alerting] smtp_*``): a Chinese HTML + plain-text message to ``to``."""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from ...errors import DeliveryError
from .base import Channel, render, title


class EmailChannel(Channel):
    kind = "email"
    REQUIRED = ("to",)

    def message(self, payload: dict[str, Any]) -> EmailMessage:
        s = self.settings
        msg = EmailMessage()
        msg["Subject"] = title(payload)
        msg["From"] = self.conf.get("from") or s.get("mail_from") or "opinion-desk@localhost"
        to = self.conf["to"]
        msg["To"] = ", ".join(to if isinstance(to, list) else [to])
        msg["Date"] = formatdate(localtime=True)
        msg["Message-ID"] = make_msgid(domain="opinion-desk")
        msg.set_content(render("email.txt", payload), charset="utf-8")
        msg.add_alternative(render("email.html", payload), subtype="html", charset="utf-8")
        return msg

    def send(self, payload: dict[str, Any]) -> None:
        s = self.settings
        host = self.conf.get("smtp_host") or s.get("smtp_host")
        if not host:
            raise DeliveryError(self.name, "no SMTP server configured ([alerting] smtp_host)", retryable=False)
        port = int(self.conf.get("smtp_port") or s.get("smtp_port") or 25)
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
