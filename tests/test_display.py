"""Names a person reads (opinion_desk/display.py): platforms, sources (``title:`` in the YAML), users."""

from __future__ import annotations

from opinion_desk import display
from opinion_desk.collectors.sources import load_sources


def test_platform_names_from_one_table():
    assert display.platform_name("weibo") == "微博" and display.platform_name("wechat") == "微信公众号"
    assert display.platform_name("gov") == "政府网站" and display.platform_name("WEB") == "网站"
    assert display.platform_name("mastodon") == "mastodon" and display.platform_name(None) == "—"


def test_source_title_from_its_yaml(tmp_path):
    (tmp_path / "a.yaml").write_text("""sources:
  - name: county-rss
    type: rss
    url: http://127.0.0.1:9/rss.xml
    title: 县政府网站
  - name: county-news
    type: rss
    url: http://127.0.0.1:9/news.xml
    display_name: 县融媒体中心
  - name: plain
    type: rss
    url: http://127.0.0.1:9/plain.xml
""", encoding="utf-8")
    found = load_sources(tmp_path)
    assert found.problems == []
    titles = display.source_titles(found.specs)
    assert display.source_name("county-rss", titles) == "县政府网站"
    assert display.source_name("county-news", titles) == "县融媒体中心"
    assert display.source_name("plain", titles) == "plain" and display.source_name("demo", titles) == "演示数据"


def test_user_display_names():
    names = {"wangzb": "王值班"}
    assert display.user_name("wangzb", names) == "王值班" and display.user_name("lisi", names) == "lisi"
    assert display.user_name("system", names) == "系统" and display.user_name("cli:root", names) == "命令行（root）"
