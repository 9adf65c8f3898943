"""A call's row: a greeting racing another webhook of the same call, and the callbacks at its end."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ivr import calls, webhooks
from ivr.signature import signing_token
from ivr.simulator import FlaskTransport
from tests.ivr.conftest import PlaceCall, call_row, tickets_of
from tickets.models import Call

FORM = {"CallSid": "CA" + "7" * 32, "From": "+821012345678", "To": "+827040001379", "CallStatus": "ringing"}


def _answer_as_if_the_row_were_not_there_yet(app: Flask, session: Session, monkeypatch: Any) -> str:
    """Our SELECT … FOR UPDATE saw no row (the other request had not committed), then our INSERT collides."""
    real_find = calls.find_call
    misses = iter([None])
    monkeypatch.setattr(calls, "find_call", lambda s, sid: next(misses, real_find(s, sid)))
    with app.test_request_context("/ivr/voice", base_url="http://localhost"):
        return calls.answer_new_call(session, webhooks._context(), FORM["CallSid"], FORM)


def test_a_greeting_that_loses_the_insert_race_answers_with_the_winners_twiml(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context("/ivr/voice", base_url="http://localhost"):
        first = calls.answer_new_call(session, webhooks._context(), FORM["CallSid"], FORM)
    second = _answer_as_if_the_row_were_not_there_yet(app, session, monkeypatch)
    assert second == first and "<Gather" in first
    assert session.scalar(select(func.count()).select_from(Call)) == 1


def test_a_greeting_whose_conflicting_row_cannot_be_read_fails_instead_of_retrying_for_ever(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The INSERT lost to a row the SELECT never sees: one retry, then an error (the view apologises)."""
    with app.test_request_context("/ivr/voice", base_url="http://localhost"):
        calls.answer_new_call(session, webhooks._context(), FORM["CallSid"], FORM)
        monkeypatch.setattr(calls, "find_call", lambda s, sid: None)
        with pytest.raises(LookupError, match="cannot be read"):
            calls.answer_new_call(session, webhooks._context(), FORM["CallSid"], FORM)


def test_a_greeting_that_loses_the_race_to_a_status_callback_still_greets(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context("/ivr/status", base_url="http://localhost"):
        calls.call_ended(session, webhooks._context(), FORM["CallSid"], {**FORM, "CallStatus": "in-progress"})
    greeting = _answer_as_if_the_row_were_not_there_yet(app, session, monkeypatch)
    (call,) = session.scalars(select(Call))
    session.refresh(call)
    assert (
        "<Gather" in greeting and call.last_response == greeting and call.turn == 1 and call.step == "field"
    )


def test_the_callbacks_after_a_finished_flow_complete_the_call_and_its_ticket_once(
    app: Flask, session: Session, place_call: PlaceCall
) -> None:
    """The usual end of a call: the <Record> action brings the recording's SID, so the ticket has it from
    the start and the callback adds no event;
    the call gets how and when it ended, and Twilio repeating either callback changes nothing."""
    result = place_call("field=2,support_type=1,callback=1,message=record:35")
    callbacks = [e for e in result.exchanges if e.url.endswith(("/ivr/recording", "/ivr/status"))]
    assert [e.url.rsplit("/", 1)[1] for e in callbacks] == ["recording", "status"]
    call = call_row(session, result)
    (ticket,) = tickets_of(session, result)
    recording_sid = callbacks[0].form["RecordingSid"]
    assert (call.recording_sid, ticket.recording_sid, ticket.recording_duration) == (recording_sid,) * 2 + (
        35,
    )
    assert (call.status, call.duration) == ("completed", int(callbacks[1].form["CallDuration"]))
    assert call.ended_at is not None
    ended_at, events = call.ended_at, [e.type for e in ticket.events]
    assert events.count("recording_added") == 0

    token = signing_token(app.config["HOTLINE"])
    for exchange in callbacks:
        signature = RequestValidator(token).compute_signature(exchange.url, exchange.form)
        assert (
            FlaskTransport(app).post(exchange.url, exchange.form, {"X-Twilio-Signature": signature}).status
            == 200
        )
    call, (ticket,) = call_row(session, result), tickets_of(session, result)
    assert call.ended_at == ended_at and [e.type for e in ticket.events] == events


def test_a_second_recording_of_a_call_is_kept_on_its_ticket_marked_with_the_call(
    app: Flask, session: Session, place_call: PlaceCall
) -> None:
    """Another recording of the same call (the apology's message, say) is an extra recording_added
    event that names the call, as a repeat call's message does, and the ticket keeps its own."""
    result = place_call("field=2,support_type=1,callback=1,message=record:35")
    (ticket,) = tickets_of(session, result)
    own = ticket.recording_url
    later = {
        "CallSid": result.call_sid,
        "RecordingStatus": "completed",
        "RecordingSid": "RE" + "6" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/RE" + "6" * 32,
        "RecordingDuration": "14",
    }
    url = "http://localhost/ivr/recording"
    signature = RequestValidator(signing_token(app.config["HOTLINE"])).compute_signature(url, later)
    for _ in range(2):  # and Twilio once more
        assert FlaskTransport(app).post(url, later, {"X-Twilio-Signature": signature}).status == 200
    (ticket,) = tickets_of(session, result)
    assert ticket.recording_url == own
    (extra,) = [e for e in ticket.events if e.type == "recording_added" and e.detail.get("extra")]
    assert extra.detail == {
        "url": later["RecordingUrl"], "duration": 14, "extra": True, "call_sid": result.call_sid,
    }  # fmt: skip
