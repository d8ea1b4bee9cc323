"""What a run could not do fully shows on the source's health: a long Weibo post whose full text failed (stored,
flagged truncated), an unsure encoding guess; and ``[collectors] accounts`` types the authors of a real run."""

from __future__ import annotations

import pytest

from opinion_desk import jobs
from tests.collectors.standins import Reply, StandIn, WeiboStandIn
from tests.collectors.format_cases import FMT


@pytest.fixture
def sites():
    wb, site = WeiboStandIn(), StandIn()
    wb.timelines["7000000003"] = {"": "formats/weibo_timeline_7000000003.json"}
    site.routes["/fr.xml"] = Reply(200, (FMT / "undeclared_latin1.rss.xml").read_bytes(), {"Content-Type": "text/xml"})
    yield wb, site
    wb.close()
    site.close()


@pytest.fixture
def app_config(app_config, tmp_path, sites):
    wb, site = sites
    d = tmp_path / "sources"
    d.mkdir()
    (d / "s.yaml").write_text(f"""sources:
  - name: wb
    type: weibo
    mode: user
    uids: ["7000000003"]
    base_url: {wb.url}
    credentials: {{cookie: "{wb.cookie}"}}
  - name: fr
    type: rss
    url: {site.url}/fr.xml
    fetch_full: never
""", encoding="utf-8")
    app_config["collectors"] = {"sources_dir": str(d), "host_interval": 0,
                                "accounts": {"7000000003": "gov", "Le Journal de la Vallée": "media"}}
    return app_config


def test_truncated_long_post_and_unsure_encoding_on_the_health_page(app, client):
    jobs.collector_jobs(app.desk)
    sched = app.desk.scheduler
    with app.app_context():
        wb = sched.run_source("wb")
        fr = sched.run_source("fr")
    assert wb["status"] == "ok" and wb["last_items"] == 4
    row = client.get("/api/v1/sources/wb").get_json()
    assert any("全文未取到" in n for n in row["last_notes"]), row["last_notes"]
    assert any("把握不大" in n for n in client.get("/api/v1/sources/fr").get_json()["last_notes"]), fr
    store = app.desk.store
    store.refresh()
    from opinion_desk.models import post_id

    long = store.get(post_id("wb", "4999000000000302"))
    assert long.truncated is True and long.author_type == "gov" and long.text.startswith("【防汛应急响应】")
    assert store.get(post_id("fr", "https://journal.example.fr/a/1")).author_type == "media"
