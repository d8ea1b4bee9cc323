"""The login limits as a person meets them, in Chromium at 1366 px and 390 px: the Chinese message after too many
wrong passwords, and the real user's own browser (it logged in before) still getting in."""

from __future__ import annotations

import pytest

from tests.conftest import TEST_PASSWORD, ensure_user

pytestmark = pytest.mark.browser


def _try(pg, base: str, password: str) -> None:
    pg.goto(base + "/login")
    pg.fill("input[name='username']", "test-duty")
    pg.fill("input[name='password']", password)
    pg.locator("#login-form button[type='submit'], #login-form input[type='submit']").first.click()
    pg.wait_for_load_state("networkidle")


@pytest.mark.parametrize("width,height", [(1366, 800), (390, 844)])
def test_locked_stranger_and_the_officers_own_browser(app, live_server, browser, artifacts, width, height):
    ensure_user(app, "duty")
    own = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    stranger = browser.new_context(locale="zh-CN", viewport={"width": width, "height": height})
    try:
        mine = own.new_page()
        _try(mine, live_server, TEST_PASSWORD)  # the officer logged in here before: the device cookie is set
        mine.locator("form.logout button").click()
        mine.wait_for_url("**/login")
        pg = stranger.new_page()
        for _ in range(5):
            _try(pg, live_server, "wrong-password")
            assert "用户名或密码错误" in pg.content()
        _try(pg, live_server, TEST_PASSWORD)
        assert "登录失败次数过多" in pg.content() and "分钟后再试" in pg.content()
        pg.screenshot(path=str(artifacts / f"login_limited_{width}.png"), full_page=True)
        _try(mine, live_server, TEST_PASSWORD)
        assert "/login" not in mine.url  # the real user is in
    finally:
        own.close()
        stranger.close()
