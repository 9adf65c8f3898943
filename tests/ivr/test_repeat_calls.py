"""A company calls again about the same problem: the call joins its open ticket, whole calls end to end.

The second call from the same caller ID in the same field hears that it has an open request and, with 1 or
silence, files nothing new: it is linked to the open ticket once, its recording lands on that ticket as a
playable extra recording whichever of the recording callback and the `message` action comes first, the
consultant holding the ticket is told once, and Twilio replaying any of the call's webhooks adds nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ivr.signature import signing_token
from ivr.simulator import CallResult, FlaskTransport
from tests.ivr.conftest import PlaceCall, call_row, outbox, tickets_of
from tickets import accounts
from tickets.db import db
from tickets.models import OutboxMessage, RepeatCall, Ticket, TicketEvent, User

FULL_CALL = "field=2,support_type=1,callback=1,message=record:35"  # machinery, equipment use
AGAIN = "field=2,repeat_choice=1,message=record:20"  # same field: add a message to the open ticket
NUMBER = "+821012345678"


@pytest.fixture
def consultant(session: Session) -> User:
    user = accounts.add_user(
        session, "mach-kim", "consultant", fields=["machinery"], phone="010-5555-0101", password="hotline1379"
    )
    db.session.commit()  # the webhooks commit their own work; the user must be there before them
    return user


def _spoken_references(result: CallResult) -> list[str]:
    return [line for line in result.heard if line.startswith(("접수번호는", "다시 한 번"))]


def _recording_sid(result: CallResult) -> str:
    return next(e.form["RecordingSid"] for e in result.exchanges if e.url.endswith("/recording"))


def _recording_url(result: CallResult) -> str:
    return next(e.form["RecordingUrl"] for e in result.exchanges if e.url.endswith("/recording"))


def _events(ticket: Ticket, type_: str) -> list[TicketEvent]:
    return [e for e in ticket.events if e.type == type_]


def _counts(session: Session) -> tuple[int, ...]:
    session.expire_all()
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Ticket, TicketEvent, OutboxMessage, RepeatCall)
    )


def _replay(app: Flask, result: CallResult) -> None:
    """Twilio retrying every request of the call, in order, after the call is over."""
    validator = RequestValidator(signing_token(app.config["HOTLINE"]))
    transport = FlaskTransport(app)
    for exchange in result.exchanges:
        signature = validator.compute_signature(exchange.url, exchange.form)
        again = transport.post(exchange.url, exchange.form, {"X-Twilio-Signature": signature})
        assert again.status == 200, exchange.url


def _login(client: Any, username: str) -> None:
    page = client.get("/console/login").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    response = client.post(
        "/console/login", data={"username": username, "password": "hotline1379", "csrf_token": token[1]}
    )
    assert response.status_code == 302


@pytest.mark.parametrize("callback_first", [True, False], ids=["callback first", "action first"])
def test_a_second_call_joins_the_open_ticket_with_its_recording_and_replays_add_nothing(
    app: Flask, place_call: PlaceCall, session: Session, consultant: User, callback_first: bool
) -> None:
    first = place_call(FULL_CALL, from_number=NUMBER)
    (ticket,) = tickets_of(session, first)
    assert ticket.assignee == consultant
    first_recording = ticket.recording_url

    again = place_call(AGAIN, from_number=NUMBER, recording_callback_first=callback_first)
    order = [e.url.split("/ivr/")[1].split("?")[0] for e in again.exchanges]
    assert order.index("recording") == order.index("voice/message") + (-1 if callback_first else 1)

    # no second ticket: the caller hears the reference they have, the call row points at that ticket
    assert tickets_of(session, again) == []
    assert session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert "이미 접수된 상담이 있습니다." in again.heard and "기존 상담에 말씀을 더했습니다." in again.heard
    assert _spoken_references(again) == _spoken_references(first)
    assert call_row(session, again).filed_or_joined_ticket == ticket

    session.refresh(ticket)
    (repeat,) = _events(ticket, "repeat_call")
    assert repeat.detail["call_sid"] == again.call_sid
    assert repeat.detail["recording_sid"] == _recording_sid(again)  # named even before its callback
    # the new message is kept beside the first one, not instead of it
    assert ticket.recording_url == first_recording
    (added,) = [e for e in _events(ticket, "recording_added") if e.detail.get("extra")]
    assert added.detail["url"] == _recording_url(again)
    assert added.detail["duration"] == 20

    told = [m for m in outbox(session) if m.payload.get("kind") == "repeat_call"]
    assert [(m.channel, m.recipient) for m in told] == [("sms", consultant.phone)]
    assert ticket.reference in told[0].payload["body"] and "새 녹음 있음" in told[0].payload["body"]

    before = _counts(session)
    _replay(app, again)
    _replay(app, again)
    assert _counts(session) == before

    # the consultant plays both recordings in the console, through the app
    client = app.test_client()
    _login(client, "mach-kim")
    page = client.get(f"/console/tickets/{ticket.reference}").data.decode()
    extra_src = f"/console/tickets/{ticket.reference}/recordings/{added.id}"
    assert extra_src in page and "추가 녹음" in page
    for src in (f"/console/tickets/{ticket.reference}/recording", extra_src):
        response = client.get(src)
        assert response.status_code == 200 and response.content_type == "audio/wav", src
        assert response.headers["Cache-Control"] == "private, no-store"
    other = [e for e in ticket.events if e.type != "recording_added"][0]
    assert client.get(f"/console/tickets/{ticket.reference}/recordings/{other.id}").status_code == 404


def test_a_repeat_call_that_hangs_up_early_joins_once_even_when_the_status_callback_is_replayed(
    app: Flask, place_call: PlaceCall, session: Session, consultant: User
) -> None:
    first = place_call(FULL_CALL, from_number=NUMBER)
    (ticket,) = tickets_of(session, first)
    again = place_call("field=2,repeat_choice=1,message=hangup", from_number=NUMBER)
    assert again.ended_by == "caller"
    before = _counts(session)
    _replay(app, again)  # the status callback again: open_ticket runs again for the same call
    assert _counts(session) == before
    session.refresh(ticket)
    (repeat,) = _events(ticket, "repeat_call")
    assert repeat.detail["call_sid"] == again.call_sid and "recording_url" not in repeat.detail
    assert len([m for m in outbox(session) if m.payload.get("kind") == "repeat_call"]) == 1
    assert call_row(session, again).filed_or_joined_ticket == ticket


def test_a_recording_that_arrives_after_the_call_joined_goes_to_the_joined_ticket(
    app: Flask, place_call: PlaceCall, session: Session, consultant: User
) -> None:
    first = place_call(FULL_CALL, from_number=NUMBER)
    (ticket,) = tickets_of(session, first)
    # the caller hangs up at the beep; the status callback joins the call to the ticket without a message
    again = place_call("field=2,repeat_choice=1,message=hangup", from_number=NUMBER)
    assert again.ended_by == "caller" and call_row(session, again).filed_or_joined_ticket == ticket
    # ...and Twilio's recording callback for that call comes late
    late = {
        "AccountSid": "AC" + "0" * 32,
        "CallSid": again.call_sid,
        "RecordingStatus": "completed",
        "RecordingSid": "RE" + "5" * 32,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC00/Recordings/RE" + "5" * 32,
        "RecordingDuration": "12",
    }
    signature = RequestValidator(signing_token(app.config["HOTLINE"])).compute_signature(
        "http://localhost/ivr/recording", late
    )
    for _ in range(2):  # and once more: a retry
        reply = FlaskTransport(app).post(
            "http://localhost/ivr/recording", late, {"X-Twilio-Signature": signature}
        )
        assert reply.status == 200
    session.refresh(ticket)
    (added,) = [e for e in _events(ticket, "recording_added") if e.detail.get("extra")]
    assert (added.detail["url"], added.detail["duration"]) == (late["RecordingUrl"], 12)
    assert added.detail["call_sid"] == again.call_sid  # shown as the repeat call's message
    assert call_row(session, again).recording_url == late["RecordingUrl"]


def test_a_ticket_without_a_recording_plays_the_repeat_calls_message(
    place_call: PlaceCall, session: Session, consultant: User
) -> None:
    first = place_call(
        "field=2,support_type=1,callback=1,message=silence,message=silence", from_number=NUMBER
    )
    (ticket,) = tickets_of(session, first)
    assert ticket.recording_url is None
    again = place_call(AGAIN, from_number=NUMBER)
    session.refresh(ticket)
    assert ticket.recording_url == _recording_url(again) and ticket.recording_duration == 20
    recording_sid = next(e.form["RecordingSid"] for e in again.exchanges if e.url.endswith("/recording"))
    assert ticket.recording_sid == recording_sid
    assert len(_events(ticket, "repeat_call")) == 1


def test_a_call_about_another_field_files_its_own_ticket(
    place_call: PlaceCall, session: Session, consultant: User
) -> None:
    first = place_call(FULL_CALL, from_number=NUMBER)
    other = place_call("field=1,support_type=1,callback=1,message=record", from_number=NUMBER)
    (mine,) = tickets_of(session, first)
    (theirs,) = tickets_of(session, other)
    assert mine != theirs and theirs.field == "it"
    assert _events(mine, "repeat_call") == [] and call_row(session, other).repeat_of is None
