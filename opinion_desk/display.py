"""Names a person reads instead of slugs: platforms (weibo -> 微博), sources (a source's ``title:`` in its YAML),
users (display name instead of login name). One table per kind, used by pages, CLI output and exports."""

from __future__ import annotations

from typing import Any, Iterable

#: platform slug -> the word a person reads
PLATFORMS: dict[str, str] = {
    "weibo": "微博", "wechat": "微信公众号", "news": "新闻", "web": "网站", "gov": "政府网站", "forum": "论坛",
    "video": "视频", "douyin": "抖音", "kuaishou": "快手", "toutiao": "今日头条", "bilibili": "哔哩哔哩",
    "zhihu": "知乎", "tieba": "百度贴吧", "xiaohongshu": "小红书", "rss": "RSS 订阅", "app": "客户端",
    "hotline": "12345 热线", "demo": "演示",
}

#: sources that exist without a YAML file
BUILTIN_SOURCES: dict[str, str] = {"demo": "演示数据", "api": "接口推送", "import": "批量导入"}


def platform_name(slug: str | None) -> str:
    """微博 for ``weibo``; an unknown platform shows as it was given; none shows as —."""
    if not slug:
        return "—"
    return PLATFORMS.get(str(slug).lower(), str(slug))


def source_titles(specs: Iterable[Any]) -> dict[str, str]:
    """Source name -> its display name (``title:`` / ``display_name:`` of its YAML, else its description)."""
    out = dict(BUILTIN_SOURCES)
    for s in specs:
        t = getattr(s, "title", "") or getattr(s, "description", "")
        if t:
            out[s.name] = t
    return out


def source_name(name: str | None, titles: dict[str, str] | None = None) -> str:
    """A source's display name: its title when it has one, else its name."""
    if not name:
        return "—"
    return (titles or BUILTIN_SOURCES).get(name, name)


def user_name(username: str | None, names: dict[str, str]) -> str:
    """A user's display name (``users.name``) when known, else the login name; ``cli:…`` and ``system`` read as
    命令行 / 系统."""
    if not username:
        return "—"
    if username in names and names[username]:
        return names[username]
    if username == "system":
        return "系统"
    if username.startswith("cli:"):
        return f"命令行（{username[4:]}）"
    if username == "cli":
        return "命令行"
    return username
