"""A new ticket from a call: the one way tickets come into existence."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from tickets import events
from tickets.deadlines import DeadlinePolicy
from tickets.models import Call, Status, Ticket
from tickets.references import unused_reference


def open_ticket(
    session: Session,
    policy: DeadlinePolicy,
    *,
    now: datetime,
    field: str,
    support_type: str | None,
    language: str,
    caller_number: str | None,
    callback_number: str | None,
    call: Call | None = None,
    incomplete: bool = False,
) -> Ticket:
    ticket = Ticket(
        reference=unused_reference(session),
        call=call,
        field=field,
        support_type=support_type,
        language=language,
        caller_number=caller_number,
        callback_number=callback_number,
        status=Status.NEW,
        incomplete=incomplete,
        escalation_level=0,
        paused_seconds=0,
        created_at=now,
        updated_at=now,
    )
    if call is not None and call.recording_url:
        ticket.recording_sid = call.recording_sid
        ticket.recording_url = call.recording_url
        ticket.recording_duration = call.recording_duration
    session.add(ticket)
    policy.stamp(ticket, now)
    events.record(
        session, ticket, "created", at=now, incomplete=incomplete, source="call" if call else "manual"
    )
    session.flush()
    return ticket
