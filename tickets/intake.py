"""A new ticket from a call: the one way tickets come into existence.

`open_ticket` routes the new ticket to a consultant (tickets.routing). A repeat call (same callback number,
an open ticket in the same field) is linked to that ticket instead: an event with the new call and its
recording, and the consultant holding it is told through the outbox. The caller then hears the reference
they already have.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, exists, insert, inspect, select
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.schema import CallableColumnDefault, ScalarElementColumnDefault

from callflows.phones import is_mobile
from tickets import events, lifecycle, outbox, routing
from tickets.deadlines import DeadlinePolicy
from tickets.models import OPEN_STATUSES, Call, RepeatCall, Status, Ticket
from tickets.plain_sql import PerDialect, PlainStatement
from tickets.references import new_reference, unused_reference


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
    if call is not None and call.id is None:
        session.flush()  # a new call gets its id for the look-up (which autoflushes whatever else is pending)
    reference = new_reference()
    found = session.execute(
        _LOOK_UP,
        {
            "call_id": call.id if call is not None else None,
            "callback_number": callback_number or None,  # no number: no repeat caller to recognise
            "field": field,
            "reference": reference,
        },
    ).one()
    if call is not None and (found.filed is not None or found.joined is not None):
        # The same call again (a replayed webhook, or the flow ending after the status callback filed it):
        # nothing new, except a recording of a repeat call that arrived since it joined.
        ticket = session.get_one(Ticket, found.filed if found.filed is not None else found.joined)
        if found.joined is not None:
            attach_recording_of_repeat_call(session, ticket, call, now=now)
        return ticket
    if call is not None:
        _know_call_has_no_ticket(call)
    if found.open_in_field is not None:
        existing = session.get_one(Ticket, found.open_in_field)
        link_repeat_call(session, existing, call=call, now=now, support_type=support_type)
        return existing
    if found.reference_taken:
        reference = unused_reference(session)
    # Routed before the ticket is written, so that it is inserted as it ends up: one INSERT, no UPDATE.
    consultant = routing.choose_consultant(session, field, now=now, timezone=timezone)
    draft = Ticket(
        reference=reference,
        call_id=call.id if call is not None else None,
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
        draft.recording_sid = call.recording_sid
        draft.recording_url = call.recording_url
        draft.recording_duration = call.recording_duration
    policy.stamp(draft, now)
    source = "call" if call is not None else "manual"
    history = [events.Entry("created", now, {"incomplete": incomplete, "source": source})]
    if consultant is None:
        history.append(routing.pooled(field, now))
    else:
        history.append(lifecycle.assign_before_insert(session, draft, consultant, now=now, reason="routed"))
    ticket = _insert(session, draft)
    events.write(session, ticket, history)
    if call is not None:
        set_committed_value(call, "ticket", ticket)
    return ticket


def _insert(session: Session, draft: Ticket) -> Ticket:
    """The draft's row, written with a plain INSERT … RETURNING id; the draft itself then joins the
    session as the persistent ticket, as if just loaded. Neither the flush (unit of work) a pending
    ticket would cost nor loading the row back into a new object is needed: every column is set here."""
    columns = inspect(draft).dict  # the draft's own values, kept up to date by the setattr below
    for key, default in _TICKET_DEFAULTS.items():
        if key not in columns:
            setattr(draft, key, default())
    inserted = _INSERT_RETURNING_ID(session).first(session, **{key: columns[key] for key in _TICKET_DEFAULTS})
    assert inserted is not None  # INSERT … RETURNING returns the row it inserted
    draft.id = inserted[0]
    make_transient_to_detached(draft)  # its values become what the row holds
    session.add(draft)
    return draft


def _column_default(column: ColumnElement[Any]) -> Callable[[], Any]:
    """What the INSERT would write for a column left out: its model default, else NULL."""
    default = getattr(column, "default", None)
    if default is None and getattr(column, "server_default", None) is None:
        return lambda: None
    if isinstance(default, ScalarElementColumnDefault):
        return lambda: default.arg
    if isinstance(default, CallableColumnDefault):
        return lambda: cast(Any, default.arg)(None)  # SQLAlchemy passes its callables an execution context
    raise TypeError(f"{column}: a default the database computes would have to be read back")


_TICKETS = cast(Table, Ticket.__table__)
_TICKET_DEFAULTS = {
    attr.key: _column_default(attr.columns[0]) for attr in inspect(Ticket).column_attrs if attr.key != "id"
}
_INSERT_RETURNING_ID = PerDialect(
    lambda dialect: PlainStatement(insert(_TICKETS).returning(_TICKETS.c.id), dialect, list(_TICKET_DEFAULTS))
)


# What decides how a call is filed, in one round trip (it runs at the end of every call): the ticket the
# call filed or joined already, the caller's open ticket in the field (the oldest, should there be
# several), and whether the reference drawn for a new ticket is taken.
_LOOK_UP = select(
    select(Ticket.id).where(Ticket.call_id == bindparam("call_id")).scalar_subquery().label("filed"),
    select(RepeatCall.ticket_id)
    .where(RepeatCall.call_id == bindparam("call_id"))
    .scalar_subquery()
    .label("joined"),
    select(Ticket.id)
    .where(
        Ticket.callback_number == bindparam("callback_number"),
        Ticket.field == bindparam("field"),
        Ticket.status.in_(list(OPEN_STATUSES)),
    )
    .order_by(Ticket.created_at, Ticket.id)
    .limit(1)
    .scalar_subquery()
    .label("open_in_field"),
    exists().where(Ticket.reference == bindparam("reference")).label("reference_taken"),
)


def _know_call_has_no_ticket(call: Call) -> None:
    """The look-up found neither a ticket nor a link for this call: say so on the call, so that asking
    (call.ticket, call.filed_or_joined_ticket) later in the request costs no query."""
    unloaded = inspect(call).unloaded
    for relationship in ("ticket", "repeat_of"):
        if relationship in unloaded:
            set_committed_value(call, relationship, None)


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
        new_recording = " (새 녹음 있음)" if call is not None and call.recording_url else ""
        body = f"[1379] 접수번호 {ticket.reference} 고객 재전화{new_recording}. 콘솔에서 확인하세요."
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
