"""Delivering the outbox: SMS, e-mail, webhooks and the console inbox, with retries, backoff and a dead end.

A message is claimed in one short transaction (status `sending`, a lease in next_try_at, one more try),
sent outside any transaction (a slow SMTP server must not hold database locks), and its outcome recorded
in another. Claiming takes rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL and inside a write transaction
on SQLite, so two schedulers never claim the same message. A process that dies between claim and outcome
leaves the row `sending`; when its lease runs out the message is tried again (at least once beats never).
Each channel receives the message's unique key, which the e-mail and webhook channels pass on
(Message-ID, Idempotency-Key) so a receiver can drop the rare repeat.
"""

from __future__ import annotations

import json
import logging
import smtplib
import urllib.request
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.config import NotificationConfig
from tickets import clock, inbox
from tickets.models import OutboxMessage
from tickets.outbox import DEAD, PENDING, SENDING, SENT

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # longer than any send may take (network timeouts are 10 s)
MAX_BACKOFF = timedelta(hours=6)
LOST = "lost"  # record_outcome: the row was no longer ours
NETWORK_TIMEOUT = 10


class Channel(Protocol):
    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        """Send or raise: any exception is a failed try."""
        ...


class SmsSender(Protocol):
    """What ivr.gateway provides (Twilio's Messages API); the app puts one in app.extensions."""

    def send_sms(self, to: str, body: str) -> Any: ...


def message_text(payload: Mapping[str, Any]) -> str:
    """SLA alerts carry `text`; the ticket services' messages (caller confirmations) carry `body`."""
    return str(payload.get("text") or payload.get("body") or "")


@dataclass
class SmsChannel:
    sender: SmsSender

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        self.sender.send_sms(recipient, message_text(payload))


@dataclass
class EmailChannel:
    host: str
    port: int
    sender: str

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = recipient
        message["Subject"] = str(payload.get("subject") or message_text(payload))[:200]
        message["Message-ID"] = f"<{key.replace(':', '.')}@hotline1379>"
        message.set_content(message_text(payload))
        with smtplib.SMTP(self.host, self.port, timeout=NETWORK_TIMEOUT) as smtp:
            smtp.send_message(message)


@dataclass
class WebhookChannel:
    """JSON POST; `text` is what Slack-compatible incoming webhooks show."""

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        body = json.dumps({**payload, "text": message_text(payload)}, ensure_ascii=False).encode()
        request = urllib.request.Request(
            recipient,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key},
        )
        with urllib.request.urlopen(request, timeout=NETWORK_TIMEOUT) as response:  # noqa: S310 (config URL)
            if not 200 <= response.status < 300:
                raise RuntimeError(f"webhook answered {response.status}")


@dataclass
class ConsoleChannel:
    """The console inbox: a notification row for the recipient user, in its own short transaction (the
    delivery round holds none). The message's key makes a retried delivery add no second row."""

    transaction: Callable[[], AbstractContextManager[Session]]

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        reference = payload.get("reference")
        with self.transaction() as session:
            inbox.deliver(
                session,
                username=recipient,
                key=key,
                text=message_text(payload),
                reference=str(reference) if reference else None,
                now=clock.now(),
            )


class LoggingSmsSender:
    """Stands in for Twilio when no SMS sender is configured: the text is logged, not sent."""

    def send_sms(self, to: str, body: str) -> None:
        log.info("SMS (not sent: no SMS gateway configured) to %s: %s", to, body)


def build_channels(
    notifications: NotificationConfig,
    sms_sender: SmsSender | None,
    transaction: Callable[[], AbstractContextManager[Session]],
) -> dict[str, Channel]:
    channels: dict[str, Channel] = {"console": ConsoleChannel(transaction), "webhook": WebhookChannel()}
    channels["sms"] = SmsChannel(sms_sender or LoggingSmsSender())
    channels["email"] = EmailChannel(
        notifications.smtp_host, notifications.smtp_port, notifications.email_sender
    )
    return channels


@dataclass(frozen=True)
class Claimed:
    id: int
    key: str
    channel: str
    recipient: str
    payload: dict[str, Any]
    tries: int


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0  # another scheduler took the message after our lease ran out: not ours to count


def claim_due_messages(session: Session, now: datetime, limit: int) -> list[Claimed]:
    """Take due messages (and those whose sender died holding them) for one try each."""
    rows = session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.status.in_((PENDING, SENDING)), OutboxMessage.next_try_at <= now)
        .order_by(OutboxMessage.next_try_at, OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        row.status = SENDING
        row.tries = (row.tries or 0) + 1
        row.next_try_at = now + LEASE
        claimed.append(Claimed(row.id, row.key, row.channel, row.recipient, dict(row.payload), row.tries))
    session.flush()
    return claimed


def backoff(config: NotificationConfig, tries: int) -> timedelta:
    return min(timedelta(seconds=config.backoff_seconds * 2 ** max(0, tries - 1)), MAX_BACKOFF)


def _update_if_ours(session: Session, message: Claimed, **values: Any) -> bool:
    """Set `values` on the message's row if it is still ours (sending, at the try we claimed); whether it was.
    Another scheduler that took it after our lease ran out has counted a new try."""
    updated = session.execute(
        update(OutboxMessage)
        .where(
            OutboxMessage.id == message.id,
            OutboxMessage.status == SENDING,
            OutboxMessage.tries == message.tries,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(updated.rowcount)  # type: ignore[attr-defined]


def renew_lease(session: Session, message: Claimed, now: datetime) -> bool:
    """Just before sending: extend this message's lease, if it is still ours. A round sends one message
    after another, so a slow channel can outlast the lease taken at claim time; another scheduler may have
    taken the message since, and then it is that one's to send, not ours."""
    return _update_if_ours(session, message, next_try_at=now + LEASE)


def record_outcome(
    session: Session, message: Claimed, error: str | None, now: datetime, config: NotificationConfig
) -> str:
    """Store what the try gave; only if the row is still ours (a lease may have run out meanwhile)."""
    if error is None:
        values: dict[str, Any] = {"status": SENT, "sent_at": now, "last_error": None}
    elif message.tries >= config.max_tries:
        values = {"status": DEAD, "last_error": error}
    else:
        values = {"status": PENDING, "next_try_at": now + backoff(config, message.tries), "last_error": error}
    return str(values["status"]) if _update_if_ours(session, message, **values) else LOST


def deliver_due_messages(
    transaction: Callable[[], AbstractContextManager[Session]],
    channels: Mapping[str, Channel],
    config: NotificationConfig,
    now: datetime,
    *,
    limit: int = 100,
    clock: Callable[[], datetime] | None = None,
) -> DeliveryReport:
    """One delivery round: claim, send each outside a transaction, record each outcome at once."""
    with transaction() as session:
        claimed = claim_due_messages(session, now, limit)
    report = DeliveryReport()
    for message in claimed:
        with transaction() as session:
            ours = renew_lease(session, message, clock() if clock else now)
        if not ours:
            report.lost += 1
            continue
        channel = channels.get(message.channel)
        error = None
        try:
            if channel is None:
                raise LookupError(f"no {message.channel!r} channel is configured")
            channel.send(message.recipient, message.payload, message.key)
        except Exception as failure:  # any failure is one failed try; the message stays in the outbox
            error = f"{type(failure).__name__}: {failure}"[:1000]
            log.warning(
                "outbox %s to %s failed (try %d): %s", message.key, message.recipient, message.tries, error
            )
        with transaction() as session:
            outcome = record_outcome(session, message, error, clock() if clock else now, config)
        if outcome == SENT:
            report.sent += 1
        elif outcome == DEAD:
            report.dead += 1
        elif outcome == LOST:
            report.lost += 1
        else:
            report.retrying += 1
    return report


def dead_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == DEAD)
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
    )
