"""One answer, two channels (双微): a Weibo post and a WeChat Official Account article from one draft.

Weibo: at most :data:`WEIBO_MAX` characters (long Weibo), topics as ``#话题#``, and the office's safe-domain URL
(``[incidents.weibo] safe_url``, required by ``statuses/share``); :func:`weibo_summary` gives the 140-character
form. WeChat: title (at most :data:`TITLE_MAX`), digest (at most :data:`DIGEST_MAX`, from the body when empty)
and an HTML body in which every paragraph of the text is escaped (the text never becomes markup).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

WEIBO_MAX = 2000
WEIBO_SHORT = 140
TITLE_MAX = 64
DIGEST_MAX = 120


@dataclass
class Composed:
    weibo_text: str
    wechat_title: str
    wechat_digest: str
    wechat_body: str
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"weibo_text": self.weibo_text, "weibo_summary": weibo_summary(self.weibo_text),
                "wechat_title": self.wechat_title, "wechat_digest": self.wechat_digest,
                "wechat_body": self.wechat_body, "problems": self.problems, "weibo_length": len(self.weibo_text)}


def hashtag(topic: str) -> str:
    t = topic.strip().strip("#").strip()
    return f"#{t}#" if t else ""


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n|\r?\n", text) if p.strip()]


def body_html(text: str) -> str:
    """The WeChat article body: one escaped ``<p>`` per paragraph."""
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs(text))


def weibo_summary(weibo_text: str, limit: int = WEIBO_SHORT) -> str:
    return weibo_text if len(weibo_text) <= limit else weibo_text[: limit - 1] + "…"


def compose(title: str, text: str, topics: list[str] | None = None, safe_url: str = "", digest: str = "",
            signature: str = "") -> Composed:
    """Build both forms from one title + text. ``problems`` lists what must be fixed before approval."""
    problems: list[str] = []
    title = title.strip()
    text = text.strip()
    if not title:
        problems.append("标题不能为空")
    if not text:
        problems.append("正文不能为空")
    tags = " ".join(t for t in (hashtag(x) for x in (topics or [])) if t)
    head = f"{tags}【{title}】" if tags else f"【{title}】"
    tail = (f"（{signature}）" if signature else "") + (f" {safe_url}" if safe_url else "")
    body = " ".join(paragraphs(text))
    room = WEIBO_MAX - len(head) - len(tail)
    if len(body) > room:
        problems.append(f"微博正文超出 {WEIBO_MAX} 字，已截断 {len(body) - room} 字，请精简或只保留要点")
        body = body[: max(0, room - 1)] + "…"
    weibo = head + body + tail
    if len(title) > TITLE_MAX:
        problems.append(f"公众号标题超过 {TITLE_MAX} 字")
    digest = (digest or "").strip() or body[:DIGEST_MAX]
    if len(digest) > DIGEST_MAX:
        problems.append(f"摘要超过 {DIGEST_MAX} 字，已截断")
        digest = digest[:DIGEST_MAX]
    return Composed(weibo, title[:TITLE_MAX], digest, body_html(text), problems)
