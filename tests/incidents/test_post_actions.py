"""帖子详情's actions: add a stored post to an incident (snapshotted as evidence, audited) and mark a post by the
official account as the incident's official answer (a manual publication on its platform's channel)."""

from __future__ import annotations

from tests.incidents.conftest import index, make_post
from tests.incidents.test_flow import API, open_incident


def test_add_to_incident_snapshots_and_audits(app, login_as, flood_posts):
    duty = login_as("duty")
    iid = open_incident(duty, flood_posts[:1], level="一般")["id"]
    r = duty.post(f"/api/v1/posts/{flood_posts[1]}/incident", json={"incident_id": iid})
    assert r.status_code == 201, r.get_json()
    sha = r.get_json()["sha256"]
    d = duty.get(f"{API}/{iid}").get_json()
    added = [p for p in d["posts"] if p["id"] == flood_posts[1]]
    assert len(added) == 1 and added[0]["snapshot_sha256"] == sha and "5人死亡" in added[0]["text"]
    snaps = [e for e in d["timeline"] if e["action"] == "snapshot"]
    assert snaps[-1]["payload"]["posts"] == [{"post_id": flood_posts[1], "sha256": sha}]

    again = duty.post(f"/api/v1/posts/{flood_posts[1]}/incident", json={"incident_id": iid})
    assert again.status_code == 400 and "已在事件" in again.get_json()["error"]
    assert duty.post("/api/v1/posts/nope/incident", json={"incident_id": iid}).get_json()["error"].startswith("帖子 nope")
    bad = duty.post(f"/api/v1/posts/{flood_posts[2]}/incident", json={"incident_id": "x"})
    assert bad.status_code == 400 and "请选择事件" in bad.get_json()["error"]
    assert duty.post(f"/api/v1/posts/{flood_posts[2]}/incident", json={"incident_id": 999}).status_code == 400
    reader = login_as("analyst")
    assert reader.post(f"/api/v1/posts/{flood_posts[2]}/incident", json={"incident_id": iid}).status_code == 403
    assert len(duty.get(f"{API}/{iid}").get_json()["posts"]) == 2


def test_mark_as_official_answer_records_a_manual_publication(app, login_as, flood_posts, weibo, wechat):
    duty = login_as("duty")
    iid = open_incident(duty, flood_posts[:2], level="一般")["id"]
    # the office's own Weibo answer, collected by the desk like any post
    weibo.statuses.append({"idstr": "4900000000000123", "text": "【通报】人民路积水已排除，无人员伤亡"})
    answer = make_post(9, "【通报】人民路积水已排除，无人员伤亡", author="青山发布", author_type="gov",
                       url=f"{weibo.url}/{weibo.uid}/4900000000000123", minutes_ago=2)
    [answer_id] = index(app, [answer])
    early = duty.post(f"/api/v1/posts/{answer_id}/official-answer", json={"incident_id": iid})
    assert early.status_code == 400 and "请先接警" in early.get_json()["error"]
    duty.post(f"{API}/{iid}/acknowledge", json={})
    r = duty.post(f"/api/v1/posts/{answer_id}/official-answer", json={"incident_id": iid})
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["channel"] == "weibo" and r.get_json()["snapshot"]["status"] == 200
    d = duty.get(f"{API}/{iid}").get_json()
    [pub] = [p for p in d["publications"] if p["mode"] == "manual"]
    assert pub["channel"] == "weibo" and pub["url"] == answer.url and pub["published_by"] == "青山发布"
    assert any(p["id"] == answer_id for p in d["posts"])  # kept as evidence too
    assert any(e["action"] == "publication" for e in d["timeline"])

    news = make_post(10, "某新闻网转载通报", platform="news", url="https://news.example.cn/a/1")
    [news_id] = index(app, [news])
    r = duty.post(f"/api/v1/posts/{news_id}/official-answer", json={"incident_id": iid})
    assert r.status_code == 400 and "只有微博或微信公众号上的帖子" in r.get_json()["error"]


def test_post_page_offers_both_actions(app, login_as, flood_posts):
    html = login_as("duty").get(f"/posts/{flood_posts[0]}").get_data(as_text=True)
    assert 'id="add-to-incident"' in html and 'id="official-answer"' in html and "暂无对应接口" not in html
