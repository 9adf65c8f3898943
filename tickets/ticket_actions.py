"""What a person may do to tickets, shared by the JSON API and the console.

Consultants see tickets of their own fields and act on the ones they hold (claiming from their fields'
pools); supervisors see and act on all and (re)assign; admins manage users, not tickets. A ticket outside
someone's fields is "not found" for them: its existence is private. Every refusal is an ActionError with an
HTTP status, a stable code and a message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from sqlalchemy import Select, false, select
from sqlalchemy.orm import Session, object_session

from tickets import access_log, events, lifecycle, queue, recordings, referrals, routing
from tickets.access_log import Action
from tickets.models import OPEN_STATUSES, Role, Status, Ticket, User
from tickets.recordings import extra_recordings as extra_recordings  # the console and API list them here
from tickets.references import normalise_reference
from tickets.telephony import TelephonyError, telephony
from tickets.ticket_config import GENERAL_FIELD, RoutingConfig

TICKET_ROLES = (Role.CONSULTANT.value, Role.SUPERVISOR.value)
SUPERVISORS = (Role.SUPERVISOR.value,)


class ActionError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Context:
    """What every action needs besides the ticket: the session, the clock and the config."""

    session: Session
    routing: RoutingConfig
    now: datetime

    @classmethod
    def current(cls, session: Session, now: datetime) -> Context:
        config = current_app.config["HOTLINE"]
        return cls(session, config.routing, now)


def is_supervisor(user: User) -> bool:
    return user.role == Role.SUPERVISOR


def visible(query: Select[Any], user: User) -> Select[Any]:
    """Restrict a ticket query to what `user` may see."""
    if is_supervisor(user):
        return query
    if user.role != Role.CONSULTANT:
        return query.where(false())
    return query.where(Ticket.field.in_(user.fields))


def may_see_numbers(user: User, ticket: Ticket) -> bool:
    """The full numbers are for working the ticket: while it is open, to the consultant holding it (or who
    may claim it from the pool) and to supervisors. Everyone else, and everyone once it is finished, sees
    them masked (010-****-5678)."""
    if not ticket.is_open:
        return False
    if is_supervisor(user):
        return True
    return user.role == Role.CONSULTANT and ticket.assignee_id in (None, user.id)


def find(session: Session, user: User, reference: str) -> Ticket:
    ticket = session.scalar(
        visible(select(Ticket), user).where(Ticket.reference == normalise_reference(reference))
    )
    if ticket is None:
        raise ActionError(404, "not_found", f"No ticket {reference!r} you can see.")
    return ticket


def _must_hold(user: User, ticket: Ticket) -> None:
    if not is_supervisor(user) and ticket.assignee_id != user.id:
        raise ActionError(
            403, "not_yours", "Only the consultant holding this ticket (or a supervisor) may do this."
        )


def _transition(error: lifecycle.TransitionError) -> ActionError:
    status = 409 if error.code in ("invalid_transition", "not_assigned", "not_in_pool") else 422
    return ActionError(status, error.code, str(error))


def _logged(ctx: Context, action: Action, ticket: Ticket, what: str) -> None:
    """Every change to a ticket leaves an access-log row, in the change's own transaction."""
    access_log.record_request(ctx.session, action, [ticket.reference], what=what)


def claim(ctx: Context, user: User, ticket: Ticket) -> Ticket:
    if ticket.field == GENERAL_FIELD and not is_supervisor(user):
        raise ActionError(403, "triage_only", "Tickets of the general pool are triaged by supervisors.")
    try:
        queue.claim(ctx.session, ticket, user, now=ctx.now)
    except queue.ClaimConflict as error:
        raise ActionError(409, "already_claimed", str(error)) from None
    _logged(ctx, Action.CHANGE, ticket, "claim")
    return ticket


def release(ctx: Context, user: User, ticket: Ticket) -> Ticket:
    _must_hold(user, ticket)
    try:
        queue.release(ctx.session, ticket, by=user, now=ctx.now)
    except lifecycle.TransitionError as error:
        raise _transition(error) from None
    _logged(ctx, Action.CHANGE, ticket, "release")
    return ticket


def assign(ctx: Context, user: User, ticket: Ticket, *, assignee: str | None, field: str | None) -> Ticket:
    """Supervisors: set the field (triage, which routes the ticket) and/or give it to a consultant."""
    if not is_supervisor(user):
        raise ActionError(403, "forbidden", "Only supervisors assign tickets.")
    if not assignee and not field:
        raise ActionError(
            422, "invalid_request", "Give 'assignee' (a username) or 'field' (triage), or both."
        )
    try:
        if field and field != ticket.field:
            routing.set_field(
                ctx.session, ticket, field, by=user, now=ctx.now,
                known_fields=ctx.routing.field_keys, timezone=ctx.routing.timezone,
            )  # fmt: skip
        if assignee:
            target = ctx.session.scalar(select(User).where(User.username == assignee))
            if target is None:
                raise ActionError(422, "invalid_assignee", f"No user {assignee!r}.")
            if ticket.assignee_id != target.id:
                queue.reassign(ctx.session, ticket, target, by=user, now=ctx.now)
    except lifecycle.TransitionError as error:
        raise _transition(error) from None
    _logged(ctx, Action.CHANGE, ticket, "assign")
    return ticket


def log_attempt(
    ctx: Context, user: User, ticket: Ticket, *, outcome: Any, duration: Any = None, note: Any = None
) -> Any:
    _must_hold(user, ticket)
    if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
        raise ActionError(422, "invalid_duration", "duration is a whole number of seconds.")
    if note is not None and not isinstance(note, str):
        raise ActionError(422, "invalid_note", "note is text.")
    try:
        attempt = queue.log_attempt(
            ctx.session, ticket, by=user, outcome=str(outcome), now=ctx.now, duration=duration,
            note=(note or "").strip() or None, sms_after=ctx.routing.unreached_attempts_before_sms,
            hotline_number="1379",  # the short number companies know
        )  # fmt: skip
    except lifecycle.TransitionError as error:
        raise _transition(error) from None
    _logged(ctx, Action.INPUT, ticket, "attempt")
    return attempt


def change_status(ctx: Context, user: User, ticket: Ticket, status: Any, **fields: Any) -> Ticket:
    _must_hold(user, ticket)
    for key, value in fields.items():
        if value is not None and not isinstance(value, str):
            raise ActionError(422, f"invalid_{key}", f"{key} is text.")
    if str(status) == Status.RESOLVED and fields.get("resolution_type") == referrals.REFERRED:
        if not referrals.has_accepted(ticket):
            raise ActionError(
                422, "referral_not_accepted", "Resolving as referred needs a referral an institute accepted."
            )
    try:
        lifecycle.change_status(
            ctx.session, ticket, str(status), by=user, now=ctx.now,
            resolution_types=(*ctx.routing.support_type_keys, referrals.REFERRED), **fields,
        )  # fmt: skip
    except lifecycle.TransitionError as error:
        raise _transition(error) from None
    _logged(ctx, Action.CHANGE, ticket, f"status {ticket.status}")
    return ticket


COMPANY_MAX = 255


def set_company(ctx: Context, user: User, ticket: Ticket, company: Any) -> None:
    """The company's name as the consultant heard it (the caller says it; a web request types it)."""
    _must_hold(user, ticket)
    if not isinstance(company, str) or len(company.strip()) > COMPANY_MAX:
        raise ActionError(422, "invalid_company", f"company is text of at most {COMPANY_MAX} characters.")
    name = company.strip() or None
    if name == ticket.company:
        return
    events.record(
        ctx.session, ticket, "company_changed", by=user, at=ctx.now, **{"from": ticket.company, "to": name}
    )
    ticket.company = name
    _logged(ctx, Action.CHANGE, ticket, "company")


def add_note(ctx: Context, user: User, ticket: Ticket, text: Any) -> None:
    _must_hold(user, ticket)
    if not isinstance(text, str):
        raise ActionError(422, "invalid_note", "text is required.")
    try:
        lifecycle.add_note(ctx.session, ticket, text, by=user, now=ctx.now)
    except lifecycle.TransitionError as error:
        raise _transition(error) from None
    _logged(ctx, Action.INPUT, ticket, "note")


def start_callback(ctx: Context, user: User, ticket: Ticket, *, twiml_url: str, status_url: str) -> str:
    """Click-to-call: ring the consultant's phone; Twilio then fetches `twiml_url` (ivr.outbound)."""
    _must_hold(user, ticket)
    if ticket.status not in OPEN_STATUSES or ticket.status == Status.NEW:
        raise ActionError(409, "invalid_transition", f"A {ticket.status} ticket is not called back.")
    if not ticket.callback_number:
        raise ActionError(422, "no_callback_number", "This ticket has no number to call back.")
    if not user.phone:
        raise ActionError(
            422, "no_phone", "Your account has no phone number to ring: ask an admin to set it."
        )
    try:
        sid = telephony().start_call(user.phone, twiml_url, status_url, ctx.routing.hotline_number)
    except TelephonyError as error:
        raise ActionError(502, "telephony_failed", str(error)) from None
    if user.id == ticket.assignee_id:
        ticket.acted_at = ctx.now
    events.record(ctx.session, ticket, "callback_started", by=user, at=ctx.now, call_sid=sid)
    _logged(ctx, Action.CHANGE, ticket, "callback")  # the caller's number is dialled
    return sid


def recording(user: User, ticket: Ticket, event_id: int | None = None) -> tuple[bytes, str]:
    """The ticket's recording, or with `event_id` a later one kept as a `recording_added` event (a repeat
    call's message, the apology's). Fetched by its SID only: see tickets.recordings."""
    sid = recordings.own_sid(ticket) if event_id is None else recordings.extra_sid(ticket, event_id)
    if sid is None:
        raise ActionError(404, "no_recording", "This ticket has no such recording.")
    try:
        audio = telephony().fetch_recording(sid)
    except TelephonyError as error:
        raise ActionError(502, "telephony_failed", str(error)) from None
    # Logged once fetched, so the chain head is not held while Twilio answers; a failed fetch played nothing.
    session = object_session(ticket)
    assert session is not None
    access_log.record_request(
        session, Action.PLAY, [ticket.reference], recording="own" if event_id is None else event_id
    )
    return audio
