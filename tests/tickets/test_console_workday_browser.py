"""A consultant's day in a real browser, on a desk (1366×900) and a phone (390×844): find a ticket by the
caller's number, call, log an attempt, put it on hold with a reason and resolve it, all on one page that
never reloads nor loses its scroll position."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.axe import severe_violations
from tests.live import SIZES, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)
from tickets.access_log import AccessLogEntry
from tickets.db import db
from tickets.models import Status, Ticket, User


def log_in(page: Any, url: str, username: str) -> None:
    page.goto(f"{url}/console/login")
    page.get_by_label("아이디").fill(username)
    page.get_by_label("비밀번호").fill("hotline1379")
    page.get_by_role("button", name="로그인").click()


def _give_it_ticket_to(app: Any, username: str) -> str:
    with app.app_context(), db.transaction() as session:
        ticket = session.scalar(select(Ticket).where(Ticket.field == "it"))
        user = session.scalar(select(User).where(User.username == username))
        session.execute(
            update(Ticket).where(Ticket.id == ticket.id).values(status=Status.ASSIGNED, assignee_id=user.id)
        )
        return ticket.reference


@pytest.mark.browser
@pytest.mark.parametrize("size", list(SIZES))
def test_a_consultant_finds_calls_holds_and_resolves_without_a_reload(
    live_server,  # noqa: F811
    browser_page,  # noqa: F811
    size: str,
) -> None:
    app, page = live_server.app, browser_page
    page.set_viewport_size(SIZES[size])
    reference = _give_it_ticket_to(app, "it-kim")
    log_in(page, live_server.url, "it-kim")

    # The caller rings again from 010-2000-1001: the header's search finds the ticket by that number.
    page.get_by_role("searchbox", name="티켓 검색").fill("010-2000-1001")
    page.get_by_role("searchbox", name="티켓 검색").press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("티켓 찾기")
    assert "q=010-2000-1001" in page.url  # the result can be bookmarked
    assert fits_the_width(page) and severe_violations(page) == []
    page.locator("#results").get_by_role("link", name=reference).click()
    expect(page.locator("#reference")).to_have_text(reference)
    assert fits_the_width(page) and severe_violations(page) == []
    page.evaluate("window.sameDocument = true")  # gone after any full page load

    page.get_by_role("button", name="전화 걸기").click()
    expect(page.get_by_role("status")).to_contain_text("연결 중")

    # The outcome has no default: an attempt without one is not sent.
    assert page.get_by_label("결과").input_value() == ""
    page.get_by_label("결과").select_option("reached")
    page.get_by_label("통화 시간(분)").fill("1.5")
    page.locator("#attempt-form").get_by_label("메모").fill("자료를 보내 주기로 함")
    page.locator("#attempt-form").scroll_into_view_if_needed()
    scrolled = page.evaluate("window.scrollY")
    page.locator("#attempt-form").get_by_role("button", name="기록").click()
    expect(page.locator("#attempts")).to_contain_text("1.5분")  # typed and shown in minutes
    expect(page.locator("#status")).to_have_text("처리 중")
    assert abs(page.evaluate("window.scrollY") - scrolled) < 5  # still where the consultant was working

    page.get_by_label("보류 사유").fill("고객이 도면을 보낸 뒤 다시 통화")
    page.get_by_label("다시 전화할 시각").fill("2026-11-28T10:00")  # the company's chosen time, Seoul
    page.locator("#waiting-form").get_by_role("button", name="보류").click()
    expect(page.locator("#status")).to_have_text("보류")
    expect(page.locator("#deadline")).to_contain_text("기한 정지")
    expect(page.locator("#deadline")).to_contain_text("2026-11-28 10:00 회신 예정")
    expect(page.locator("#history")).to_contain_text("사유: 고객이 도면을 보낸 뒤 다시 통화")

    page.get_by_label("새 메모").fill("도면 받음")
    page.get_by_role("button", name="메모 남기기").click()
    expect(page.locator("#notes")).to_contain_text("도면 받음")

    page.get_by_label("제공한 지원").select_option("advice")
    page.get_by_label("처리 요약").fill("가공 공정 개선 방법을 안내함")
    page.locator("#resolve-form").get_by_role("button", name="해결").click()
    expect(page.locator("#status")).to_have_text("해결")
    history = page.locator("#history").inner_text()
    assert "'보류'에서 '해결'(으)로" in history
    assert "from:" not in history and "to:" not in history
    assert page.evaluate("window.sameDocument === true")  # no full reload on the whole way
    assert fits_the_width(page)

    with app.app_context():
        done = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
        assert (done.status, done.resolution_type) == ("resolved", "advice")
        assert [(a.outcome, a.duration) for a in done.attempts] == [("reached", 90)]
        searches = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "view")).all()
        assert any("010-****-1001" in entry.subjects for entry in searches)  # the number search is logged
        db.session.remove()
