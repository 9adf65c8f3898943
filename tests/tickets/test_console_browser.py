"""The console in a real browser: log in, claim from the pool, call back, log an attempt, resolve."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update

from tests.live import browser_page, live_server  # noqa: F401  (fixtures)
from tickets.db import db
from tickets.models import Status, Ticket, User


@pytest.mark.browser
def test_a_consultant_works_a_ticket_from_the_pool_to_resolved(live_server, browser_page) -> None:  # noqa: F811
    app = live_server.app
    with app.app_context(), db.transaction() as session:
        # The demo's IT ticket, put back in the pool so the consultant claims it.
        ticket = session.scalar(select(Ticket).where(Ticket.field == "it"))
        session.execute(
            update(Ticket)
            .where(Ticket.id == ticket.id)
            .values(status=Status.NEW, assignee_id=None, assigned_at=None)
        )
        reference = ticket.reference
    page = browser_page
    page.goto(f"{live_server.url}/console/")
    page.get_by_label("아이디").fill("it-kim")
    page.get_by_label("비밀번호").fill("wrong-password")
    page.get_by_role("button", name="로그인").click()
    assert "올바르지 않습니다" in page.get_by_role("alert").inner_text()
    page.get_by_label("아이디").fill("it-kim")
    page.get_by_label("비밀번호").fill("hotline1379")
    page.get_by_role("button", name="로그인").click()

    assert page.url == f"{live_server.url}/console/"  # a consultant lands on the queue
    assert page.get_by_role("link", name="감독 대시보드").count() == 0  # the dashboard is for supervisors

    row = page.locator(f"#pool tr[data-reference='{reference}']")
    assert "남음" in row.inner_text() or "초과" in row.inner_text()
    row.get_by_role("button", name="가져오기").click()
    expect(page.get_by_role("status")).to_contain_text("가져왔습니다")
    expect(page.locator("#status")).to_have_text("배정됨")
    assert page.locator("audio").count() == 1 or "녹음 없음" in page.content()

    page.get_by_role("button", name="전화 걸기").click()
    expect(page.get_by_role("status")).to_contain_text("연결 중")
    placed = app.extensions["telephony"].calls[-1]
    assert placed.to == "+821055550101"

    page.get_by_label("결과").select_option("no_answer")
    page.locator("#attempt-form").get_by_label("메모").fill("부재중")
    page.locator("#attempt-form").get_by_role("button", name="기록").click()
    expect(page.locator("#attempts")).to_contain_text("받지 않음")
    expect(page.locator("#status")).to_have_text("처리 중")

    page.get_by_label("제공한 지원").select_option("advice")
    page.get_by_label("처리 요약").fill("시험 장비 보유 기관을 안내함")
    page.locator("#resolve-form").get_by_role("button", name="해결").click()
    expect(page.locator("#status")).to_have_text("해결")
    assert "시험 장비 보유 기관을 안내함" in page.content()

    with app.app_context():
        done = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
        kim = db.session.scalar(select(User).where(User.username == "it-kim"))
        assert (done.status, done.assignee_id, done.resolution_type) == ("resolved", kim.id, "advice")
        assert [a.outcome for a in done.attempts] == ["no_answer"]
        db.session.remove()
