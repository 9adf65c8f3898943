"""A slow channel holds only itself: each channel sends on its own threads, each send bounded in time."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
import requests
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from ivr.gateway import TwilioTelephony
from scheduler.delivery import LoggingSmsSender, SmsChannel, deliver_due_messages
from scheduler.scheduler_config import NotificationConfig
from tickets.clock import now
from tickets.db import db
from tickets.models import OutboxMessage
from tickets.outbox import add_message_once

CONFIG = NotificationConfig(max_tries=4, backoff_seconds=60)
ROUND_SECONDS = 15  # scheduler.runner.DELIVERY_SECONDS: how often a round starts


class BlockedWebhook:
    """An endpoint that does not answer until the test lets it."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        if not self.release.wait(timeout=60):
            raise TimeoutError("the test never released the webhook")

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: Any) -> bool:
        return False


def test_a_webhook_that_blocks_past_the_round_does_not_hold_an_sms_due_at_the_same_time(
    engine: Engine,
) -> None:
    Factory = sessionmaker(bind=engine, expire_on_commit=False)

    @contextmanager
    def transaction() -> Iterator[Session]:
        with Factory.begin() as session:
            yield session

    keys = ["pool:webhook", "pool:sms"]  # the webhook first: a round in claim order would wait for it
    with Factory.begin() as setup:
        add_message_once(
            setup, key=keys[0], channel="webhook", recipient="https://hooks.example/x", payload={}, now=now()
        )
        add_message_once(
            setup, key=keys[1], channel="sms", recipient="+821055550002", payload={"text": "hi"}, now=now()
        )
    texts = LoggingSmsSender()
    webhook, sms = BlockedWebhook(), SmsChannel(texts)
    round_ = threading.Thread(
        target=deliver_due_messages, args=(transaction, {"webhook": webhook, "sms": sms}, CONFIG, now())
    )

    def status(key: str) -> str | None:
        with Factory.begin() as session:
            return session.scalar(select(OutboxMessage.status).where(OutboxMessage.key == key))

    round_.start()
    try:
        started = time.monotonic()
        while status("pool:sms") != "sent" and time.monotonic() - started < ROUND_SECONDS:
            time.sleep(0.05)
        assert status("pool:sms") == "sent", "the SMS waited for the blocked webhook"
        assert [(to, body) for to, body, _ in texts.sent] == [("+821055550002", "hi")]
        assert status("pool:webhook") == "sending" and round_.is_alive()
    finally:
        webhook.release.set()
        round_.join()
        assert status("pool:webhook") == "sent"
        with Factory.begin() as cleanup:
            cleanup.query(OutboxMessage).filter(OutboxMessage.key.in_(keys)).delete()


def test_an_sms_to_a_twilio_that_never_answers_fails_within_the_gateways_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Twilio's REST client waits forever unless told otherwise. A proxy on loopback that takes the
    connection and never answers stands in for a hung API (nothing leaves the machine)."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{silent.getsockname()[1]}")
    for name in ("NO_PROXY", "no_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    gateway = TwilioTelephony("AC" + "0" * 32, "secret-token", "+827040001379", timeout=0.5)
    failures: list[BaseException] = []

    def send() -> None:
        try:
            gateway.send_sms("+821055550002", "hi")
        except BaseException as error:  # what the delivery would see as a failed try
            failures.append(error)

    sender = threading.Thread(target=send, daemon=True)  # daemon: without a timeout it would never end
    try:
        sender.start()
        sender.join(timeout=10)
        assert not sender.is_alive(), "the SMS send still waits on a Twilio that never answers"
        assert len(failures) == 1 and isinstance(failures[0], requests.RequestException)
    finally:
        silent.close()


def test_a_channel_sends_at_most_its_configured_number_of_messages_at_once(session: Session) -> None:
    """Providers limit concurrent requests: `sends_per_channel` is both the speed-up and the ceiling."""
    for i in range(6):
        add_message_once(
            session, key=f"width:{i}", channel="sms", recipient="+821055550002", payload={}, now=now()
        )
    session.flush()
    lock = threading.Lock()
    at_once: list[int] = []
    sending = 0

    class SlowSms:
        def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
            nonlocal sending
            with lock:
                sending += 1
                at_once.append(sending)
            time.sleep(0.1)
            with lock:
                sending -= 1

        def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: Any) -> bool:
            return False

    config = replace(CONFIG, sends_per_channel=2)
    assert deliver_due_messages(db.transaction, {"sms": SlowSms()}, config, now()).sent == 6
    assert max(at_once) == 2
