"""Calls in the database: one row per CallSid, moved on by every webhook, and the ticket at the end.

The replay rule: every action URL carries the number of the turn that asked the question
(`/ivr/voice/field?turn=3`) and the row keeps its latest turn number and TwiML. A request for an older
turn is Twilio retrying one we already answered: it gets the saved TwiML back and changes nothing. A
new key press (even the same wrong key again) answers the latest turn and so is a new turn.

Every webhook first locks its call's row (find_call), so two webhooks of one call are handled one after
the other; a call's first webhook inserts the row (new_call). Filing the ticket goes through
tickets.intake. Service functions here change rows and flush; the webhook view commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from callflows import flow, prompts
from callflows.call_actions import Action, Hangup
from callflows.flow import Reply, Turn
from callflows.flow_config import FlowConfig
from callflows.phones import callable_number, is_mobile
from callflows.state import GENERAL_FIELD, CallState
from ivr import metrics
from tickets import events
from tickets.db import insert_unless_present
from tickets.intake import (
    attach_call_recording,
    attach_recording,
    open_ticket,
    open_ticket_fields,
    take_recording,
)
from tickets.models import Call, RepeatCall, Ticket
from tickets.outbox import add_message_once

log = logging.getLogger(__name__)

FALLBACK_STEP = "fallback_message"  # the apology's <Record> posts here (see callflows.flow.apology)
QUIET_BEFORE_FILING = timedelta(minutes=10)  # a call with no webhook for this long is over
ENDED_STATUSES = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})
_MAX_TEXT = 64  # Call.from_number and friends are String(64); Twilio never sends more

# (actions, turn) -> TwiML; the webhook view builds it from the public URL of each step
Renderer = Callable[[tuple[Action, ...], int], str]


@dataclass(frozen=True)
class CallContext:
    """What every call-flow service needs besides the session."""

    flow: FlowConfig
    render: Renderer
    now: datetime
    timezone: str = "Asia/Seoul"  # the center's, for routing's working hours


def _clip(value: str | None, limit: int = _MAX_TEXT) -> str | None:
    return value[:limit] if value else None


def find_call(session: Session, call_sid: str) -> Call | None:
    """The call row, locked until commit so two webhooks of one call are handled one after the other."""
    return session.scalar(select(Call).where(Call.call_sid == call_sid).with_for_update())


def new_call(session: Session, call_sid: str, form: Mapping[str, str], now: datetime) -> Call:
    """The row of a call seen for the first time, locked. Two webhooks of a new call can both find no row:
    the second one's INSERT then waits for the first to commit, inserts nothing, and reads the first's row.
    """
    insert_unless_present(
        session,
        Call,
        "call_sid",
        call_sid=call_sid,
        from_number=_clip(form.get("From")),
        to_number=_clip(form.get("To")),
        turn=0,
        state={},
        started_at=now,
        updated_at=now,
    )
    call = find_call(session, call_sid)
    if call is None:
        raise LookupError(f"call {call_sid}: its row exists (the INSERT conflicted) but cannot be read")
    return call


def call_for(session: Session, call_sid: str, form: Mapping[str, str], now: datetime) -> Call:
    """The call's row, made if this is the first request of the call to reach us, with the caller's number
    taken from whichever request carries it: a recording callback (which has no From) may arrive first,
    above all when requests are replayed from the spool after an outage, and a row left without the
    caller's number gives a ticket nobody can call back."""
    call = find_call(session, call_sid) or new_call(session, call_sid, form, now)
    if call.from_number is None and form.get("From"):
        call.from_number = _clip(form.get("From"))
        call.to_number = call.to_number or _clip(form.get("To"))
        session.flush()
    return call


def answer_new_call(session: Session, ctx: CallContext, call_sid: str, form: Mapping[str, str]) -> str:
    """POST /ivr/voice: the greeting and the field menu (or, for a retried request, the same TwiML)."""
    call = call_for(session, call_sid, form, ctx.now)
    if call.last_response:
        return call.last_response  # Twilio retrying, or a copy of this request that came first
    # a new call, or one whose callback came first and made the row
    metrics.count_call(session, "started")
    open_fields = open_ticket_fields(session, call.from_number)
    return _advance(session, ctx, call, flow.start(ctx.flow, call.from_number, open_fields))


def answer_step(
    session: Session, ctx: CallContext, call_sid: str, step: str, turn: int | None, form: Mapping[str, str]
) -> str:
    """POST /ivr/voice/<step>: the caller's answer moves the flow on by one turn.

    Raises flow.UnknownStep for a step the flow does not have (the view answers 404).
    """
    call = find_call(session, call_sid)
    if call is None:
        # a later step for a call we never saw (a lost row, another deployment): start again politely
        call = new_call(session, call_sid, form, ctx.now)
        if call.last_response:
            return call.last_response
        open_fields = open_ticket_fields(session, call.from_number)
        return _advance(session, ctx, call, flow.restart(ctx.flow, call.from_number, open_fields))
    state = CallState.from_dict(call.state) if call.state else CallState(caller_number=call.from_number)
    if call.last_response and (state.finished or (turn is not None and turn < call.turn)):
        return call.last_response  # Twilio retrying a request we answered, or the farewell again
    result = flow.respond(ctx.flow, state, step, Reply.from_twilio(form))
    return _advance(session, ctx, call, result, recording_sid=_clip(form.get("RecordingSid")))


def _advance(
    session: Session, ctx: CallContext, call: Call, result: Turn, recording_sid: str | None = None
) -> str:
    """Move the call on by one turn, filing its ticket when the flow ends; returns the turn's TwiML.
    `recording_sid`: the <Record> action's RecordingSid, so the ticket (or the repeat_call event) names
    the recording before its callback arrives."""
    state = result.state
    call.turn += 1
    call.state = state.to_dict()
    call.language = state.language
    call.step = None if state.finished else state.step
    # a missed call ended the flow without completing it: today's calls count it as ended early
    call.flow_completed = state.finished and not state.missed
    call.updated_at = ctx.now
    actions = result.actions
    if state.missed:
        # silence from the start: the flow said goodbye; a missed call, not a request
        _file_incomplete_ticket(session, ctx, call)
        metrics.count_call(session, "missed")
    elif state.finished:
        if isinstance(state.recording, dict):
            url = _clip(str(state.recording.get("url") or ""), 1024)
            if url:
                take_recording(call, url, recording_sid, state.recording.get("duration"))
        ticket = _file_ticket(session, ctx, call, state)
        sms = _queue_confirmation_sms(session, ctx, call, state, ticket)
        actions = flow.farewell(ctx.flow, state, ticket.reference, sms)
    call.last_response = ctx.render(actions, call.turn)
    session.flush()
    return call.last_response


def _file_ticket(session: Session, ctx: CallContext, call: Call, state: CallState) -> Ticket:
    """The complete ticket; an incomplete one already made for this call (the status callback came
    first) is completed instead of duplicated."""
    ticket = _open_ticket_for(session, ctx, call, state, state.callback_number, incomplete=False)
    metrics.count_call(session, "filed")
    if ticket.call_id != call.id or not ticket.incomplete:
        return ticket  # new, or the caller's open ticket that this call joined
    ticket.field = state.field or ticket.field
    ticket.support_type = state.support_type or ticket.support_type
    ticket.callback_number = state.callback_number or ticket.callback_number
    attach_call_recording(session, call, ticket, ctx.now)
    ticket.incomplete = False
    ticket.updated_at = ctx.now
    events.record(session, ticket, "call_completed", at=ctx.now)
    return ticket


def _open_ticket_for(
    session: Session,
    ctx: CallContext,
    call: Call,
    state: CallState,
    callback_number: str | None,
    *,
    incomplete: bool,
) -> Ticket:
    """The ticket of this call, from what the caller answered so far. A call that ended before a field was
    chosen is a missed call (the general pool, with the missed-call target)."""
    return open_ticket(
        session,
        now=ctx.now,
        field=state.field or GENERAL_FIELD,
        support_type=state.support_type,
        language=state.language,
        caller_number=call.from_number,
        callback_number=callback_number,
        call=call,
        incomplete=incomplete,
        missed_call=state.field is None,
        join_open_ticket=state.joins_open_ticket,
        timezone=ctx.timezone,
    )


def _queue_confirmation_sms(
    session: Session, ctx: CallContext, call: Call, state: CallState, ticket: Ticket
) -> bool:
    """The confirmation SMS into the outbox, once per call (its key), and only to a mobile number."""
    number = state.callback_number
    if not number or not is_mobile(number):
        return False
    body = prompts.confirmation_sms(ctx.flow, state.language, ticket.reference, ticket.field)
    add_message_once(
        session,
        key=f"confirm-sms:{call.call_sid}",
        channel="sms",
        recipient=number,
        payload={"body": body, "kind": "call_confirmation", "reference": ticket.reference},
        ticket_id=ticket.id,
        now=ctx.now,
    )
    return True


def _int(value: str | None) -> int | None:
    try:
        number = int(float(value)) if value else None
    except ValueError:
        return None
    return number if number is not None and 0 <= number < 10**9 else None


def call_ended(session: Session, ctx: CallContext, call_sid: str, form: Mapping[str, str]) -> Ticket | None:
    """POST /ivr/status: record how the call ended; a caller who hung up before the end still gets a
    ticket (`incomplete`) when we have a number to call back. Returns that ticket, if one was made."""
    status = (form.get("CallStatus") or "").strip()[:32]
    duration = _int(form.get("CallDuration"))
    call = call_for(session, call_sid, form, ctx.now)
    if status:
        call.status = status
    if duration is not None:
        call.duration = duration
    call.updated_at = ctx.now
    ticket = None
    if status in ENDED_STATUSES:
        call.ended_at = call.ended_at or ctx.now
        if not call.flow_completed and call.ticket is None and not _saved_state(call).missed:
            ticket = _file_incomplete_ticket(session, ctx, call)
            metrics.count_call(session, "incomplete" if ticket else "missed")
    session.flush()
    return ticket


def _saved_state(call: Call) -> CallState:
    try:
        return CallState.from_dict(call.state) if call.state else CallState(caller_number=call.from_number)
    except ValueError:
        log.error("call %s: unreadable saved state %r; filing with defaults", call.call_sid, call.state)
        return CallState(caller_number=call.from_number)


def _file_incomplete_ticket(session: Session, ctx: CallContext, call: Call) -> Ticket | None:
    state = _saved_state(call)
    number = state.callback_number or callable_number(call.from_number)
    if number is None:
        log.info("call %s ended early without a number to call back: kept for reporting", call.call_sid)
        return None
    return _open_ticket_for(session, ctx, call, state, number, incomplete=True)


def recording_ready(session: Session, ctx: CallContext, call_sid: str, form: Mapping[str, str]) -> None:
    """POST /ivr/recording: before or after the `message` step's action, the recording ends up on the
    call and on the ticket it filed or joined (tickets.intake.attach_recording). A second recording (the
    apology's) is kept as an event, never dropped."""
    if (form.get("RecordingStatus") or "completed") != "completed":
        log.warning("call %s: recording %s", call_sid, form.get("RecordingStatus"))
        return
    url = _clip(form.get("RecordingUrl"), 1024)
    duration = _int(form.get("RecordingDuration"))
    if not url or duration == 0:
        return
    sid = _clip(form.get("RecordingSid"))
    call = call_for(session, call_sid, form, ctx.now)
    if take_recording(call, url, sid, duration):
        call.updated_at = ctx.now
    ticket = call.filed_or_joined_ticket
    if ticket is not None:
        attach_recording(session, ticket, url=url, sid=sid, duration=duration, call_sid=call_sid, now=ctx.now)
    session.flush()


def fallback_message(session: Session, ctx: CallContext, call_sid: str, form: Mapping[str, str]) -> str:
    """POST /ivr/voice/fallback_message: the message left after the apology. It goes on the call row
    and, when there is a number to call back, on a ticket; then the call ends."""
    call = call_for(session, call_sid, form, ctx.now)
    reply = Reply.from_twilio(form)
    language = _saved_state(call).language
    if reply.recording_url:
        recording_form = {
            "RecordingUrl": reply.recording_url,
            "RecordingDuration": str(reply.recording_duration or ""),
            "RecordingSid": form.get("RecordingSid") or "",
        }
        recording_ready(session, ctx, call_sid, recording_form)
        if call.ticket is None:
            _file_incomplete_ticket(session, ctx, call)
    call.updated_at = ctx.now
    session.flush()
    return ctx.render(_goodbye(ctx.flow, language), call.turn)


def _goodbye(config: FlowConfig, language: str) -> tuple[Action, ...]:
    return (prompts.say("thanks", language), Hangup())


def goodbye_twiml(ctx: CallContext, language: str = "ko") -> str:
    """What Twilio hears when even the message after the apology could not be saved: thanks, hang up
    (another apology would only loop; the webhooks keep what the caller gave in the spool)."""
    return ctx.render(_goodbye(ctx.flow, language), 0)


def file_unfiled_calls(session: Session, ctx: CallContext, limit: int = 100) -> list[Ticket]:
    """The recovery job: an `incomplete` ticket, through the same intake as a hang-up's, for each call
    that ended or went quiet for QUIET_BEFORE_FILING without a ticket (its webhooks failed, or the
    process died mid-call). Each call is looked at once (filing_checked_at); rows another scheduler
    holds are skipped, and intake files at most one ticket per call whatever runs twice."""
    unfiled = (
        select(Call)
        .where(
            Call.flow_completed.is_(False),
            Call.filing_checked_at.is_(None),
            or_(Call.ended_at.is_not(None), Call.updated_at <= ctx.now - QUIET_BEFORE_FILING),
            ~exists().where(Ticket.call_id == Call.id),
            ~exists().where(RepeatCall.call_id == Call.id),
        )
        .order_by(Call.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    filed = []
    for call in session.scalars(unfiled).all():
        call.filing_checked_at = ctx.now
        ticket = _file_incomplete_ticket(session, ctx, call)
        if ticket is not None:
            log.warning("call %s had no ticket: filed %s as incomplete", call.call_sid, ticket.reference)
            filed.append(ticket)
    session.flush()
    return filed


def apology_twiml(ctx: CallContext, language: str = "ko") -> str:
    """What Twilio hears when handling a webhook failed: an apology and a <Record> of a message."""
    return ctx.render(flow.apology(ctx.flow, language), 0)


def parse_turn(raw: str | None) -> int | None:
    try:
        value = int(raw) if raw and len(raw) < 10 else None
    except ValueError:
        return None
    return value if value is not None and value >= 0 else None
