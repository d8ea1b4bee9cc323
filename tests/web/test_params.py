"""Every query parameter is checked: a bad one is a 400 naming it (Chinese reason), never a 500; request bodies
over ``[ingest] max_body_bytes`` are refused with 413 before they are parsed."""

from __future__ import annotations

import pytest

from opinion_desk import create_app, stop_background

from ..conftest import INGEST_TOKEN, ensure_user, login_client, make_test_config

BAD = [
    ("/api/v1/stats/top?n=abc", "n"), ("/api/v1/stats/top?n=100000000", "n"), ("/api/v1/stats/top?n=0", "n"),
    ("/api/v1/stats/top?field=nope", "field"), ("/api/v1/stats/volume?interval=7y", "interval"),
    ("/api/v1/incidents?size=abc", "size"), ("/api/v1/incidents?size=-5", "size"),
    ("/api/v1/incidents?active=maybe", "active"),
    ("/api/v1/posts?minutes=1e400", "minutes"), ("/api/v1/posts?minutes=nan", "minutes"),
    ("/api/v1/posts?minutes=-3", "minutes"), ("/api/v1/posts?minutes=99999999999", "minutes"),
    ("/api/v1/posts?size=1e3", "size"), ("/api/v1/posts?offset=99999999999999999999", "offset"),
    ("/api/v1/posts?since=0001-01-01", "since"), ("/api/v1/posts?since=99999999999999999", "since"),
    ("/api/v1/posts?until=yesterday", "until"), ("/api/v1/stats/volume?since=3000-01-01", "since"),
    ("/api/v1/alerts?limit=x", "limit"), ("/api/v1/alerts?status=gone", "status"),
    ("/api/v1/incidents/timeliness?format=xls", "format"), ("/api/v1/incidents/escalations?limit=0", "limit"),
    ("/api/v1/incidents/publishing/preflight?incident=abc", "incident"),
]


@pytest.mark.parametrize("url, name", BAD)
def test_bad_query_parameter_is_400_naming_it(client, url: str, name: str) -> None:
    r = client.get(url)
    assert r.status_code == 400, (url, r.status_code, r.get_data(as_text=True)[:300])
    body = r.get_json()
    assert body["field"] == name and f"参数 {name}" in body["error"], body


@pytest.mark.parametrize("url", ["/api/v1/stats/top?n=5", "/api/v1/posts?minutes=90&size=3&offset=0",
                                 "/api/v1/incidents?size=10&active=0", "/api/v1/alerts?limit=3",
                                 "/api/v1/stats/volume?interval=1h&since=2024-01-01&until=2024-01-02",
                                 "/api/v1/posts?minutes="])
def test_good_query_parameters_pass(client, url: str) -> None:
    assert client.get(url).status_code == 200, url


def test_body_over_the_limit_is_413_before_parsing(tmp_path, analyzer) -> None:
    app = create_app(make_test_config(tmp_path, ingest={"max_body_bytes": 100_000}), analyzer_factory=lambda: analyzer)
    try:
        c = app.test_client()
        headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
        r = c.post("/api/v1/posts", data=b"[" * 10_000_000, headers=headers)
        assert r.status_code == 413 and "请求体过大" in r.get_json()["error"]
        r = c.post("/api/v1/posts", data=b'[{"text": "' + b"x" * 200_000 + b'"}]', headers=headers)
        assert r.status_code == 413
        ensure_user(app, "admin", "admin1")
        r = login_client(app, "admin1").post("/api/v1/silences", data=b"{" * 200_000, content_type="application/json")
        assert r.status_code == 413
    finally:
        stop_background(app)


def test_ten_megabytes_of_brackets_under_the_default_limit_is_4xx(client) -> None:
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Type": "application/json"}
    for body in (b"[" * 10_000_000, b"[" * 5_000_000):
        r = client.post("/api/v1/posts", data=body, headers=headers)
        assert 400 <= r.status_code < 500, r.status_code
