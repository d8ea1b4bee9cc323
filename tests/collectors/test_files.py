"""File import: JSONL / CSV with a field mapping, read incrementally, bad lines skipped and noted."""

from __future__ import annotations

import json

import pytest

from opinion_desk.errors import CollectorError
from tests.collectors.standins import make


def test_csv_with_mapping_in_gbk_and_incremental(tmp_path):
    f = tmp_path / "export.csv"
    f.write_bytes("编号,内容,发布时间,作者\n1,化工厂附近有异味,2024-06-18 10:00:00,张三\n2,停水通知收到,2024-06-18 11:00:00,李四\n"
                  .encode("gbk"))
    c = make("files", path=str(tmp_path / "*.csv"), encoding="gbk",
             mapping={"source_id": "编号", "text": "内容", "created_at": "发布时间", "author": "作者"})
    res = c.collect({})
    assert [(p.source_id, p.author) for p in res.posts] == [("1", "张三"), ("2", "李四")]
    assert res.posts[0].created_at.isoformat() == "2024-06-18T02:00:00+00:00"
    assert res.posts[0].raw == {"编号": "1", "内容": "化工厂附近有异味", "发布时间": "2024-06-18 10:00:00", "作者": "张三"}
    with open(f, "ab") as fh:
        fh.write("3,县医院挂号难,2024-06-18 12:00:00,王五\n".encode("gbk"))
    more = c.collect(res.cursor)
    assert [p.source_id for p in more.posts] == ["3"]


def test_jsonl_partial_line_waits_and_bad_lines_are_noted(tmp_path):
    f = tmp_path / "a.jsonl"
    good = {"id": "a1", "text": "第一条", "created_at": "2024-06-18T10:00:00+08:00"}
    f.write_text(json.dumps(good, ensure_ascii=False) + "\n{broken\n" + '{"id": "a2", "text": "写了一半', encoding="utf-8")
    c = make("files", path=str(f))
    res = c.collect({})
    assert [p.source_id for p in res.posts] == ["a1"]
    assert any("a.jsonl:2" in n for n in res.notes)
    with open(f, "a", encoding="utf-8") as fh:
        fh.write('", "created_at": "2024-06-18T11:00:00+08:00"}\n')
    more = c.collect(res.cursor)
    assert [p.source_id for p in more.posts] == ["a2"]


def test_weibo_crawler_csv_rows_via_item_format(tmp_path):
    header = "id,bid,正文,头条文章url,原始图片url,视频url,Live Photo视频url,位置,日期,工具,点赞数,评论数,转发数,话题,@用户,完整日期,是否编辑过,编辑次数,是否原创"
    row = "4999000000000301\t,NrC000301,化工厂的事有进展吗,,,,,,2024-06-18T20:00:00,iPhone客户端,5,1.2万,3,,,2024-06-18 20:00:00,False,0,True"
    (tmp_path / "7000000009.csv").write_text(header + "\n" + row + "\n", encoding="utf-8-sig")
    res = make("files", path=str(tmp_path / "*.csv"), item_format="weibo-crawler").collect({})
    (p,) = res.posts
    assert p.source_id == "4999000000000301" and p.comments == 12000
    assert p.created_at.isoformat() == "2024-06-18T12:00:00+00:00"


def test_every_line_bad_fails(tmp_path):
    (tmp_path / "x.jsonl").write_text("nope\nstill nope\n", encoding="utf-8")
    with pytest.raises(CollectorError, match="every new line is bad"):
        make("files", path=str(tmp_path / "x.jsonl")).collect({})
