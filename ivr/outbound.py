"""The consultant's leg of click-to-call (POST /api/v1/tickets/<ref>/callback started it).

1. Twilio rings the consultant; when they answer it fetches `/ivr/outbound/<ref>`: a one-line summary of the
   ticket, then <Dial callerId=hotline number> the company.
2. When the company's leg ends, <Dial action> posts DialCallStatus to `/ivr/outbound/<ref>/status`, which
   logs the callback attempt and its outcome by itself. Idempotent per CallSid: a replay logs nothing new.
3. The same URL is the call's status callback: a consultant who never picked up leaves an event, not an
   attempt (the company was never rung, so it does not count towards the unreached SMS).
Both check X-Twilio-Signature. `by` in the query (signed with the URL) names the consultant.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import select
from twilio.twiml.voice_response import VoiceResponse

from ivr.signature import public_url, twilio_signed
from tickets import clock, events, queue
from tickets.db import db
from tickets.labels import GENERAL_NAME
from tickets.models import CallbackAttempt, Outcome, Ticket, User
from tickets.references import normalise_reference
from tickets.telephony import mask_phone

log = logging.getLogger(__name__)
bp = Blueprint("outbound", __name__, url_prefix="/ivr/outbound")

DIAL_OUTCOMES = {
    "completed": Outcome.REACHED,
    "answered": Outcome.REACHED,
    "busy": Outcome.BUSY,
    "no-answer": Outcome.NO_ANSWER,
    "canceled": Outcome.NO_ANSWER,
    "failed": Outcome.FAILED,
}
UNANSWERED = ("busy", "no-answer", "failed", "canceled")


def _twiml(response: VoiceResponse) -> Response:
    return Response(str(response), content_type="text/xml; charset=utf-8")


def _ticket(reference: str) -> Ticket | None:
    return db.session.scalar(select(Ticket).where(Ticket.reference == normalise_reference(reference)))


def _consultant() -> User | None:
    raw = request.args.get("by", "")
    return db.session.get(User, int(raw)) if raw.isdigit() else None


def summary_line(ticket: Ticket) -> str:
    flow = current_app.config["HOTLINE"].flow
    field = flow.field_by_key(ticket.field)
    support = flow.support_type_by_key(ticket.support_type or "")
    parts = [f"1379 접수번호 {' '.join(ticket.reference.replace('-', ''))}"]
    parts.append(f"{field.name('ko')} 분야" if field else GENERAL_NAME)
    if support:
        parts.append(f"{support.name('ko')} 요청")
    if ticket.attempts:
        parts.append(f"{len(ticket.attempts) + 1}번째 연락")
    return ", ".join(parts) + ". 고객에게 연결합니다."


@bp.post("/<reference>")
@twilio_signed
def consultant_answered(reference: str) -> Response:
    config = current_app.config["HOTLINE"]
    voice = config.flow.languages["ko"]
    ticket = _ticket(reference)
    response = VoiceResponse()
    if ticket is None or not ticket.callback_number or not ticket.is_open:
        response.say("이 접수 건은 지금 연결할 수 없습니다.", language=voice.locale, voice=voice.voice)
        response.hangup()
        return _twiml(response)
    response.say(summary_line(ticket), language=voice.locale, voice=voice.voice)
    action = public_url(f"/ivr/outbound/{ticket.reference}/status", request.query_string.decode("latin-1"))
    dial = response.dial(caller_id=config.flow.hotline_number, action=action, method="POST", timeout=30)
    dial.number(ticket.callback_number)
    log.info("click-to-call %s: connecting to %s", ticket.reference, mask_phone(ticket.callback_number))
    return _twiml(response)


@bp.post("/<reference>/status")
@twilio_signed
def call_status(reference: str) -> Response:
    ticket = _ticket(reference)
    call_sid = request.form.get("CallSid", "")[:64]
    if ticket is None or not call_sid:
        return Response(status=204)
    session = db.session()
    now = clock.now()
    dial_status = request.form.get("DialCallStatus")
    if dial_status is not None:
        outcome = DIAL_OUTCOMES.get(dial_status, Outcome.FAILED)
        duration = request.form.get("DialCallDuration", "")
        if ticket.is_open:
            queue.log_attempt(
                session,
                ticket,
                by=_consultant(),
                outcome=outcome,
                now=now,
                duration=int(duration) if duration.isdigit() else None,
                note="전화 연결(click-to-call)",
                call_sid=call_sid,
                sms_after=current_app.config["HOTLINE"].routing.unreached_attempts_before_sms,
                hotline_number="1379",
            )
        response = VoiceResponse()
        response.hangup()
        return _twiml(response)
    status = request.form.get("CallStatus", "")
    already = session.scalar(select(CallbackAttempt.id).where(CallbackAttempt.call_sid == call_sid))
    if status in UNANSWERED and already is None:
        seen = any(
            e.type == "callback_not_connected" and e.detail.get("call_sid") == call_sid for e in ticket.events
        )
        if not seen:
            events.record(
                session,
                ticket,
                "callback_not_connected",
                by=_consultant(),
                at=now,
                call_sid=call_sid,
                status=status,
            )
    return Response(status=204)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
