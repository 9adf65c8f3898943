"""Calls in the database: one row per CallSid, moved on by every webhook, and the ticket at the end.

The replay rule: every action URL carries the number of the turn that asked the question
(`/ivr/voice/field?turn=3`) and the row keeps its latest turn number and TwiML. A request for an older
turn is Twilio retrying one we already answered: it gets the saved TwiML back and changes nothing. A
new key press (even the same wrong key again) answers the latest turn and so is a new turn.

The greeting and the steps that only move the flow on (most requests of a call) read and write the
row in plain SQL (ivr.call_rows): one SELECT … FOR UPDATE and one UPDATE or INSERT; so do the status
and recording callbacks at the usual end of a call. Filing the ticket goes through tickets.intake and
the ORM, as does every unusual case (a callback before the flow ended, a repeat call, a second
recording).

Service functions here change rows and flush; the webhook view commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, exists, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from callflows import flow, prompts
from callflows.actions import Action, Hangup
from callflows.config import FlowConfig
from callflows.flow import Reply, Turn
from callflows.phones import callable_number, is_mobile
from callflows.state import GENERAL_FIELD, CallState
from ivr import call_rows, metrics
from tickets import events
from tickets.deadlines import DeadlinePolicy
from tickets.intake import attach_recording_of_repeat_call, open_ticket
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
    policy: DeadlinePolicy
    render: Renderer
    now: datetime
    timezone: str = "Asia/Seoul"  # the center's, for routing's working hours


def _clip(value: str | None, limit: int = _MAX_TEXT) -> str | None:
    return value[:limit] if value else None


def find_call(session: Session, call_sid: str) -> Call | None:
    """The call row, locked until commit so two webhooks of one call are handled one after the other."""
    return session.scalar(_FIND_CALL, {"call_sid": call_sid})


_FIND_CALL = select(Call).where(Call.call_sid == bindparam("call_sid")).with_for_update()


def _turn_columns(state: CallState, turn: int, now: datetime) -> dict[str, Any]:
    """The columns every new turn writes (besides its TwiML)."""
    return {
        "turn": turn,
        "state": state.to_dict(),
        "language": state.language,
        "step": None if state.finished else state.step,
        "updated_at": now,
    }


def _save_turn(session: Session, ctx: CallContext, call_id: int, turn: int, result: Turn) -> str:
    """The next turn of a call whose flow goes on, written as a plain UPDATE; returns its TwiML."""
    twiml = ctx.render(result.actions, turn)
    call_rows.save_turn(
        session, call_id, {**_turn_columns(result.state, turn, ctx.now), "last_response": twiml}
    )
    return twiml


def _new_call(session: Session, call_sid: str, form: Mapping[str, str], now: datetime) -> Call:
    """Insert the row; if a concurrent request of the same call won the race, use its row."""
    call = Call(
        call_sid=call_sid,
        from_number=_clip(form.get("From")),
        to_number=_clip(form.get("To")),
        turn=0,
        state={},
        started_at=now,
        updated_at=now,
    )
    try:
        with session.begin_nested():
            session.add(call)
    except IntegrityError:
        existing = find_call(session, call_sid)
        if existing is None:
            raise
        return existing
    return call


def answer_new_call(
    session: Session, ctx: CallContext, call_sid: str, form: Mapping[str, str], *, lost_race: bool = False
) -> str:
    """POST /ivr/voice: the greeting and the field menu (or, for a retried request, the same TwiML)."""
    row = call_rows.lock_turn(session, call_sid)
    if row is None and lost_race:
        raise LookupError(f"call {call_sid}: its row exists (the INSERT conflicted) but cannot be read")
    if row is not None and row.last_response:
        return str(row.last_response)  # Twilio retrying
    if row is not None:  # a callback of this call came first and made the row
        return _save_turn(session, ctx, row.id, row.turn + 1, flow.start(ctx.flow, row.from_number))
    from_number = _clip(form.get("From"))
    result = flow.start(ctx.flow, from_number)
    twiml = ctx.render(result.actions, 1)
    columns = {
        **_turn_columns(result.state, 1, ctx.now),
        "last_response": twiml,
        "call_sid": call_sid,
        "from_number": from_number,
        "to_number": _clip(form.get("To")),
        "started_at": ctx.now,
    }
    if not call_rows.insert_call(session, columns):
        # a concurrent request of the same call inserted the row first: answer as if it had come first
        return answer_new_call(session, ctx, call_sid, form, lost_race=True)
    metrics.count_call(session, "started")
    return twiml


def answer_step(
    session: Session, ctx: CallContext, call_sid: str, step: str, turn: int | None, form: Mapping[str, str]
) -> str:
    """POST /ivr/voice/<step>: the caller's answer moves the flow on by one turn.

    Raises flow.UnknownStep for a step the flow does not have (the view answers 404).
    """
    # The message step ends the flow and files the ticket, which takes the ORM object: lock it as one.
    call = find_call(session, call_sid) if step == "message" else None
    row = call_rows.TurnRow.of(call) if call is not None else call_rows.lock_turn(session, call_sid)
    if row is None:
        # a later step for a call we never saw (a lost row, another deployment): start again politely
        call = _new_call(session, call_sid, form, ctx.now)
        if call.last_response:
            return call.last_response
        return _advance(session, ctx, call, flow.restart(ctx.flow, call.from_number))
    if row.last_response and (row.flow_completed or (turn is not None and turn < row.turn)):
        return str(row.last_response)  # Twilio retrying a request we answered, or the farewell again
    state = CallState.from_dict(row.state) if row.state else CallState(caller_number=row.from_number)
    result = flow.respond(ctx.flow, state, step, Reply.from_twilio(form))
    if result.state.finished:
        return _advance(session, ctx, call or session.get_one(Call, row.id), result)  # the row is locked
    return _save_turn(session, ctx, row.id, row.turn + 1, result)


def _advance(session: Session, ctx: CallContext, call: Call, result: Turn) -> str:
    """Move a call held as an ORM object on by one turn, filing its ticket when the flow ends. The row is
    written with one plain UPDATE and the object told what the row now holds: nothing left to flush."""
    state = result.state
    recording_url, recording_duration = call.recording_url, call.recording_duration
    if state.finished and isinstance(state.recording, dict) and not recording_url:
        # the <Record> action came first; the recording callback adds the RecordingSid later
        recording_url = _clip(str(state.recording.get("url") or ""), 1024)
        recording_duration = state.recording.get("duration")
    columns = {
        **_turn_columns(state, call.turn + 1, ctx.now),
        "flow_completed": state.finished,
        "recording_url": recording_url,
        "recording_duration": recording_duration,
    }
    _holds(call, columns)  # the ticket below copies the call's recording
    actions = result.actions
    if state.finished:
        ticket = _file_ticket(session, ctx, call, state)
        sms = _queue_confirmation_sms(session, ctx, call, state, ticket)
        actions = flow.farewell(ctx.flow, state, ticket.reference, sms)
    columns["last_response"] = twiml = ctx.render(actions, columns["turn"])
    call_rows.save_advance(session, call.id, columns)
    _holds(call, {"last_response": twiml})
    session.flush()
    return twiml


def _holds(call: Call, columns: Mapping[str, Any]) -> None:
    """The call object shows `columns` as its row's values (written in plain SQL, not flushed)."""
    for name, value in columns.items():
        set_committed_value(call, name, value)


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
    if call.recording_url and not ticket.recording_url:
        _copy_recording(call, ticket)
    ticket.incomplete = False
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
    """The ticket of this call, from what the caller answered so far (field unknown: the general pool)."""
    return open_ticket(
        session,
        ctx.policy,
        now=ctx.now,
        field=state.field or GENERAL_FIELD,
        support_type=state.support_type,
        language=state.language,
        caller_number=call.from_number,
        callback_number=callback_number,
        call=call,
        incomplete=incomplete,
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


def _copy_recording(call: Call, ticket: Ticket) -> None:
    ticket.recording_sid = call.recording_sid
    ticket.recording_url = call.recording_url
    ticket.recording_duration = call.recording_duration


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
    if status in ENDED_STATUSES and call_rows.end_finished_call(session, call_sid, status, duration, ctx.now):
        return None  # the usual end: the flow finished and filed its ticket
    call = find_call(session, call_sid) or _new_call(session, call_sid, form, ctx.now)
    if status:
        call.status = status
    call.duration = duration if duration is not None else call.duration
    if status not in ENDED_STATUSES:
        session.flush()
        return None
    call.ended_at = call.ended_at or ctx.now
    call.updated_at = ctx.now
    ticket = None
    if not call.flow_completed and call.ticket is None:
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


@dataclass(frozen=True)
class Recording:
    """A recording Twilio reported, and the one rule for what it does to a call or a ticket."""

    url: str
    sid: str | None
    duration: int | None

    def onto(self, url: str | None, sid: str | None, duration: int | None) -> call_rows.Recorded | None:
        """The recording columns (url, sid, duration) of a row that held (url, sid, duration) once this
        recording is on it; None when the row holds another recording (this one is then an extra)."""
        if url not in (None, self.url):
            return None
        return self.url, self.sid or sid, self.duration if self.duration is not None else duration


def recording_ready(session: Session, ctx: CallContext, call_sid: str, form: Mapping[str, str]) -> None:
    """POST /ivr/recording: before or after the `message` step's action, the recording ends up on the
    call and on its ticket. A second recording (the apology's) is kept as an event, never dropped."""
    if (form.get("RecordingStatus") or "completed") != "completed":
        log.warning("call %s: recording %s", call_sid, form.get("RecordingStatus"))
        return
    url = _clip(form.get("RecordingUrl"), 1024)
    duration = _int(form.get("RecordingDuration"))
    if not url or duration == 0:
        return
    recording = Recording(url, _clip(form.get("RecordingSid")), duration)
    if _recording_of_own_ticket(session, ctx, call_sid, recording):
        return
    call = find_call(session, call_sid) or _new_call(session, call_sid, form, ctx.now)
    # a repeat call's recording goes to the ticket it joined; loaded before the call changes, so that
    # loading it does not flush the call on its own
    ticket = call.filed_or_joined_ticket
    on_call = recording.onto(call.recording_url, call.recording_sid, call.recording_duration)
    if on_call is not None:
        call.recording_url, call.recording_sid, call.recording_duration = on_call
    if ticket is None:
        pass
    elif call.ticket is None and on_call is not None and ticket.recording_url != recording.url:
        # a repeat call's message, attached as intake attaches it when the call joins: marked with the call
        attach_recording_of_repeat_call(session, ticket, call, now=ctx.now)
    else:
        _attach_to_ticket(session, ctx, ticket, recording)
    session.flush()


def _recording_of_own_ticket(session: Session, ctx: CallContext, call_sid: str, recording: Recording) -> bool:
    """The usual case, in plain SQL (ivr.call_rows): the call filed its ticket and this is the one
    recording of both. Does what the ORM path does for it; False leaves any other case to that."""
    row = call_rows.lock_with_own_ticket(session, call_sid)
    if row is None:
        return False
    on_call = recording.onto(row.call_url, row.call_recording_sid, row.call_duration)
    held = (row.ticket_url, row.ticket_recording_sid, row.ticket_duration)
    on_ticket = recording.onto(*held)
    if on_call is None or on_ticket is None:
        return False
    call_rows.save_call_recording(session, row.call_id, on_call, ctx.now)
    if on_ticket != held:
        call_rows.save_ticket_recording(session, row.ticket_id, on_ticket, ctx.now)
    if on_ticket[:2] != held[:2]:
        detail = {"url": recording.url, "duration": recording.duration}
        events.write_rows(session, row.ticket_id, [events.Entry("recording_added", ctx.now, detail)])
    return True


def _attach_to_ticket(session: Session, ctx: CallContext, ticket: Ticket, recording: Recording) -> None:
    url, duration = recording.url, recording.duration
    on_ticket = recording.onto(ticket.recording_url, ticket.recording_sid, ticket.recording_duration)
    if on_ticket is not None:
        changed = on_ticket[:2] != (ticket.recording_url, ticket.recording_sid)
        ticket.recording_url, ticket.recording_sid, ticket.recording_duration = on_ticket
        if changed:
            events.record(session, ticket, "recording_added", at=ctx.now, url=url, duration=duration)
        return
    already = any(e.type == "recording_added" and e.detail.get("url") == url for e in ticket.events)
    if not already:
        events.record(session, ticket, "recording_added", at=ctx.now, url=url, duration=duration, extra=True)


def fallback_message(session: Session, ctx: CallContext, call_sid: str, form: Mapping[str, str]) -> str:
    """POST /ivr/voice/fallback_message: the message left after the apology. It goes on the call row
    and, when there is a number to call back, on a ticket; then the call ends."""
    call = find_call(session, call_sid) or _new_call(session, call_sid, form, ctx.now)
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
