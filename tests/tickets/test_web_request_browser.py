"""The web request form in a real browser (chromium) on a narrow phone: the whole way from the form to the
reference, the English switch, a code that expired and a new one, and the hourly limit on codes."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.live import ARTIFACTS, PHONE, SIZES, LiveServer, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)
from tickets.db import db
from tickets.models import OutboxMessage, Ticket


def _watch_csp(page: Any) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    return refused


def _latest_code(server: LiveServer) -> str:
    """The code as the SMS carries it: the development SMS channel would log this very body."""
    with server.app.app_context():
        bodies = db.session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id.desc())).all()
        db.session.remove()
    body = next(p["body"] for p in bodies if p.get("kind") == "web_code")
    return re.search(r"\d{6}", body).group(0)  # type: ignore[union-attr]


def _fill_the_form(page: Any, server: LiveServer, number: str = "010-2345-6789") -> None:
    page.goto(f"{server.url}/request")
    page.get_by_label("회사명").fill("한빛정밀")
    page.get_by_label("담당자 성함").fill("김민수")
    page.get_by_label("기술 분야").select_option(label="잘 모르겠음")
    page.get_by_label("지원 유형").select_option(label="기술자문")
    page.get_by_label("연락받을 휴대전화 번호").fill(number)
    page.get_by_label("문의 내용").fill("PLC 통신이 끊깁니다.\n<b>도와주세요</b>")
    page.get_by_label("위 내용에 동의합니다 (필수)").check()
    page.get_by_role("button", name="인증번호 받기").click()


@pytest.mark.browser
def test_a_company_files_a_request_on_a_phone(live_server: LiveServer, browser_page: Any) -> None:  # noqa: F811
    page = browser_page
    page.set_viewport_size(PHONE)
    refused = _watch_csp(page)
    page.goto(f"{live_server.url}/request")
    assert fits_the_width(page)
    assert "상담에만 쓰이며" in page.locator("#privacy-notice").inner_text()
    button = page.get_by_role("button", name="인증번호 받기").bounding_box()
    assert button is not None and button["height"] >= 44 and button["x"] + button["width"] <= PHONE["width"]
    page.screenshot(path=str(ARTIFACTS / "web-request-form-phone.png"), full_page=True)

    _fill_the_form(page, live_server)
    expect(page.locator("#code-sent")).to_contain_text("010-****-6789")
    assert fits_the_width(page)
    page.get_by_label("인증번호").fill(_latest_code(live_server))
    page.get_by_role("button", name="확인하고 접수하기").click()

    expect(page.locator("#reference")).to_have_text(re.compile(r"^\d{4}-\d{4}$"))
    assert "3일 이내" in page.locator("#promise").inner_text()
    assert fits_the_width(page)
    page.screenshot(path=str(ARTIFACTS / "web-request-done-phone.png"), full_page=True)
    reference = page.locator("#reference").inner_text()
    with live_server.app.app_context():
        ticket = db.session.scalars(select(Ticket).where(Ticket.reference == reference)).one()
        assert (ticket.channel, ticket.field, ticket.company) == ("web", "general", "한빛정밀")
        assert ticket.description == "PLC 통신이 끊깁니다.\n<b>도와주세요</b>"
        db.session.remove()
    assert refused == []


@pytest.mark.browser
def test_the_form_in_english_and_the_privacy_page(live_server: LiveServer, browser_page: Any) -> None:  # noqa: F811
    page = browser_page
    page.set_viewport_size(PHONE)
    refused = _watch_csp(page)
    page.goto(f"{live_server.url}/request")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_label("Company name")).to_be_visible()
    assert "only to help you" in page.locator("#privacy-notice").inner_text()  # the call's notice
    page.get_by_role("link", name="Full privacy notice").click()
    expect(page.get_by_role("heading", name="Asking for deletion")).to_be_visible()
    assert fits_the_width(page)
    page.get_by_role("link", name="한국어").click()
    expect(page.get_by_role("heading", name="삭제 요청 방법")).to_be_visible()
    page.set_viewport_size(SIZES["desktop"])
    main = page.locator("main").bounding_box()
    assert main is not None and main["width"] <= 700  # a readable column at a desktop too
    assert refused == []


@pytest.mark.browser
def test_an_expired_code_is_refused_and_a_new_one_works(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
    clock: Any,
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    _fill_the_form(page, live_server)
    first = _latest_code(live_server)
    clock.advance(minutes=5)
    page.get_by_label("인증번호").fill(first)
    page.get_by_role("button", name="확인하고 접수하기").click()
    expect(page.get_by_role("alert")).to_contain_text("유효 시간이 지났습니다")
    page.get_by_role("button", name="인증번호 다시 받기").click()
    expect(page.locator("#code-sent")).to_be_visible()
    second = _latest_code(live_server)
    page.get_by_label("인증번호").fill(second)
    page.get_by_role("button", name="확인하고 접수하기").click()
    expect(page.locator("#reference")).to_have_text(re.compile(r"^\d{4}-\d{4}$"))


@pytest.mark.browser
def test_a_fourth_code_within_the_hour_is_refused(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
    clock: Any,
) -> None:
    page = browser_page
    page.set_viewport_size(PHONE)
    for _ in range(3):
        _fill_the_form(page, live_server)
        expect(page.locator("#code-sent")).to_be_visible()
        clock.advance(minutes=10)
    _fill_the_form(page, live_server)
    expect(page.get_by_role("alert")).to_contain_text("한 시간 후 다시 시도")
    assert page.get_by_label("회사명").input_value() == "한빛정밀"  # the answers are kept
    clock.advance(minutes=31)
    _fill_the_form(page, live_server)
    expect(page.locator("#code-sent")).to_be_visible()
