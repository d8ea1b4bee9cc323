"""Credentials out of text that people read: error messages (which reach logs, pages and the audit log) often
quote a request URL, and the platforms put credentials in the query (``access_token=``, ``secret=``, ``key=``,
``sign=``). :func:`scrub_query` replaces their values with ``***``; what is left still names the host and path."""

from __future__ import annotations

import re

SECRET_PARAMS = re.compile(r"(?i)([?&](?:access_token|token|secret|appsecret|key|sign|password|api_key)=)[^&#\s'\"<>)]*")


def scrub_query(text: str) -> str:
    """``text`` with the values of credential-like query parameters replaced by ``***``."""
    return SECRET_PARAMS.sub(r"\1***", text)
