"""A referral in a real browser, on a desk and on a phone: the consultant records a diagnosis and refers the
ticket to a suggested institute; the institute's contact opens the private link from the e-mail and accepts;
a used link says so. Nothing may be wider than the screen, and the styles must load under the CSP."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.live import ARTIFACTS, SIZES, LiveServer, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)
from tickets.db import db
from tickets.models import OutboxMessage, Referral, Ticket, User

BRAND_BLUE = "rgb(20, 61, 107)"  # #143d6b, the buttons of the institute page's stylesheet


def _held_ticket(live: LiveServer) -> str:
    """The demo's IT ticket, held by it-kim and being worked."""
    with live.app.app_context(), db.transaction() as session:
        kim = session.scalar(select(User).where(User.username == "it-kim"))
        ticket = session.scalar(select(Ticket).where(Ticket.field == "it"))
        assert kim is not None and ticket is not None
        session.execute(
            update(Ticket).where(Ticket.id == ticket.id).values(assignee_id=kim.id, status="in_progress")
        )
        return ticket.reference


def _answer_link(live: LiveServer, reference: str) -> str:
    with live.app.app_context(), db.transaction() as session:
        referral = session.scalars(select(Referral).join(Ticket).where(Ticket.reference == reference)).one()
        email = session.scalars(
            select(OutboxMessage).where(
                OutboxMessage.key.startswith(f"referral:{referral.id}:referral:email")
            )
        ).one()
        path = re.search(r"/institute/r/[\w-]+", email.payload["text"])
        assert path is not None
        return live.url + path.group(0)


@pytest.mark.browser
@pytest.mark.parametrize("size", list(SIZES))
def test_a_consultant_refers_and_the_institute_accepts_through_its_link(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
    size: str,
) -> None:
    reference = _held_ticket(live_server)
    page = browser_page
    page.set_viewport_size(SIZES[size])
    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("아이디").fill("it-kim")
    page.get_by_label("비밀번호").fill("hotline1379")
    page.get_by_role("button", name="로그인").click()
    page.goto(f"{live_server.url}/console/tickets/{reference}")
    section = page.locator("#referrals")
    assert "진단 및 기관 연계" in section.inner_text()

    # The diagnosis: equipment is needed, not the advice asked for on the call.
    form = page.locator("#diagnosis-form")
    form.get_by_label("진단 요약").fill("금형 치수 불량: 3차원 측정 장비 필요")
    form.locator("input[name=needs][value=advice]").uncheck()
    form.locator("input[name=needs][value=equipment]").check()
    form.get_by_role("button", name="진단 기록").click()
    expect(page.get_by_role("status")).to_contain_text("진단을 기록했습니다")  # swapped in place
    assert "금형 치수 불량" in page.locator("#latest-diagnosis").inner_text()

    # Refer to the first suggestion.
    first = page.locator("#suggestions tbody tr").first
    key = first.get_attribute("data-institute")
    assert key and "필요 지원 일치" in first.inner_text() and "건" in first.inner_text()
    refer = page.locator("#refer-form")
    refer.get_by_label("연계 기관").select_option(key)
    refer.get_by_label("기관에 전할 메모").fill("측정 일정 협의 부탁드립니다")
    refer.get_by_role("button", name="연계 요청 보내기").click()
    expect(page.get_by_role("status")).to_contain_text("연계 요청을 보냈습니다")
    row = page.locator(f"#referral-list tr[data-institute='{key}']")
    assert "응답 대기" in row.inner_text()
    assert fits_the_width(page), "the ticket page is wider than the screen"
    page.screenshot(path=str(ARTIFACTS / f"referral-console-{size}.png"), full_page=True)

    # The institute's contact, in a browser of their own, opens the link from the e-mail.
    link = _answer_link(live_server, reference)
    contact = page.context.browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", viewport=SIZES[size])
    try:
        institute = contact.new_page()
        institute.goto(link)
        stale = contact.new_page()  # the same link left open in another tab
        stale.goto(link)
        assert "금형 치수 불량" in institute.locator("#summary").inner_text()
        assert reference in institute.locator("#reference").inner_text()
        accept = institute.locator("#accept")
        assert (
            accept.get_by_role("button", name="수락하기").evaluate("b => getComputedStyle(b).backgroundColor")
            == BRAND_BLUE
        )  # the stylesheet loaded (an inline <style> is blocked by the CSP)
        assert fits_the_width(institute), "the institute page is wider than the screen"
        accept.get_by_label("기업에 연락할 담당자").fill("박시험")
        accept.get_by_label("예상 완료일").fill("2026-12-10")
        accept.get_by_role("button", name="수락하기").click()
        assert "수락했습니다" in institute.get_by_role("status").inner_text()
        assert institute.locator("#referral-status").inner_text() == "수락됨"
        institute.screenshot(path=str(ARTIFACTS / f"referral-institute-{size}.png"), full_page=True)
        # The other tab's form was used already: it says so and changes nothing.
        stale.locator("#accept").get_by_label("기업에 연락할 담당자").fill("누군가")
        stale.locator("#accept").get_by_label("예상 완료일").fill("2026-12-30")
        stale.locator("#accept").get_by_role("button", name="수락하기").click()
        assert "이미 처리된 요청입니다" in stale.locator("#message").inner_text()
    finally:
        contact.close()

    page.reload()
    row = page.locator(f"#referral-list tr[data-institute='{key}']")
    assert "수락됨" in row.inner_text() and "박시험" in row.inner_text() and "2026-12-10" in row.inner_text()
    with live_server.app.app_context(), db.transaction() as session:
        referral = session.scalars(select(Referral).where(Referral.accepted_by.is_not(None))).one()
        assert (referral.accepted_by, str(referral.expected_at)) == ("박시험", "2026-12-10")

    # The link was forwarded: the consultant revokes it, then sends a new one to the same contact.
    row.get_by_role("button", name="링크 취소").click()
    page.get_by_role("button", name="링크 취소 확인").click()
    expect(page.get_by_role("status")).to_contain_text("링크를 취소했습니다")
    row = page.locator(f"#referral-list tr[data-institute='{key}']")
    assert "링크 취소됨" in row.inner_text()
    assert fits_the_width(page), "the ticket page with the new-link form is wider than the screen"
    row.get_by_role("button", name="새 링크 보내기").click()
    expect(page.get_by_role("status")).to_contain_text("새 링크를 보냈습니다")
    assert "링크 취소됨" not in page.locator(f"#referral-list tr[data-institute='{key}']").inner_text()
