"""Credentials quoted in error messages (request URLs) are hidden before anyone reads them."""

from __future__ import annotations

import requests

from opinion_desk.redact import scrub_query


def test_scrub_query_hides_credential_parameters_only():
    text = ("HTTPSConnectionPool(host='api.weixin.qq.com', port=443): Max retries exceeded with url: "
            "/cgi-bin/token?grant_type=client_credential&appid=wx123&secret=APPSECRET-1 (Caused by ...)")
    out = scrub_query(text)
    assert "APPSECRET-1" not in out and "secret=***" in out and "appid=wx123" in out and "api.weixin.qq.com" in out
    assert scrub_query("/send?key=K&x=1") == "/send?key=***&x=1"
    assert scrub_query("/2/statuses/share.json?access_token=2.00abc&uid=1") == "/2/statuses/share.json?access_token=***&uid=1"


def test_a_real_connection_error_is_scrubbed():
    try:
        requests.get("http://127.0.0.1:9/cgi-bin/token", params={"secret": "APPSECRET-2"}, timeout=2)
    except requests.RequestException as e:
        assert "APPSECRET-2" in str(e)  # what requests says
        assert "APPSECRET-2" not in scrub_query(str(e))
