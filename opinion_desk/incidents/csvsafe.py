"""CSV that opens safely in a spreadsheet (Excel, WPS): UTF-8 with a BOM (without one Excel reads the local code
page: 乱码), and no cell a spreadsheet would run as a formula.

A cell that starts with ``=``, ``+``, ``-``, ``@`` (or their full-width forms, which WPS also evaluates), a tab or
a line break gets a leading apostrophe and is shown as text (OWASP "CSV injection"): an incident titled
``=HYPERLINK("http://…","点此")`` must not become a link in the monthly report. Numbers are left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BOM = "\ufeff"
CONTENT_TYPE = "text/csv; charset=utf-8"


def cell(value: Any) -> Any:
    """One value for a cell: None -> "", True/False -> 是/否, text that could run as a formula prefixed with '."""
    if value is None:
        return ""
    if value is True or value is False:
        return "是" if value else "否"
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


class SafeDictWriter(csv.DictWriter):
    """:class:`csv.DictWriter` whose every cell (header included) goes through :func:`cell`."""

    def writerow(self, rowdict: Mapping[str, Any]) -> Any:
        return super().writerow({k: cell(v) for k, v in rowdict.items()})


def to_csv(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> str:
    """The rows as CSV text (BOM, header, CRLF lines, cells neutralised)."""
    buf = io.StringIO()
    buf.write(BOM)
    w = SafeDictWriter(buf, fieldnames=list(columns), extrasaction="ignore", lineterminator="\r\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    return buf.getvalue()
