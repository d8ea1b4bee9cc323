"""The 检索 API, the post page and the event page on Elasticsearch: the demo's 东河桥 and 园区爆炸 posts are found
with filters, sorted by reach, and the event's propagation path is the same as on the embedded store."""

from __future__ import annotations

import pytest

from tests.conftest import free_port
from tests.web.desk_posts import EVENT, seed

pytestmark = pytest.mark.elasticsearch


@pytest.fixture
def app_config(app_config, es_url):
    app_config["store"] = {"backend": "elasticsearch"}
    app_config["store.elasticsearch"] = {"urls": [es_url], "index_prefix": f"t-search-{free_port()}"}
    return app_config


@pytest.fixture
def posts(app, analyzer):
    got = seed(app, analyzer)
    yield got
    app.desk.store.delete_all()


def test_search_and_pages_on_elasticsearch(client, posts):
    d = client.get("/api/v1/search", query_string={"q": "东河桥"}).get_json()
    assert [p["id"] for p in d["posts"]] == [posts["bridge"].id]
    d = client.get("/api/v1/search", query_string={"q": "园区爆炸", "platform": "weibo", "author_type": "user",
                                                   "sort": "reach"}).get_json()
    assert [p["id"] for p in d["posts"]] == [posts["first"].id, posts["blast"].id]
    d = client.get("/api/v1/search", query_string={"topic": EVENT, "sort": "reach", "size": 2}).get_json()
    assert [p["id"] for p in d["posts"]] == [posts["gov"].id, posts["first"].id] and d["total"] == 7
    html = client.get(f"/posts/{posts['first'].id}").get_data(as_text=True)
    assert "校验一致" in html and "化工园区 爆炸" in html
    e = client.get(f"/api/v1/events/{EVENT}/propagation").get_json()
    assert e["first"]["id"] == posts["first"].id and e["depth"] == 4 and len(e["edges"]) == 7
