"""``whitelist``: a post whose ``compare_key`` value is NOT on the list is a match at once (ElastAlert's
whitelist), e.g. an account posting in the name of the county that is not one of its official accounts. A post
without the field matches only with ``ignore_null: false``."""

from __future__ import annotations

from .lists import ListRule, list_options


class WhitelistRule(ListRule):
    name = "whitelist"
    kind = "whitelist"
    summary = "白名单：帖子的指定字段不在名单中即告警（如冒用官方名义的账号）"
    OPTIONS = {**list_options("whitelist"),
               "ignore_null": {"type": "boolean", "description": "posts without the field never match (default true)"}}
    REQUIRED = ("compare_key",)
    DEFAULTS = {"ignore_null": True}
    MATCH_FIELDS = ("compare_key", "compare_value")
    verb = "不在白名单中"

    def hit(self, found: list[str]) -> list[str]:
        if not found:
            return [] if self.o["ignore_null"] else ["（空）"]
        return [v for v in found if v not in self.values]
