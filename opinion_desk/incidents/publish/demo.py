"""The 演示 publisher: both channels, nothing leaves the desk.

Chosen only by ``opinion-desk run --demo`` (``[desk] demo``) or explicitly by ``[incidents] publisher = "demo"``
(see :func:`~opinion_desk.incidents.publish.mode`). Its publication points at the desk's own public statement
page, so a newcomer can open it, and it counts as live at once; every result carries ``mode = "demo"`` and the
label 演示, which the workspace, the results and the audit log show.
"""

from __future__ import annotations

import itertools
from typing import Any

from . import CHANNEL_ZH, AccountCheck, LiveCheck, MassSends, PublishContext, PublishResult

_serial = itertools.count(1)


class DemoPublisher:
    mode = "demo"

    def __init__(self, channel: str) -> None:
        self.channel = channel

    @classmethod
    def from_config(cls, cfg: Any, channel: str, mass_sends: MassSends) -> "DemoPublisher":
        return cls(channel)

    def publish(self, draft: Any, ctx: PublishContext) -> PublishResult:
        rid = f"DEMO-{self.channel}-{getattr(draft, 'id', 0)}-{next(_serial)}"
        url = f"{ctx.link}{'&' if '?' in ctx.link else '?'}channel={self.channel}" if ctx.link else ""
        return PublishResult(self.channel, rid, url, mode="demo",
                             details={"label": "演示", "note": f"演示发布：{CHANNEL_ZH[self.channel]}并未真正发出"})

    def check_account(self, ctx: PublishContext) -> AccountCheck:
        return AccountCheck(self.channel, "demo", True, f"演示发布：{CHANNEL_ZH[self.channel]}不会真正发出，结果标记为「演示」",
                            detail="[desk] demo = true 或 [incidents] publisher = \"demo\"")

    def check_live(self, remote_id: str, url: str, details: dict[str, Any]) -> LiveCheck:
        return LiveCheck("live", "演示：视为已上线（未真正发布）")
