"""Erasure on request: after `hotline privacy erase`, the number is nowhere in the database, in any form,
the recordings are on their way out at Twilio, and the statistics are what they were."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import JSON, String, Text, cast, func, select
from sqlalchemy.orm import Session

from ivr.cli import cli
from tests.conftest import NOW
from tests.privacy.fake_recordings import sid, twilio_url
from tests.tickets.test_console_auth import _csrf, login
from tickets import events
from tickets.access_log import AccessLogEntry
from tickets.db import Base
from tickets.models import (
    Call,
    CallbackAttempt,
    Diagnosis,
    Institute,
    Notification,
    OutboxMessage,
    Referral,
    RepeatCall,
    Ticket,
    User,
)
from tickets.outbox import add_message_once

NUMBER = "+821012345678"
FORMS = ("+821012345678", "821012345678", "010-1234-5678", "01012345678", "1012345678")
OTHER = "+821098765432"


def every_text_cell(session: Session) -> list[tuple[str, str, str]]:
    """(table, column, text) of every text and JSON cell of every table."""
    cells = []
    for table in Base.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, String | Text | JSON):
                for value in session.scalars(select(cast(column, Text)).where(column.is_not(None))):
                    cells.append((table.name, column.name, value))
    return cells


def where_found(session: Session, forms: tuple[str, ...]) -> list[tuple[str, str]]:
    return sorted({(t, c) for t, c, text in every_text_cell(session) if any(f in text for f in forms)})


def persons_data(session: Session, make_ticket: Callable[..., Ticket], kim: User) -> Ticket:
    """A caller's ticket with their number everywhere the hotline writes one."""
    call = Call(call_sid="CA" + "a" * 32, from_number=NUMBER, to_number="+827040001379",
                state={"caller_number": NUMBER, "callback_number": NUMBER},
                last_response="<Response><Say>010-1234-5678 맞으면 1번</Say></Response>",
                recording_sid=sid(1), recording_url=twilio_url(sid(1)))  # fmt: skip
    session.add(call)
    session.flush()
    ticket = make_ticket(callback_number=NUMBER)
    ticket.call_id = call.id
    ticket.recording_sid, ticket.recording_url = sid(1), twilio_url(sid(1))
    ticket.resolution_summary = "고객 번호 010-1234-5678 로 통화"
    repeat = Call(call_sid="CA" + "b" * 32, from_number=NUMBER, state={"caller_number": NUMBER},
                  recording_sid=sid(2), recording_url=twilio_url(sid(2)))  # fmt: skip
    session.add(repeat)
    session.flush()
    session.add(RepeatCall(call_id=repeat.id, ticket_id=ticket.id))
    events.record(session, ticket, "repeat_call", call_sid=repeat.call_sid, recording_url=twilio_url(sid(2)))
    events.record(session, ticket, "note", by=kim, text="다른 번호 01012345678 도 확인")
    ticket.attempts.append(CallbackAttempt(user_id=kim.id, outcome="no_answer", note="+82 10-1234-5678 부재"))
    add_message_once(session, key=f"confirm-sms:{call.call_sid}", channel="sms", recipient=NUMBER,
                     payload={"body": "접수", "to": NUMBER}, now=NOW, ticket_id=ticket.id)  # fmt: skip
    add_message_once(session, key="webhook:loose", channel="webhook", recipient="https://hooks.example/x",
                     payload={"text": "재전화 010-1234-5678"}, now=NOW)  # fmt: skip
    institute = Institute(key="kitech", name_ko="생산기술연구원", kind="research_institute")
    session.add(institute)
    session.flush()
    session.add(Referral(ticket_id=ticket.id, institute_id=institute.id, note="연락처 010-1234-5678"))
    session.add(Diagnosis(ticket_id=ticket.id, summary="회신 01012345678"))
    session.add(Notification(key="n1", user_id=kim.id, ticket_id=ticket.id, text="재전화 +821012345678"))
    missed = Call(call_sid="CA" + "c" * 32, from_number=NUMBER, state={}, started_at=NOW - timedelta(days=1))
    session.add(missed)
    session.flush()
    return ticket


@pytest.fixture
def admin(make_user: Callable[..., User]) -> User:
    return make_user("admin-lee", role="admin", fields=())


def erase(app: Flask, *args: str, input: str | None = None) -> Any:
    return app.test_cli_runner().invoke(cli, ["privacy", "erase", *args], input=input)


def test_an_erased_number_is_nowhere_in_the_database_and_the_statistics_stay(
    app: Flask, session: Session, make_ticket: Callable[..., Ticket], make_user: Callable[..., User],
    admin: User,
) -> None:  # fmt: skip
    kim = make_user("it-kim")
    ticket = persons_data(session, make_ticket, kim)
    someone_else = make_ticket(callback_number=OTHER)
    session.commit()
    ticket_id, reference, other_id = ticket.id, ticket.reference, someone_else.id  # the CLI ends the session
    assert len(where_found(session, FORMS)) >= 10  # the fixture does spread the number around
    tickets_before = session.scalar(select(func.count()).select_from(Ticket))
    attempts_before = session.scalar(select(func.count()).select_from(CallbackAttempt))

    out = erase(app, "--number", "010-1234-5678", "--reason", "민원 2026-118", "--by", "admin-lee", "--yes")
    assert out.exit_code == 0, out.output
    assert "010-****-5678" in out.output and "1234" not in out.output

    session.expire_all()
    assert where_found(session, FORMS) == []
    assert session.scalar(select(func.count()).select_from(Ticket)) == tickets_before
    assert session.scalar(select(func.count()).select_from(CallbackAttempt)) == attempts_before
    kept = session.get_one(Ticket, ticket_id)
    assert (kept.field, kept.status, kept.created_at) == ("it", "assigned", NOW)  # routed to kim
    assert session.get_one(Ticket, other_id).callback_number == OTHER
    deletes = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == "recording_delete")).all()
    assert sorted(m.recipient for m in deletes) == [sid(1), sid(2)]
    [row] = [
        r
        for r in session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "delete"))
        if r.detail.get("what") == "personal data" and reference in r.subjects
    ]
    assert row.actor_name == "admin-lee" and "민원 2026-118" in (row.reason or "")


def test_erasure_asks_first_and_a_no_changes_nothing(
    app: Flask, session: Session, make_ticket: Callable[..., Ticket], admin: User
) -> None:
    ticket_id = make_ticket(callback_number=NUMBER).id
    session.commit()
    out = erase(app, "--number", NUMBER, "--reason", "요청", "--by", "admin-lee", input="n\n")
    assert out.exit_code != 0 and "Erase this person's data" in out.output
    session.expire_all()
    assert session.get_one(Ticket, ticket_id).callback_number == NUMBER
    out = erase(app, "--number", NUMBER, "--reason", "요청", "--by", "admin-lee", input="y\n")
    assert out.exit_code == 0, out.output
    session.expire_all()
    assert session.get_one(Ticket, ticket_id).callback_number is None


def test_only_an_admin_may_erase_and_a_reference_limits_it_to_that_ticket(
    app: Flask, session: Session, make_ticket: Callable[..., Ticket], make_user: Callable[..., User],
    admin: User,
) -> None:  # fmt: skip
    make_user("it-kim")
    first, second = make_ticket(callback_number=NUMBER), make_ticket("bio", callback_number=NUMBER)
    session.commit()
    first_id, second_id, reference = first.id, second.id, first.reference
    refused = erase(app, "--number", NUMBER, "--reason", "요청", "--by", "it-kim", "--yes")
    assert refused.exit_code != 0 and "not an active admin" in refused.output
    by = ("--reason", "r", "--by", "admin-lee")
    wrong = erase(app, "--number", OTHER, "--reference", reference, *by)
    assert wrong.exit_code != 0 and "does not hold" in wrong.output
    out = erase(app, "--number", NUMBER, "--reference", reference, *by, "--yes")
    assert out.exit_code == 0, out.output
    session.expire_all()
    assert session.get_one(Ticket, first_id).callback_number is None
    assert session.get_one(Ticket, second_id).callback_number == NUMBER


def test_an_admin_erases_in_the_console_after_confirming_and_others_may_not(
    client: Any, session: Session, make_ticket: Callable[..., Ticket], make_user: Callable[..., User],
    admin: User,
) -> None:  # fmt: skip
    make_user("sup-han", role="supervisor", fields=("it",))
    ticket_id = make_ticket(callback_number=NUMBER).id
    login(client, "sup-han")
    assert client.get("/console/privacy/erase").status_code == 403
    client.post("/console/logout", data={"csrf_token": _csrf(client.get("/console/").data)})

    login(client, "admin-lee")
    token = _csrf(client.get("/console/privacy/erase").data)
    form = {"csrf_token": token, "number": "010-1234-5678", "reason": "민원 2026-119"}
    preview = client.post("/console/privacy/erase", data=form).get_data(as_text=True)
    assert "010-****-5678" in preview and 'name="confirm"' in preview
    session.expire_all()
    assert session.get_one(Ticket, ticket_id).callback_number == NUMBER  # nothing yet
    done = client.post("/console/privacy/erase", data={**form, "confirm": "yes"})
    assert done.status_code == 303
    session.expire_all()
    assert session.get_one(Ticket, ticket_id).callback_number is None
    assert where_found(session, FORMS) == []
