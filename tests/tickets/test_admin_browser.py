"""An admin in a real browser, on a desk and a phone: one header with their pages only, a user added, a
password reset that asks first, and logout; `/` then leads back to the login."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from tests.axe import severe_violations
from tests.live import SIZES, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)
from tests.tickets.test_console_workday_browser import log_in


@pytest.mark.browser
@pytest.mark.parametrize("size", list(SIZES))
def test_an_admin_adds_a_user_resets_a_password_after_confirming_and_logs_out(
    live_server,  # noqa: F811
    browser_page,  # noqa: F811
    size: str,
) -> None:
    page: Any = browser_page
    page.set_viewport_size(SIZES[size])
    log_in(page, live_server.url, "admin")
    page.goto(f"{live_server.url}/")
    header = page.locator("header")
    expect(header.get_by_role("link", name="사용자 관리")).to_be_visible()
    assert header.get_by_role("link", name="내 대기열").count() == 0  # a page an admin cannot open
    page.get_by_role("link", name="사용자 관리").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("사용자 관리")
    assert fits_the_width(page) and severe_violations(page) == []

    form = page.locator("#add-user-form")
    form.get_by_label("아이디").fill("bio-new")
    form.get_by_label("이름").fill("새 위원")
    form.get_by_label("역할").select_option("consultant")
    form.get_by_label("초기 비밀번호").fill("first-pass-1")
    form.get_by_role("button", name="추가").click()
    expect(page.get_by_role("status")).to_contain_text("계정을 만들었습니다")

    page.locator("#users tr[data-username='bio-new']").get_by_role("link", name="bio-new").click()
    password = page.locator("#password-form")
    expect(password).to_be_visible()  # the user's page has loaded: measure it, not the one it replaces
    assert fits_the_width(page) and severe_violations(page) == []
    password.get_by_label("새 비밀번호").fill("second-pass-2")
    questions: list[str] = []

    def refuse(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", refuse)
    password.get_by_role("button", name="비밀번호 재설정").click()
    assert questions and "비밀번호를 바꿀까요" in questions[0]
    assert page.get_by_role("status").count() == 0  # refused: nothing was sent

    page.get_by_role("button", name="로그아웃").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("로그인")
    page.goto(f"{live_server.url}/")
    expect(page).to_have_url(f"{live_server.url}/console/login")
