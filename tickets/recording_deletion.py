"""Deleting a ticket's (or a call's) recordings: forget every local reference, delete at Twilio once.

A deletion is a side effect at Twilio, so it goes through the outbox like an SMS (channel
`recording_delete`, recipient the recording SID, delivered by scheduler.recording_deletes): it is written
in the same transaction that forgets the references and records the deletion, and sent after commit with
the outbox's leases, retries and dead letters. So a crash before commit changes nothing (the next run does
it all), and a crash after commit leaves a pending delete that the outbox finishes. The unique key
`recording-delete:<SID>` makes a second request for the same recording a no-op.

The ticket's event and the access-log row name the ticket, not the recording's link: once it is gone, the
SID is kept only in the outbox row that deletes it and in the access log's detail (for the auditor).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import access_log, events
from tickets.access_log import Action
from tickets.models import Call, RepeatCall, Ticket, User
from tickets.outbox import add_message_once
from tickets.recordings import recording_sid

CHANNEL = "recording_delete"
# Event detail keys that point at a recording (tickets.recordings reads them); all are forgotten.
RECORDING_KEYS = ("url", "recording_url", "recording_sid", "sid")


def calls_of(session: Session, ticket: Ticket) -> list[Call]:
    """The call that filed the ticket and the repeat calls that joined it."""
    repeat = session.scalars(
        select(Call).join(RepeatCall, RepeatCall.call_id == Call.id).where(RepeatCall.ticket_id == ticket.id)
    ).all()
    return [c for c in (ticket.call, *repeat) if c is not None]


def _event_sid(detail: dict[str, Any]) -> str | None:
    return recording_sid(
        detail.get("recording_sid") or detail.get("sid"), detail.get("url") or detail.get("recording_url")
    )


def ticket_recordings(session: Session, ticket: Ticket) -> list[str]:
    """Every recording SID the ticket, its events and its calls hold, in the order found, once each."""
    found = [recording_sid(ticket.recording_sid, ticket.recording_url)]
    found += [_event_sid(e.detail or {}) for e in ticket.events]
    found += [recording_sid(c.recording_sid, c.recording_url) for c in calls_of(session, ticket)]
    return list(dict.fromkeys(sid for sid in found if sid is not None))


def delete_ticket_recordings(
    session: Session, ticket: Ticket, *, now: datetime, reason: str, actor: User | None = None
) -> list[str]:
    """Forget the ticket's recordings and queue their deletion at Twilio; each one an event on the ticket
    and an access-log row (action delete). Returns the SIDs queued. Marks the ticket done either way."""
    sids = ticket_recordings(session, ticket)
    ticket.recording_sid = ticket.recording_url = None  # the duration stays: it is a statistic
    _delete_web_request_words(session, ticket, now=now, reason=reason, actor=actor)
    for event in ticket.events:
        if any(key in (event.detail or {}) for key in (*RECORDING_KEYS, *WEB_REQUEST_KEYS)):
            event.detail = {
                k: v for k, v in event.detail.items() if k not in (*RECORDING_KEYS, *WEB_REQUEST_KEYS)
            }
    for call in calls_of(session, ticket):
        call.recording_sid = call.recording_url = None
    for sid in sids:
        _queue_delete(session, sid, ticket_id=ticket.id, now=now, reason=reason)
        events.record(session, ticket, "recording_deleted", by=actor, at=now, reason=reason)
        access_log.record(
            session, actor=actor, action=Action.DELETE, subjects=[ticket.reference], reason=reason,
            detail={"what": "recording", "recording_sid": sid}, at=now,
        )  # fmt: skip
    ticket.recordings_deleted_at = now
    return sids


# A web request's own words stand in for a recording (tickets.web_requests), so they go with the recordings:
# on the ticket, and in the events of later requests that joined it. The company's name stays (no person).
WEB_REQUEST_KEYS = ("contact_person", "description")


def _delete_web_request_words(
    session: Session, ticket: Ticket, *, now: datetime, reason: str, actor: User | None
) -> None:
    had_words = ticket.description is not None or ticket.contact_person is not None
    had_words |= any(k in (e.detail or {}) for e in ticket.events for k in WEB_REQUEST_KEYS)
    if not had_words:
        return
    ticket.contact_person = ticket.description = None
    events.record(session, ticket, "description_deleted", by=actor, at=now, reason=reason)
    access_log.record(
        session, actor=actor, action=Action.DELETE, subjects=[ticket.reference], reason=reason,
        detail={"what": "web request"}, at=now,
    )  # fmt: skip


def delete_call_recording(
    session: Session, call: Call, *, now: datetime, reason: str, actor: User | None = None
) -> str | None:
    """The same for a call that filed no ticket (a missed call): the access log names the call."""
    sid = recording_sid(call.recording_sid, call.recording_url)
    call.recording_sid = call.recording_url = None
    if sid is None:
        return None
    _queue_delete(session, sid, ticket_id=None, now=now, reason=reason)
    access_log.record(
        session, actor=actor, action=Action.DELETE, subjects=[f"call:{call.call_sid}"], reason=reason,
        detail={"what": "recording", "recording_sid": sid}, at=now,
    )  # fmt: skip
    return sid


def _queue_delete(session: Session, sid: str, *, ticket_id: int | None, now: datetime, reason: str) -> None:
    add_message_once(
        session, key=f"recording-delete:{sid}", channel=CHANNEL, recipient=sid,
        payload={"kind": "recording_delete", "reason": reason}, ticket_id=ticket_id, now=now,
    )  # fmt: skip
