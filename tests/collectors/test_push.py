"""Crawler output formats accepted by the push API and the file import."""

from __future__ import annotations

import json

from opinion_desk.collectors.push import convert_items, items_from_payload


def test_weibo_crawler_json_file_as_is(shared_dir):
    payload = json.loads((shared_dir / "data/formats/crawlers/weibo-crawler__README_json_output_example_1669879400.json")
                         .read_text(encoding="utf-8"))
    items, source = items_from_payload(payload, "weibo-crawler", "wbc")
    posts, errors = convert_items(items, "weibo-crawler", source)
    assert errors == [] and len(posts) == 2
    a, b = posts
    assert a.source_id == "4454572602912349" and a.author == "Dear-迪丽热巴" and a.author_id == "1669879400"
    assert a.author_type == "verified" and a.reposts == 1000000 and a.created_at.isoformat() == "2019-12-27T16:00:00+00:00"
    assert "//转发 @法国娇韵诗：#点萃成金" in b.text
    assert a.raw["bid"] == "ImTGkcdDn"


def test_mediacrawler_records_full_and_teaching_edition():
    full = {"note_id": "4999000000000401", "content": "化工厂周边居民反映夜间噪音", "create_time": 1718733600,
            "create_date_time": "2024-06-18 18:00:00+08:00", "liked_count": "12", "comments_count": "3",
            "shared_count": "1", "last_modify_ts": 1718740000000, "note_url": "https://m.weibo.cn/detail/4999000000000401",
            "ip_location": "河南", "user_id": "6000000005", "nickname": "居民A", "gender": "f",
            "profile_url": "https://m.weibo.cn/u/6000000005", "avatar": "", "source_keyword": "化工厂"}
    teaching = {"note_id": "4999000000000402", "content": "又停水了", "create_time": 1718733600,
                "liked_count": "0", "comments_count": "0", "shared_count": "0", "last_modify_ts": 1718740000000,
                "note_url": "https://m.weibo.cn/detail/4999000000000402", "creator_hash": "a1b2c3d4e5f60718",
                "nickname": "居***", "source_keyword": "停水"}
    posts, errors = convert_items([full, teaching, {"content": "无 id"}], "mediacrawler", "mc")
    assert [e.field for e in errors] == ["note_id"]
    a, b = posts
    assert a.created_at.isoformat() == "2024-06-18T10:00:00+00:00" and a.likes == 12 and a.region == "河南"
    # only create_time: MediaCrawler's 8-hour shift is taken back
    assert b.created_at == a.created_at and b.author_id == "a1b2c3d4e5f60718"


def test_push_api_accepts_crawler_formats(client, ingest_headers, shared_dir, app):
    body = (shared_dir / "data/formats/crawlers/weibo-crawler__README_json_output_example_1669879400.json").read_bytes()
    r = client.post("/api/v1/posts?format=weibo-crawler&source=wbc", data=body, headers=ingest_headers,
                    content_type="application/json")
    assert r.status_code == 202, r.get_json()
    assert r.get_json()["accepted"] == 2
    r = client.post("/api/v1/posts?format=nope", json=[], headers=ingest_headers)
    assert r.status_code == 400 and r.get_json()["field"] == "format"
