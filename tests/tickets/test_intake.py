"""Filing a ticket: what it writes, and the reference drawn again on a clash."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.tickets.conftest import NOW
from tickets import references
from tickets.intake import open_ticket
from tickets.models import Call, OutboxMessage, Status, Ticket


def _file(session: Session, call: Call | None = None, **extra: Any) -> Ticket:
    number = extra.pop("callback_number", "+821020009999")
    return open_ticket(
        session, now=NOW, field=extra.pop("field", "it"), support_type="advice", language="ko",
        caller_number=number, callback_number=number, call=call, **extra,
    )  # fmt: skip


def test_a_routed_ticket_is_inserted_assigned_with_its_events_in_order(make_user, session) -> None:
    kim = make_user("it-kim")
    ticket = _file(session)
    assert (ticket.status, ticket.assignee, ticket.assigned_at, kim.last_assigned_at) == (
        Status.ASSIGNED, kim, NOW, NOW,
    )  # fmt: skip
    assert ticket.sla_due_at is not None and ticket.acted_at is None
    assert [(e.type, e.detail, e.at) for e in ticket.events] == [
        ("created", {"incomplete": False, "source": "manual"}, NOW),
        ("assigned", {"to": "it-kim", "reason": "routed"}, NOW),
    ]
    session.expire_all()  # what was written, not what the objects say
    assert (ticket.status, ticket.assignee, kim.last_assigned_at) == (Status.ASSIGNED, kim, NOW)
    assert [e.type for e in ticket.events] == ["created", "assigned"]


def test_a_drawn_reference_that_is_taken_is_drawn_again(make_user, session, monkeypatch) -> None:
    make_user("it-kim")
    first = _file(session, callback_number="+821020001001")
    draws = iter([first.reference, first.reference, "1234-5678"])
    monkeypatch.setattr(references, "new_reference", lambda: next(draws))
    second = _file(session, callback_number="+821020001002")
    assert second.reference == "1234-5678"
    assert session.scalar(select(func.count()).where(Ticket.reference == first.reference)) == 1


def test_references_are_eight_digits_read_in_two_halves() -> None:
    assert all(re.fullmatch(r"\d{4}-\d{4}", references.new_reference()) for _ in range(50))


def test_the_same_call_again_gets_its_ticket_and_no_second_one(make_user, session) -> None:
    make_user("it-kim")
    call = Call(call_sid="CA" + "1" * 32)
    session.add(call)
    ticket = _file(session, call=call)
    assert (call.ticket, call.filed_or_joined_ticket) == (ticket, ticket)
    session.expire(call)
    assert _file(session, call=call) is ticket
    assert session.scalar(select(func.count()).where(Ticket.call_id == call.id)) == 1


def test_callers_without_a_number_are_not_taken_for_one_repeat_caller(make_user, session) -> None:
    make_user("it-kim")
    first = _file(session, callback_number="")
    assert _file(session, callback_number="") is not first
    assert _file(session, callback_number=None) is not first


@pytest.mark.parametrize(
    ("phone", "told"),
    [
        ("+821055550101", ("sms", "+821055550101")),
        # An office landline takes no SMS (it would only fail into the dead letters): the console inbox.
        ("+82212345678", ("console", "it-kim")),
        (None, ("console", "it-kim")),
    ],
)
def test_the_holder_hears_of_a_repeat_call_once_by_sms_to_a_mobile_else_in_the_console(
    make_user, session, phone: str | None, told: tuple[str, str]
) -> None:
    make_user("it-kim", phone=phone)
    ticket = _file(session)
    for sid in ("CA" + "2" * 32, "CA" + "2" * 32, "CA" + "3" * 32):
        call = session.scalar(select(Call).where(Call.call_sid == sid)) or Call(call_sid=sid)
        session.add(call)
        assert _file(session, call=call, join_open_ticket=True) is ticket
    notices = session.scalars(
        select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id).order_by(OutboxMessage.id)
    ).all()
    assert [(m.channel, m.recipient) for m in notices] == [told, told]  # one per new call, not per replay
