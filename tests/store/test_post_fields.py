"""The fields issue 17 added to posts (pictures, platform ids of the propagation path, time_unknown, truncated)
come back from both stores as they went in."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from opinion_desk.models import Post
from tests.store.conftest import make_elastic


def test_images_parent_ids_and_flags_round_trip(store):
    t = datetime(2024, 6, 18, 12, 40, tzinfo=timezone.utc)
    p = Post(source="wb", source_id="4999000000001004", text="（图片）", created_at=t, collected_at=t,
             images=[{"url": "https://wx3.sinaimg.cn/large/006abc1004.jpg", "alt": "积水"}],
             mid="4999000000001004", repost_of="", reply_to="4999000000000301", time_unknown=True, truncated=True,
             author="河边住户", author_type="user")
    store.index([p])
    store.refresh()
    got = store.get(p.id)
    assert got is not None
    assert got.images == p.images and got.mid == p.mid and got.reply_to == "4999000000000301"
    assert got.time_unknown is True and got.truncated is True and got.text == "（图片）"



@pytest.mark.elasticsearch
def test_an_index_made_before_the_new_fields_learns_them(es_url):
    s = make_elastic(es_url)
    try:
        old = f"{s.prefix}-2024.06"
        s.client.indices.create(index=old, mappings={"dynamic": False, "properties": {"id": {"type": "keyword"}}},
                                aliases={s.prefix: {}})
        s.ensure_template()
        props = s.client.indices.get_mapping(index=old)[old]["mappings"]["properties"]
        assert props["repost_of"] == {"type": "keyword"} and props["time_unknown"] == {"type": "boolean"}
        assert props["images"]["enabled"] is False
    finally:
        s.delete_all()
        s.close()


def test_event_and_rumour_reasons_round_trip(store):
    """Issue 13: the event a post belongs to, its 诉求 score and why its rumour score is what it is."""
    t = datetime(2024, 6, 18, 12, 40, tzinfo=timezone.utc)
    p = Post(source="wb", source_id="4999000000001005", text="人民医院门口又堵了半小时，停车太难了[怒]", created_at=t,
             collected_at=t, event_id="e0123456789", event_label="医院/停车", complaint_score=0.6,
             rumour_score=0.3, rumour_reasons=["诉求类（又堵、停车太难），不计为谣言；文本分 0.74"])
    store.index([p])
    store.refresh()
    got = store.get(p.id)
    assert got is not None and got.event_id == "e0123456789" and got.event_label == "医院/停车"
    assert got.complaint_score == 0.6 and got.rumour_reasons == p.rumour_reasons
