"""The web request form (/request): a company's request filed only once its mobile number is proved by an SMS
code, through the same intake as a call; the code's expiry, tries and throttles; CSRF, consent, length limits
and input never rendered as HTML."""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from sqlalchemy import select

from ivr.gateway import TwilioTelephony
from scheduler.delivery import SmsChannel, deliver_due_messages
from tests.conftest import NOW
from tests.tickets.test_api import call, people  # noqa: F401  (people is a fixture)
from tickets.db import db
from tickets.models import OutboxMessage, Ticket
from tickets.serialize import ticket_json

NUMBER = "010-2345-6789"
ANSWERS = {
    "company": "한빛정밀",
    "contact_person": "김민수",
    "field": "it",
    "support_type": "advice",
    "callback_number": NUMBER,
    "description": "생산 라인 PLC 통신이 자주 끊깁니다.\n원인 분석을 도와주세요.",
    "consent": "yes",
}


def _csrf(client: Any, path: str = "/request") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert match
    return match.group(1)


def _ask(client: Any, address: str = "198.51.100.7", **changes: str) -> Any:
    db.session.commit()  # keep the test's rows: a refused request rolls back its own changes
    form = {**ANSWERS, "csrf_token": _csrf(client), **changes}
    return client.post("/request", data=form, environ_base={"REMOTE_ADDR": address})


def _codes(session: Any) -> list[str]:
    bodies = session.scalars(select(OutboxMessage.payload).order_by(OutboxMessage.id)).all()
    return [re.search(r"\d{6}", p["body"]).group(0) for p in bodies if p.get("kind") == "web_code"]


def _enter(client: Any, code: str, address: str = "198.51.100.7") -> Any:
    db.session.commit()
    token = _csrf(client, "/request/code")
    return client.post(
        "/request/code", data={"code": code, "csrf_token": token}, environ_base={"REMOTE_ADDR": address}
    )


def _tickets(session: Any) -> list[Ticket]:
    return list(session.scalars(select(Ticket)).all())


def test_a_proved_request_files_a_web_ticket_through_the_intake(client, session, make_user) -> None:
    make_user("it-kim")
    page = client.get("/request").get_data(as_text=True)
    assert "잘 모르겠음" in page and "상담에만 쓰이며" in page  # Korean first, with the privacy notice

    sent = _ask(client)
    assert sent.status_code == 303 and sent.headers["Location"].endswith("/request/code")
    assert _tickets(session) == []  # nothing filed before the number is proved
    code_page = client.get("/request/code").get_data(as_text=True)
    assert "010-****-6789" in code_page and NUMBER not in code_page
    [code] = _codes(session)

    filed = _enter(client, code)
    assert filed.status_code == 303
    done = client.get(filed.headers["Location"]).get_data(as_text=True)
    [ticket] = _tickets(session)
    assert ticket.reference in done and "3일 이내" in done
    data = ticket_json(ticket, full_numbers=True)
    assert data["channel"] == "web" and data["company"] == "한빛정밀"
    assert data["contact_person"] == "김민수" and data["description"] == ANSWERS["description"]
    assert data["callback_number"] == "+821023456789" and data["recording_url"] is None
    assert data["assignee"] == "it-kim" and data["sla_due_at"]  # routed and on the SLA clock like a call
    confirmation = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith("web-confirm:"))
    ).one()
    assert confirmation.recipient == "+821023456789" and ticket.reference in confirmation.payload["body"]
    assert "3일" in confirmation.payload["body"]


def test_calls_are_phone_and_web_tickets_match_the_openapi_document(
    client,
    session,
    people,  # noqa: F811
    make_ticket,
) -> None:
    phone = make_ticket()
    assert ticket_json(phone)["channel"] == "phone" and ticket_json(phone)["company"] is None
    _ask(client)
    _enter(client, _codes(session)[0])
    web = session.scalars(select(Ticket).where(Ticket.channel == "web")).one()
    detail = call(client, people, "kim", "GET", f"/tickets/{web.reference}").get_json()
    assert detail["channel"] == "web" and detail["description"] == ANSWERS["description"]
    listed = call(client, people, "kim", "GET", "/tickets").get_json()
    assert {t["channel"] for t in listed["tickets"]} == {"phone", "web"}


def test_a_wrong_code_files_nothing_and_five_use_the_code_up(client, session) -> None:
    _ask(client)
    [code] = _codes(session)
    wrong = "000000" if code != "000000" else "111111"
    answer = _enter(client, wrong)
    assert answer.status_code == 400 and "4번 더" in answer.get_data(as_text=True)
    for _ in range(4):
        _enter(client, wrong)
    refused = _enter(client, code)  # the right code, after five wrong ones
    assert refused.status_code == 400 and "너무 많이 틀렸습니다" in refused.get_data(as_text=True)
    assert _tickets(session) == []


def test_a_code_is_valid_for_five_minutes_and_a_new_one_can_be_asked_for(client, session, clock) -> None:
    _ask(client)
    clock.advance(minutes=5)
    expired = _enter(client, _codes(session)[0])
    assert expired.status_code == 400 and "유효 시간이 지났습니다" in expired.get_data(as_text=True)
    assert _tickets(session) == []
    db.session.commit()
    client.post("/request/code/new", data={"csrf_token": _csrf(client, "/request/code")})
    clock.advance(minutes=4, seconds=59)
    assert _enter(client, _codes(session)[-1]).status_code == 303
    assert len(_tickets(session)) == 1


def test_three_codes_an_hour_per_number_and_per_address(client, session, clock) -> None:
    for i in range(3):
        assert _ask(client, address=f"203.0.113.{i}").status_code == 303
    again = _ask(client, address="203.0.113.9")  # the same number from a fourth address
    assert again.status_code == 429 and "한 시간 후" in again.get_data(as_text=True)
    for i in range(3):
        assert _ask(client, address="192.0.2.1", callback_number=f"010-3000-000{i}").status_code == 303
    assert _ask(client, address="192.0.2.1", callback_number="010-3000-0009").status_code == 429
    assert len(_codes(session)) == 6  # the refused ones sent nothing
    clock.advance(hours=1)
    assert _ask(client, address="192.0.2.1").status_code == 303


def test_the_form_needs_consent_a_csrf_token_and_short_texts(client, session) -> None:
    no_consent = _ask(client, consent="")
    assert no_consent.status_code == 400 and "동의하셔야" in no_consent.get_data(as_text=True)
    too_long = _ask(client, description="가" * 2001)
    assert too_long.status_code == 400 and "너무 깁니다" in too_long.get_data(as_text=True)
    assert _ask(client, description="가\r\n" * 999 + "가a").status_code == 303  # 2,000 as a browser counts
    landline = _ask(client, callback_number="02-2100-1234")
    assert landline.status_code == 400 and "휴대전화 번호" in landline.get_data(as_text=True)
    forged = client.post("/request", data=ANSWERS)
    assert forged.status_code == 400
    assert len(_codes(session)) == 1


def test_input_is_shown_as_text_never_as_html(client, session, make_user) -> None:
    make_user("it-kim")
    script = '<script>alert("x")</script>'
    refused = _ask(client, company=script, consent="").get_data(as_text=True)
    assert script not in refused and "&lt;script&gt;" in refused
    _ask(client, company=script, description=f"<b>굵게</b>\n{script}")
    _enter(client, _codes(session)[0])
    ticket = _tickets(session)[0]
    db.session.commit()
    from tests.tickets.test_console_auth import login

    login(client, "it-kim")
    page = client.get(f"/console/tickets/{ticket.reference}").get_data(as_text=True)
    assert script not in page and "<b>" not in page and "&lt;b&gt;굵게&lt;/b&gt;" in page


def test_a_second_request_for_the_same_number_and_field_joins_the_open_ticket(client, session) -> None:
    _ask(client)
    _enter(client, _codes(session)[0])
    client.get("/request")  # a new visit in the same browser
    _ask(client, description="추가 문의입니다.")
    _enter(client, _codes(session)[1])
    [ticket] = _tickets(session)
    repeat = [e for e in ticket.events if e.type == "repeat_call"]
    assert repeat and repeat[0].detail["description"] == "추가 문의입니다."
    assert repeat[0].detail["channel"] == "web"


@pytest.mark.parametrize("language, words", [("ko", "회사명"), ("en", "Company name")])
def test_the_form_switches_language(client, language: str, words: str) -> None:
    page = client.get(f"/request?lang={language}").get_data(as_text=True)
    assert words in page and f'<html lang="{language}">' in page


def test_without_twilio_the_code_goes_to_the_development_log(client, session, app, caplog) -> None:
    _ask(client)
    [code] = _codes(session)
    session.commit()
    telephony = app.extensions["telephony"]
    assert not isinstance(telephony, TwilioTelephony)  # no credentials in the test config
    notifications = app.config["HOTLINE"].scheduler.notifications
    with caplog.at_level(logging.INFO, logger="ivr.gateway"):
        report = deliver_due_messages(db.transaction, {"sms": SmsChannel(telephony)}, notifications, NOW)
    assert report.sent == 1
    assert any(
        code in record.getMessage() and "010-****-6789" in record.getMessage() for record in caplog.records
    )
