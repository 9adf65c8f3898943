"""Outbox delivery: retries with backoff, a dead end, one send per message, nothing before commit."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from scheduler.delivery import WebhookChannel, deliver_due_messages
from scheduler.scheduler_config import NotificationConfig
from tests.scheduler.sla_helpers import T0
from tickets.db import db
from tickets.models import OutboxMessage
from tickets.outbox import add_message_once

CONFIG = NotificationConfig(max_tries=4, backoff_seconds=60)


@dataclass
class FlakyChannel:
    """Fails its first `failures` tries, then sends (records) every message it gets."""

    failures: int = 0
    calls: int = 0
    sent: list[str] = field(default_factory=list)

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("gateway timeout")
        self.sent.append(key)

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: Any) -> bool:
        return key in self.sent


def deliver(channel: Any, now: Any, config: NotificationConfig = CONFIG) -> Any:
    return deliver_due_messages(db.transaction, {"sms": channel}, config, now)


def queue(session: Session, key: str = "sla:1:0:1:sms:+821055550002") -> None:
    add_message_once(
        session, key=key, channel="sms", recipient="+821055550002", payload={"text": "안녕"}, now=T0
    )
    session.flush()


def message(session: Session) -> OutboxMessage:
    session.expire_all()
    row = session.scalar(select(OutboxMessage))
    assert row is not None
    return row


def test_a_channel_failing_twice_then_working_sends_once(session: Session) -> None:
    queue(session)
    channel = FlakyChannel(failures=2)
    assert deliver(channel, T0).retrying == 1
    assert deliver(channel, T0 + timedelta(seconds=59)).sent == 0  # backing off: not yet tried again
    assert deliver(channel, T0 + timedelta(seconds=60)).retrying == 1
    assert deliver(channel, T0 + timedelta(seconds=60 + 119)).sent == 0  # the backoff doubled
    assert deliver(channel, T0 + timedelta(seconds=60 + 120)).sent == 1
    for minutes in (10, 60, 600):
        deliver(channel, T0 + timedelta(minutes=minutes))
    assert channel.sent == ["sla:1:0:1:sms:+821055550002"]
    row = message(session)
    assert (row.status, row.tries, row.last_error) == ("sent", 3, None)


def test_a_channel_that_always_fails_ends_dead_after_the_limit(session: Session) -> None:
    queue(session)
    channel = FlakyChannel(failures=10**6)
    now = T0
    for _ in range(10):
        deliver(channel, now)
        now += timedelta(hours=1)
    row = message(session)
    assert (row.status, row.tries, channel.calls) == ("dead", CONFIG.max_tries, CONFIG.max_tries)
    assert "gateway timeout" in (row.last_error or "")


def test_nothing_is_sent_for_a_change_that_rolled_back(session: Session) -> None:
    with session.begin_nested() as savepoint:
        queue(session)
        savepoint.rollback()
    channel = FlakyChannel()
    deliver(channel, T0 + timedelta(hours=1))
    assert channel.sent == []


def test_nothing_is_sent_before_the_writing_transaction_commits(engine: Engine) -> None:
    """A real second connection: the delivery job sees the message only once its transaction committed."""
    Factory = sessionmaker(bind=engine, expire_on_commit=False)
    key = "sla:commit-test:0:1:sms:+821055550002"
    channel = FlakyChannel()
    writer = Factory()
    try:
        add_message_once(
            writer, key=key, channel="sms", recipient="+821055550002", payload={"text": "x"}, now=T0
        )
        writer.flush()
        if engine.dialect.name == "postgresql":
            # On SQLite the writer holds the database's write lock, so a concurrent delivery would just wait.
            report = deliver_due_messages(_transactions(Factory), {"sms": channel}, CONFIG, T0)
            assert (report.sent, channel.sent) == (0, [])
        writer.commit()
        report = deliver_due_messages(_transactions(Factory), {"sms": channel}, CONFIG, T0)
        assert channel.sent == [key]
    finally:
        writer.rollback()
        with Factory.begin() as cleanup:
            cleanup.query(OutboxMessage).filter(OutboxMessage.key == key).delete()
        writer.close()


def test_two_deliverers_at_once_send_each_message_once(engine: Engine) -> None:
    Factory = sessionmaker(bind=engine, expire_on_commit=False)
    keys = [f"sla:race-{i}:0:1:console:x" for i in range(60)]
    with Factory.begin() as setup:
        for key in keys:
            add_message_once(setup, key=key, channel="console", recipient="x", payload={"text": key}, now=T0)
    channels = [FlakyChannel(), FlakyChannel()]
    try:
        threads = [
            threading.Thread(
                target=lambda c=c: [
                    deliver_due_messages(_transactions(Factory), {"console": c}, CONFIG, T0, limit=7)
                    for _ in range(12)
                ]
            )
            for c in channels
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sent = sorted(key for c in channels for key in c.sent)
        assert sent == sorted(keys)
    finally:
        with Factory.begin() as cleanup:
            cleanup.query(OutboxMessage).filter(OutboxMessage.key.in_(keys)).delete()


def test_a_sender_that_died_holding_a_message_is_replaced_after_the_lease(session: Session) -> None:
    queue(session)
    row = message(session)
    row.status, row.tries, row.next_try_at = "sending", 1, T0 + timedelta(minutes=5)  # claimed, then killed
    session.flush()
    channel = FlakyChannel()
    deliver(channel, T0 + timedelta(minutes=4))
    assert channel.sent == []
    deliver(channel, T0 + timedelta(minutes=5))
    assert len(channel.sent) == 1 and message(session).status == "sent"


def test_writing_the_same_message_twice_keeps_one(session: Session) -> None:
    fields = {"key": "digest:2026-11-27:console:boss", "channel": "console", "recipient": "boss"}
    assert add_message_once(session, payload={"text": "a"}, now=T0, **fields)
    assert not add_message_once(session, payload={"text": "b"}, now=T0, **fields)
    assert len(session.scalars(select(OutboxMessage)).all()) == 1


def test_webhook_posts_slack_compatible_json_with_the_key(session: Session) -> None:
    import json
    from http.server import BaseHTTPRequestHandler, HTTPServer

    received: list[tuple[dict[str, Any], str | None]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((json.loads(body), self.headers.get("Idempotency-Key")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/hook"
        WebhookChannel().send(url, {"text": "접수 1234-5678 기한 초과", "level": 1}, "sla:7:0:1:webhook:u")
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
    assert received == [({"text": "접수 1234-5678 기한 초과", "level": 1}, "sla:7:0:1:webhook:u")]


def _transactions(factory: sessionmaker[Session]) -> Any:
    from contextlib import contextmanager

    @contextmanager
    def transaction() -> Any:
        with factory.begin() as session:
            yield session

    return transaction


def test_a_slow_round_never_sends_what_another_scheduler_took_after_its_lease(session: Session) -> None:
    """Scheduler A claims 40 SMS and sends one every 10 s; at minute 6 its claim-time lease has run out and
    scheduler B takes what A has not sent yet. Every message still goes out exactly once."""
    for i in range(40):
        add_message_once(
            session, key=f"k{i:02d}", channel="sms", recipient="+821055550002", payload={}, now=T0
        )
    session.flush()
    clock = [T0]
    sent: list[tuple[str, str]] = []
    reports: list[Any] = []

    one_lane = replace(CONFIG, sends_per_channel=1)  # A sends one after another, B runs inside A's send
    transaction = db.transaction  # the app's: B runs on A's send thread, outside the app context

    class SchedulerB:
        def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
            sent.append(("B", key))

        def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: Any) -> bool:
            return key in [k for _, k in sent]  # as the provider would answer

    class SlowSchedulerA(SchedulerB):
        def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
            sent.append(("A", key))
            clock[0] += timedelta(seconds=10)
            if clock[0] == T0 + timedelta(minutes=6):
                reports.append(deliver_due_messages(transaction, {"sms": SchedulerB()}, CONFIG, clock[0]))

    report_a = deliver_due_messages(
        transaction, {"sms": SlowSchedulerA()}, one_lane, T0, clock=lambda: clock[0]
    )
    keys = [key for _, key in sent]
    assert sorted(keys) == [f"k{i:02d}" for i in range(40)]  # each once
    assert reports[0].sent > 0 and report_a.lost == reports[0].sent
    assert report_a.sent + reports[0].sent == 40
    assert {row.status for row in session.scalars(select(OutboxMessage))} == {"sent"}


def test_a_stopping_round_sends_what_it_started_and_hands_the_rest_back(session: Session) -> None:
    for n in range(3):
        queue(session, key=f"stop:{n}")
    stopping = threading.Event()

    @dataclass
    class StopsAfterFirstSend(FlakyChannel):
        def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
            super().send(recipient, payload, key)
            stopping.set()  # SIGTERM arrives while the first message is being sent

    channel = StopsAfterFirstSend()
    one_lane = replace(CONFIG, sends_per_channel=1)
    report = deliver_due_messages(db.transaction, {"sms": channel}, one_lane, T0, stopping=stopping)

    assert (report.sent, report.released) == (1, 2)
    session.expire_all()
    rows = session.scalars(select(OutboxMessage).order_by(OutboxMessage.key)).all()
    assert [(r.status, r.tries, r.next_try_at) for r in rows if r.key != channel.sent[0]] == [
        ("pending", 0, T0),
        ("pending", 0, T0),
    ]  # due again at once, for the next scheduler, and no try counted against them
