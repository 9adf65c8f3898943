"""User management in a real browser: the demo admin adds a consultant and marks another one away."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.live import ARTIFACTS, browser_page, live_server  # noqa: F401  (fixtures)
from tickets import clock
from tickets.db import db
from tickets.models import User
from tickets.routing import local_date


@pytest.mark.browser
def test_the_admin_adds_a_consultant_and_marks_one_away(live_server, browser_page) -> None:  # noqa: F811
    page = browser_page
    page.goto(f"{live_server.url}/console/admin/users")  # to the login page, and back here after it
    page.get_by_label("아이디").fill("admin")
    page.get_by_label("비밀번호").fill("hotline1379")
    page.get_by_role("button", name="로그인").click()
    assert page.get_by_role("heading", name="사용자 관리").is_visible()
    assert page.locator("#users tr[data-username='it-kim']").count() == 1

    form = page.locator("#add-user-form")
    form.get_by_label("아이디").fill("it-new")
    form.get_by_label("이름").fill("신입 위원")
    form.get_by_label("역할").select_option("consultant")
    form.get_by_label("정보통신(IT)").check()
    form.get_by_label("전화번호").fill("010-5555-0199")
    form.get_by_label("초기 비밀번호").fill("short")
    form.get_by_role("button", name="추가").click()
    # the browser itself refuses a password under 8 characters (minlength): nothing was sent
    assert page.locator("#users tr[data-username='it-new']").count() == 0
    form.get_by_label("초기 비밀번호").fill("first-pass-1")
    form.get_by_role("button", name="추가").click()
    assert "계정을 만들었습니다" in page.get_by_role("status").inner_text()
    row = page.locator("#users tr[data-username='it-new']")
    assert "신입 위원" in row.inner_text() and "010-5555-0199" in row.inner_text()

    today = local_date(clock.now())
    page.locator("#users tr[data-username='it-kim']").get_by_role("link", name="it-kim").click()
    availability = page.locator("#availability-form")
    availability.get_by_label("부재 시작").fill(today.isoformat())
    availability.get_by_label("부재 종료").fill((today + timedelta(days=2)).isoformat())
    availability.get_by_role("button", name="근무 상태 저장").click()
    assert "근무 상태를 저장했습니다" in page.get_by_role("status").inner_text()
    assert page.locator("#availability").inner_text().startswith("부재 중")
    page.screenshot(path=str(ARTIFACTS / "console-user-away.png"), full_page=True)
    page.get_by_role("link", name="사용자 목록").click()
    assert "부재 중" in page.locator("#users tr[data-username='it-kim']").inner_text()
    page.screenshot(path=str(ARTIFACTS / "console-users.png"), full_page=True)

    with live_server.app.app_context():
        new = db.session.scalar(select(User).where(User.username == "it-new"))
        kim = db.session.scalar(select(User).where(User.username == "it-kim"))
        assert new is not None and kim is not None
        assert (new.role, new.fields, new.phone) == ("consultant", ["it"], "+821055550199")
        assert (kim.away_from, kim.away_until) == (today, today + timedelta(days=2))
