"""``blacklist``: a post whose ``compare_key`` value (an author, a source, a link, a hashtag ...) is on the list
is a match at once (ElastAlert's blacklist); the list is written in the rule or kept in ``blacklist_file``.
With ``compare_key: link_domains`` (the hosts of the addresses written in the post) a listed domain also covers
its subdomains."""

from __future__ import annotations

from .lists import ListRule, list_options


class BlacklistRule(ListRule):
    name = "blacklist"
    kind = "blacklist"
    summary = "黑名单：帖子的指定字段命中名单即告警（如重点账号、有害链接）"
    OPTIONS = list_options("blacklist")
    REQUIRED = ("compare_key",)
    MATCH_FIELDS = ("compare_key", "compare_value")
    verb = "在黑名单中"

    def hit(self, found: list[str]) -> list[str]:
        if self.field == "link_domains":  # a listed domain covers its subdomains (m.evil.cn is evil.cn)
            return [v for v in found if any(".".join(v.split(".")[i:]) in self.values for i in range(v.count(".")))]
        return [v for v in found if v in self.values]
