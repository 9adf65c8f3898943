"""A retried SMS reaches the caller once: before a retry, Twilio (or the console gateway) is asked first.

The SMS channel runs over the real twilio.rest.Client; underneath, a fake HTTP client keeps the messages
Twilio accepted and lists them as Twilio's Messages API does.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from email.utils import format_datetime
from typing import Any

import requests
from sqlalchemy import select
from sqlalchemy.orm import Session
from twilio.http import HttpClient
from twilio.http.response import Response

from ivr.gateway import ConsoleTelephony, TwilioTelephony
from scheduler.delivery import SmsChannel, deliver_due_messages
from scheduler.scheduler_config import NotificationConfig
from tickets.clock import FrozenClock, now
from tickets.db import db
from tickets.models import OutboxMessage
from tickets.outbox import add_message_once

SID = "AC" + "0" * 32
HOTLINE = "+827040001379"
CALLER = "+821055550002"
TEXT = "[1379] 접수 2611-0001 되었습니다. 전문위원이 3일 안에 전화드립니다."
CONFIG = NotificationConfig(max_tries=4, backoff_seconds=60)


class FakeTwilio(HttpClient):
    """Twilio's Messages API in memory: what was created is listed afterwards."""

    def __init__(self) -> None:
        super().__init__(logging.getLogger("fake-twilio"), is_async=False)
        self.messages: list[dict[str, Any]] = []
        self.time_out_after_accepting = False  # the answer is lost on the way back
        self.list_fails = False

    def accepted(self, to: str, body: str, status: str = "delivered", at: Any = None) -> dict[str, Any]:
        stamp = format_datetime(at or now(), usegmt=True)
        message = {
            "sid": f"SM{len(self.messages):032d}",
            "to": to,
            "from": HOTLINE,
            "body": body,
            "status": status,
            "direction": "outbound-api",
            "date_created": stamp,
            "date_sent": stamp,
        }
        self.messages.append(message)
        return message

    def request(
        self,
        method: str,
        uri: str,
        params: Any = None,
        data: Any = None,
        headers: Any = None,
        auth: Any = None,
        timeout: Any = None,
        allow_redirects: bool = False,
    ) -> Response:
        assert uri.endswith(f"/Accounts/{SID}/Messages.json")
        if method == "POST":
            message = self.accepted(data["To"], data["Body"], status="queued")
            if self.time_out_after_accepting:
                raise requests.ReadTimeout("read timed out")
            return Response(201, json.dumps(message))
        if self.list_fails:
            return Response(
                500, json.dumps({"code": 20500, "message": "Internal Server Error", "status": 500})
            )
        # Twilio filters DateSent by day; returning more than asked is what a day's filter can do too.
        listed = [m for m in self.messages if m["to"] == params["To"] and m["from"] == params["From"]]
        return Response(
            200, json.dumps({"messages": listed, "next_page_uri": None, "page": 0, "page_size": 50})
        )

    def texts_to(self, number: str) -> list[str]:
        return [m["body"] for m in self.messages if m["to"] == number and m["status"] != "failed"]


def channel(twilio: FakeTwilio) -> SmsChannel:
    return SmsChannel(TwilioTelephony(SID, "secret-token", HOTLINE, http_client=twilio))


def queue_confirmation(session: Session) -> None:
    add_message_once(
        session,
        key=f"confirm:1:{CALLER}",
        channel="sms",
        recipient=CALLER,
        payload={"body": TEXT},
        now=now(),
    )
    session.flush()


def deliver(sms: Any) -> Any:
    return deliver_due_messages(db.transaction, {"sms": sms}, CONFIG, now(), clock=now)


def the_message(session: Session) -> OutboxMessage:
    session.expire_all()
    row = session.scalar(select(OutboxMessage))
    assert row is not None
    return row


def sender_killed_after_sending(session: Session) -> None:
    """What a sender that died between sending and recording leaves: `sending`, one try, a lease."""
    row = the_message(session)
    row.status, row.tries, row.next_try_at = "sending", 1, now() + timedelta(minutes=5)
    session.flush()


def test_an_sms_twilio_took_before_its_sender_died_is_recorded_not_sent_again(
    session: Session, clock: FrozenClock
) -> None:
    twilio = FakeTwilio()
    queue_confirmation(session)
    clock.advance(seconds=3)
    twilio.accepted(CALLER, TEXT)  # Twilio took it; then the sender was killed
    sender_killed_after_sending(session)
    clock.advance(minutes=5)
    report = deliver(channel(twilio))
    assert twilio.texts_to(CALLER) == [TEXT]
    assert report.sent == 1 and the_message(session).status == "sent"


def test_a_timeout_that_hid_twilios_answer_does_not_send_the_sms_twice(
    session: Session, clock: FrozenClock
) -> None:
    twilio = FakeTwilio()
    queue_confirmation(session)
    twilio.time_out_after_accepting = True
    assert deliver(channel(twilio)).retrying == 1
    twilio.time_out_after_accepting = False
    clock.advance(minutes=1)
    assert deliver(channel(twilio)).sent == 1
    assert twilio.texts_to(CALLER) == [TEXT]
    assert the_message(session).status == "sent"


def test_an_sms_twilio_has_no_record_of_is_sent_again(session: Session, clock: FrozenClock) -> None:
    """The same words to the same caller yesterday, or a try Twilio failed, are not this message."""
    twilio = FakeTwilio()
    twilio.accepted(CALLER, TEXT, at=now() - timedelta(days=1))
    queue_confirmation(session)
    twilio.accepted(CALLER, TEXT, status="failed")
    twilio.accepted("+821099990000", TEXT)
    sender_killed_after_sending(session)
    clock.advance(minutes=5)
    assert deliver(channel(twilio)).sent == 1
    assert twilio.texts_to(CALLER) == [TEXT, TEXT]  # yesterday's and this one
    assert the_message(session).status == "sent"


def test_when_twilio_cannot_say_whether_it_sent_the_sms_it_waits_instead_of_sending_blind(
    session: Session, clock: FrozenClock
) -> None:
    twilio = FakeTwilio()
    queue_confirmation(session)
    sender_killed_after_sending(session)
    clock.advance(minutes=5)
    twilio.list_fails = True
    assert deliver(channel(twilio)).retrying == 1
    assert twilio.texts_to(CALLER) == []
    row = the_message(session)
    assert row.status == "pending" and "Internal Server Error" in (row.last_error or "")
    twilio.list_fails = False
    clock.advance(minutes=10)
    assert deliver(channel(twilio)).sent == 1
    assert twilio.texts_to(CALLER) == [TEXT]


def test_the_console_gateway_answers_from_its_own_record(session: Session, clock: FrozenClock) -> None:
    console = ConsoleTelephony()
    queue_confirmation(session)
    console.send_sms(CALLER, TEXT)
    sender_killed_after_sending(session)
    clock.advance(minutes=5)
    assert deliver(SmsChannel(console)).sent == 1
    assert [m.body for m in console.messages] == [TEXT]
