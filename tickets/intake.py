"""A new ticket from a call or the web form: the one way tickets come into existence.

`open_ticket` routes the new ticket to a consultant (tickets.routing). A repeat call is linked to the caller's
open ticket in the same field instead, but only when the caller chose to (`join_open_ticket`) and only on
proof: the network caller ID equals that ticket's caller number. A typed number proves nothing, so a call
never joins, or hears the reference of, another company's ticket. The link is an event with the new call
and its recording, and the consultant holding the ticket is told through the outbox.
`attach_recording` is the one rule for a recording reaching a ticket, whichever webhook brings it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from callflows.phones import callable_number, is_mobile
from tickets import events, outbox, routing, sla
from tickets.labels import STAFF_SMS_PREFIX
from tickets.models import OPEN_STATUSES, Call, Channel, RepeatCall, Status, Ticket
from tickets.references import unused_reference


def open_ticket(
    session: Session,
    *,
    now: datetime,
    field: str,
    support_type: str | None,
    language: str,
    caller_number: str | None,
    callback_number: str | None,
    call: Call | None = None,
    incomplete: bool = False,
    missed_call: bool = False,
    join_open_ticket: bool = False,
    timezone: str = routing.DEFAULT_TIMEZONE,
    web: WebAnswers | None = None,
) -> Ticket:
    if call is not None and (filed := call.filed_or_joined_ticket) is not None:
        # The same call again (a replayed webhook, or the flow ending after the status callback filed it):
        # nothing new, except a recording of a repeat call that arrived since it joined.
        if call.ticket is None:
            attach_call_recording(session, call, filed, now)
        return filed
    existing = _open_ticket_in_field(session, caller_number, field) if join_open_ticket else None
    if existing is not None:
        link_repeat_call(session, existing, call=call, now=now, support_type=support_type, web=web)
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
        missed_call=missed_call,
        channel=Channel.WEB if web is not None else Channel.PHONE,
        company=web.company if web is not None else None,
        contact_person=web.contact_person if web is not None else None,
        description=web.description if web is not None else None,
        escalation_level=0,
        paused_seconds=0,
        created_at=now,
        updated_at=now,
    )
    if call is not None and call.recording_url:
        ticket.recording_sid = call.recording_sid
        ticket.recording_url = call.recording_url
        ticket.recording_duration = call.recording_duration
    sla.stamp(ticket, now)
    session.add(ticket)
    source = "call" if call is not None else "web" if web is not None else "manual"
    events.record(session, ticket, "created", at=now, incomplete=incomplete, source=source)
    session.flush()
    routing.route(session, ticket, now=now, timezone=timezone)
    return ticket


@dataclass(frozen=True)
class WebAnswers:
    """What the web form asks besides a call's answers (tickets.web_requests): a web ticket has these in
    place of a recording."""

    company: str
    contact_person: str
    description: str


def _open_tickets_of(caller_id: str | None) -> Select[Ticket] | None:
    """The open tickets filed from this network caller ID; None when it is withheld or not a number."""
    caller = callable_number(caller_id)
    if caller is None:
        return None
    return select(Ticket).where(Ticket.caller_number == caller, Ticket.status.in_(list(OPEN_STATUSES)))


def open_ticket_fields(session: Session, caller_id: str | None) -> tuple[str, ...]:
    """The fields in which the caller ID has an open ticket: the call flow offers to add to those."""
    query = _open_tickets_of(caller_id)
    if query is None:
        return ()
    return tuple(sorted(set(session.scalars(query.with_only_columns(Ticket.field)))))


def _open_ticket_in_field(session: Session, caller_id: str | None, field: str) -> Ticket | None:
    """The caller ID's open ticket in the field (the oldest, should there be several)."""
    query = _open_tickets_of(caller_id)
    if query is None:
        return None
    oldest = query.where(Ticket.field == field).order_by(Ticket.created_at, Ticket.id).limit(1)
    return session.scalars(oldest).first()


def link_repeat_call(
    session: Session,
    ticket: Ticket,
    *,
    call: Call | None,
    now: datetime,
    support_type: str | None = None,
    web: WebAnswers | None = None,
) -> None:
    """The call joins `ticket`: one `repeat_call` event, its recording attached, the holder told once.
    A web request joins the same way, its answers in the event instead of a recording."""
    detail: dict[str, Any] = {}
    if web is not None:
        detail.update(channel=Channel.WEB.value, **asdict(web))
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
        attach_call_recording(session, call, ticket, now)
    holder = ticket.assignee
    if holder is not None:
        new_recording = " (새 녹음 있음)" if call is not None and call.recording_url else ""
        again = "웹으로 다시 요청" if web is not None else "재전화"
        body = (
            f"{STAFF_SMS_PREFIX} 접수번호 {ticket.reference} 고객 {again}{new_recording}. "
            "콘솔에서 확인하세요."
        )
        mobile = holder.phone if is_mobile(holder.phone) else None  # else the console inbox: no SMS
        outbox.add_message_once(
            session,
            key=f"repeat-call:{ticket.id}:{call.call_sid if call is not None else now.isoformat()}",
            channel="sms" if mobile else "console",
            recipient=mobile or holder.username,
            payload={"kind": "repeat_call", "reference": ticket.reference, "body": body},
            ticket_id=ticket.id,
            now=now,
        )
    session.flush()


def attach_call_recording(session: Session, call: Call, ticket: Ticket, now: datetime) -> None:
    """The call's own recording onto `ticket`, by the one recording rule (`attach_recording`)."""
    if call.recording_url:
        attach_recording(
            session,
            ticket,
            url=call.recording_url,
            sid=call.recording_sid,
            duration=call.recording_duration,
            call_sid=call.call_sid,
            now=now,
        )


def take_recording(holder: Call | Ticket, url: str, sid: str | None, duration: int | None) -> bool:
    """Put the recording on a call or ticket that has none, or has this one (its SID or length may come
    later, from another webhook); False when it holds another recording, which it keeps."""
    if holder.recording_url not in (None, url):
        return False
    holder.recording_url = url
    holder.recording_sid = sid or holder.recording_sid
    if duration is not None:
        holder.recording_duration = duration
    return True


def attach_recording(
    session: Session,
    ticket: Ticket,
    *,
    url: str,
    sid: str | None,
    duration: int | None,
    call_sid: str,
    now: datetime,
) -> None:
    """A recording of call `call_sid` onto `ticket`, with a `recording_added` event (marked with the call).

    A ticket without a recording plays this one; a ticket with another keeps it, and this one is kept as
    an extra `recording_added` event, once per URL, playable in the console.
    """
    before = (ticket.recording_url, ticket.recording_sid)
    if take_recording(ticket, url, sid, duration):
        if (ticket.recording_url, ticket.recording_sid) != before:
            events.record(
                session, ticket, "recording_added", at=now, url=url, duration=duration, call_sid=call_sid
            )
        return
    if any(e.type == "recording_added" and e.detail.get("url") == url for e in ticket.events):
        return
    events.record(
        session, ticket, "recording_added", at=now, url=url, duration=duration, extra=True, call_sid=call_sid
    )
