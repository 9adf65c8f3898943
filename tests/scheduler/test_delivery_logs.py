"""Delivery logs name a message by its id, channel, masked recipient and try: never its text."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import pytest
from sqlalchemy.orm import Session

from scheduler.delivery import LoggingSmsSender, SmsChannel, deliver_due_messages
from scheduler.scheduler_config import NotificationConfig
from tickets.clock import now
from tickets.db import db
from tickets.outbox import add_message_once

CALLER = "+821055550002"
TEXT = "김민수 대표님, 접수 2611-0001 (주)한빛정밀 가공 불량 상담이 등록되었습니다."
HOOK = "https://hooks.example/services/T000/B000/secret-token-xyz"


class RefusingChannel:
    """A provider whose error repeats the address and the text it refused, with a line break in it."""

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        raise RuntimeError(f"refused {recipient}:\nINFO forged {payload['body']}")

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: Any) -> bool:
        return False


def test_a_failed_try_is_logged_without_the_number_the_text_or_a_forged_line(
    session: Session, caplog: pytest.LogCaptureFixture
) -> None:
    add_message_once(
        session, key=f"confirm:1:{CALLER}", channel="sms", recipient=CALLER, payload={"body": TEXT}, now=now()
    )
    add_message_once(
        session,
        key=f"sla:1:0:1:webhook:{HOOK}",
        channel="webhook",
        recipient=HOOK,
        payload={"body": TEXT},
        now=now(),
    )
    session.flush()
    with caplog.at_level(logging.INFO, logger="scheduler.delivery"):
        report = deliver_due_messages(
            db.transaction,
            {"sms": RefusingChannel(), "webhook": RefusingChannel()},
            NotificationConfig(),
            now(),
        )
    assert report.retrying == 2
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2 and all("\n" not in line for line in lines)
    text = "\n".join(lines)
    assert CALLER not in text and "55550002" not in text and "0002" in text
    assert TEXT not in text and "김민수" not in text
    assert "secret-token" not in text and "hooks.example" in text


def test_the_sms_stand_in_logs_no_text_and_no_whole_number(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="scheduler.delivery"):
        SmsChannel(LoggingSmsSender()).send(CALLER, {"body": f"{TEXT}\nINFO forged"}, "k1")
    assert CALLER not in caplog.text and "INFO forged" not in caplog.text
    assert "김민수" not in caplog.records[0].getMessage()
