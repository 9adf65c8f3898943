"""A new ticket from a call: the one way tickets come into existence.

`open_ticket` routes the new ticket to a consultant (tickets.routing). A repeat call (same callback number,
an open ticket in the same field) is linked to that ticket instead: an event with the new call and its
recording, and the consultant holding it is told through the outbox. The caller then hears the reference
they already have.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import events, routing
from tickets.deadlines import DeadlinePolicy
from tickets.models import OPEN_STATUSES, Call, OutboxMessage, RepeatCall, Status, Ticket
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
    timezone: str = routing.DEFAULT_TIMEZONE,
) -> Ticket:
    if call is not None and call.filed_or_joined_ticket is not None:
        # The same call again (a replayed webhook, or the flow ending after the status callback filed it):
        # nothing new, except a recording of a repeat call that arrived since it joined.
        ticket = call.filed_or_joined_ticket
        if call.repeat_of is not None:
            attach_recording_of_repeat_call(session, ticket, call, now=now)
        return ticket
    existing = open_ticket_of(session, callback_number, field)
    if existing is not None:
        link_repeat_call(session, existing, call=call, now=now, support_type=support_type)
        return existing
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
    routing.route(session, ticket, now=now, timezone=timezone)
    return ticket


def open_ticket_of(session: Session, callback_number: str | None, field: str) -> Ticket | None:
    """The caller's open ticket in this field, if any (the oldest, should there be several)."""
    if not callback_number:
        return None
    return session.scalars(
        select(Ticket)
        .where(
            Ticket.callback_number == callback_number,
            Ticket.field == field,
            Ticket.status.in_(list(OPEN_STATUSES)),
        )
        .order_by(Ticket.created_at, Ticket.id)
        .limit(1)
    ).first()


def link_repeat_call(
    session: Session, ticket: Ticket, *, call: Call | None, now: datetime, support_type: str | None = None
) -> None:
    """The call joins `ticket`: one `repeat_call` event, its recording attached, the holder told once."""
    detail: dict[str, Any] = {}
    if call is not None:
        if call.filed_or_joined_ticket is not None:
            return  # linked already: a replay adds nothing
        session.add(RepeatCall(call=call, ticket=ticket, linked_at=now))
        detail["call_sid"] = call.call_sid
        if call.recording_url:
            detail.update(
                recording_sid=call.recording_sid,
                recording_url=call.recording_url,
                recording_duration=call.recording_duration,
            )
    if support_type and support_type != ticket.support_type:
        detail["support_type"] = support_type
    ticket.updated_at = now
    events.record(session, ticket, "repeat_call", at=now, **detail)
    if call is not None:
        attach_recording_of_repeat_call(session, ticket, call, now=now)
    holder = ticket.assignee
    if holder is not None:
        key = f"repeat-call:{ticket.id}:{call.call_sid if call is not None else now.isoformat()}"
        if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == key)) is None:
            new_recording = " (새 녹음 있음)" if call is not None and call.recording_url else ""
            body = f"[1379] 접수번호 {ticket.reference} 고객 재전화{new_recording}. 콘솔에서 확인하세요."
            session.add(
                OutboxMessage(
                    key=key,
                    channel="sms" if holder.phone else "console",
                    recipient=holder.phone or holder.username,
                    payload={"kind": "repeat_call", "reference": ticket.reference, "body": body},
                    ticket_id=ticket.id,
                    next_try_at=now,
                    created_at=now,
                )
            )
    session.flush()


def attach_recording_of_repeat_call(session: Session, ticket: Ticket, call: Call, *, now: datetime) -> None:
    """A repeat call's message on the ticket it joined, once per recording URL.

    A ticket without a recording plays this one; otherwise it is kept as an extra `recording_added`
    event (the same shape ivr.calls writes when the recording callback comes later), playable in the
    console.
    """
    if not call.recording_url or call.recording_url == ticket.recording_url:
        return
    if not ticket.recording_url:
        ticket.recording_sid = call.recording_sid
        ticket.recording_url = call.recording_url
        ticket.recording_duration = call.recording_duration
        return
    if any(e.type == "recording_added" and e.detail.get("url") == call.recording_url for e in ticket.events):
        return
    events.record(
        session,
        ticket,
        "recording_added",
        at=now,
        url=call.recording_url,
        duration=call.recording_duration,
        extra=True,
        call_sid=call.call_sid,
    )
