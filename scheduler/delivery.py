"""Delivering the outbox: SMS, e-mail, webhooks and the console inbox, with retries, backoff and a dead end.

A message is claimed in one short transaction (status `sending`, a lease in next_try_at, one more try),
sent outside any transaction (a slow SMTP server must not hold database locks), and its outcome recorded
in another. Claiming takes rows with `FOR UPDATE SKIP LOCKED` on PostgreSQL and inside a write transaction
on SQLite, so two schedulers never claim the same message. A process that dies between claim and outcome
leaves the row `sending`; when its lease runs out the message is tried again (at least once beats never).

Each channel sends on its own few threads, each send bounded by its client's network timeout, so a slow
webhook endpoint holds only webhooks and never a caller's SMS.

A try that may have reached the provider without our knowing (the sender was killed after sending, or a
timeout hid the answer) must not reach the person twice. So before any retry the channel is asked whether
the message already went out: the SMS channel asks Twilio (or the console gateway its own record). SMTP
and webhooks cannot be asked; they are sent again with the message's unique key as Message-ID and
Idempotency-Key, by which the receiver drops the repeat.
"""

from __future__ import annotations

import json
import logging
import smtplib
import threading
import urllib.request
from collections import Counter, deque
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, Protocol
from urllib.parse import urlsplit

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scheduler.recording_deletes import CHANNEL as RECORDING_DELETE
from scheduler.recording_deletes import RecordingDeleteChannel, RecordingDeleter
from scheduler.scheduler_config import NotificationConfig
from tickets import inbox
from tickets.clock import now as clock_now
from tickets.logsafe import log_safe
from tickets.models import OutboxMessage
from tickets.outbox import DEAD, PENDING, SENDING, SENT
from tickets.telephony import mask_phone

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)  # renewed just before each send; longer than one send may take (timeouts: 10 s)
MAX_BACKOFF = timedelta(hours=6)
LOST = "lost"  # record_outcome: the row was no longer ours
NETWORK_TIMEOUT = 10  # seconds, per network operation of the SMTP and webhook clients
CLOCK_SKEW = timedelta(minutes=2)  # between our clock and a provider's, when asking what it sent since


class Channel(Protocol):
    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        """Send or raise: any exception is a failed try."""
        ...

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: datetime) -> bool:
        """Asked before a retry: did an earlier try, made after `since`, deliver this message after all?
        False when the channel cannot tell (then it is sent again); raise when it could not find out."""
        ...


class SmsSender(Protocol):
    """What ivr.gateway provides (Twilio's Messages API); the app puts one in app.extensions."""

    def send_sms(self, to: str, body: str) -> Any: ...

    def sms_sent_since(self, to: str, since: datetime) -> Collection[str]:
        """The texts of the SMS that went out (or are on their way) to `to` since `since`."""
        ...


def message_text(payload: Mapping[str, Any]) -> str:
    """SLA alerts carry `text`; the ticket services' messages (caller confirmations) carry `body`."""
    return str(payload.get("text") or payload.get("body") or "")


@dataclass
class SmsChannel:
    sender: SmsSender

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        self.sender.send_sms(recipient, message_text(payload))

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: datetime) -> bool:
        text = message_text(payload).strip()
        return any(sent.strip() == text for sent in self.sender.sms_sent_since(recipient, since))


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

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: datetime) -> bool:
        """SMTP cannot be asked what it delivered. The repeat carries the same Message-ID, by which many
        mail stores and clients (Gmail among them) keep one copy."""
        return False


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

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: datetime) -> bool:
        """A webhook cannot be asked; the repeat carries the same Idempotency-Key for the receiver."""
        return False


@dataclass
class ConsoleChannel:
    """The console inbox: a notification row for the recipient user, in its own short transaction (the
    delivery round holds none). The message's key makes a retried delivery add no second row."""

    transaction: Callable[[], AbstractContextManager[Session]]
    # A row in the hotline's own database, not a network call: written by the delivery round's thread,
    # the only one that uses the database (see deliver_due_messages).
    writes_here = True

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        reference = payload.get("reference")
        with self.transaction() as session:
            inbox.deliver(
                session,
                username=recipient,
                key=key,
                text=message_text(payload),
                reference=str(reference) if reference else None,
                now=clock_now(),
            )

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: datetime) -> bool:
        return False  # sending again adds no second row: the inbox keeps one per message key


@dataclass
class LoggingSmsSender:
    """Stands in for Twilio when no SMS sender is configured: the text is logged (not its content), not
    sent, and remembered so a retry can tell it went out."""

    sent: list[tuple[str, str, datetime]] = field(default_factory=list)

    def send_sms(self, to: str, body: str) -> None:
        log.info("SMS (not sent: no SMS gateway configured) to %s, %d characters", mask_phone(to), len(body))
        self.sent.append((to, body, clock_now()))

    def sms_sent_since(self, to: str, since: datetime) -> list[str]:
        return [body for number, body, at in self.sent if number == to and at >= since]


def build_channels(
    notifications: NotificationConfig,
    sms_sender: SmsSender | None,
    transaction: Callable[[], AbstractContextManager[Session]],
    recordings: RecordingDeleter | None = None,
) -> dict[str, Channel]:
    """The channels by name; `recordings` (the Twilio gateway) adds the deletion of recordings."""
    channels: dict[str, Channel] = {"console": ConsoleChannel(transaction), "webhook": WebhookChannel()}
    if recordings is not None:
        channels[RECORDING_DELETE] = RecordingDeleteChannel(recordings)
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
    created_at: datetime


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0  # another scheduler took the message after our lease ran out: not ours to count
    released: int = 0  # claimed, then handed back unsent because the scheduler is stopping

    def count(self, outcome: str) -> None:
        if outcome == SENT:
            self.sent += 1
        elif outcome == DEAD:
            self.dead += 1
        elif outcome == LOST:
            self.lost += 1
        else:
            self.retrying += 1


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
        claimed.append(
            Claimed(row.id, row.key, row.channel, row.recipient, dict(row.payload), row.tries, row.created_at)
        )
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
    """Just before sending: extend this message's lease, if it is still ours. A message may wait in its
    channel's lane behind slow sends and outlast the lease taken at claim time; another scheduler may have
    taken the message since, and then it is that one's to send, not ours."""
    return _update_if_ours(session, message, next_try_at=now + LEASE)


def release_claim(session: Session, message: Claimed, now: datetime) -> bool:
    """Hand back a claimed message that was never tried: due again now, its try not counted. A stopping
    scheduler does this, so another (or the next) one sends it at once instead of after the lease."""
    return _update_if_ours(session, message, status=PENDING, tries=message.tries - 1, next_try_at=now)


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
    stopping: threading.Event | None = None,
) -> DeliveryReport:
    """One delivery round: claim, then send on `config.sends_per_channel` threads per channel, recording
    each outcome as it comes. Only this thread uses the database; the pool's threads only talk to channels,
    and a lane takes its next message only when one of its threads is free, so its lease starts then.

    Once `stopping` is set the sends in hand finish and every message not yet started is released."""
    with transaction() as session:
        claimed = claim_due_messages(session, now, limit)
    report = DeliveryReport()
    if not claimed:
        return report
    lanes: dict[str, deque[Claimed]] = {}
    for message in claimed:
        lanes.setdefault(message.channel, deque()).append(message)
    width = config.sends_per_channel
    busy: Counter[str] = Counter()
    running: dict[Future[str | None], Claimed] = {}
    with ThreadPoolExecutor(max_workers=width * len(lanes), thread_name_prefix="outbox") as pool:
        while lanes or running:
            for name, lane in list(lanes.items()):
                if stopping is not None and stopping.is_set():
                    with transaction() as session:
                        report.released += sum(
                            release_claim(session, m, clock() if clock else now) for m in lane
                        )
                    lane.clear()
                while lane and busy[name] < width:
                    message = lane.popleft()
                    with transaction() as session:
                        ours = renew_lease(session, message, clock() if clock else now)
                    if not ours:
                        report.lost += 1
                        continue
                    channel = channels.get(name)
                    if getattr(channel, "writes_here", False):  # our own database: this thread's to write
                        error = try_to_deliver(channel, message)
                        at = clock() if clock else now
                        with transaction() as session:
                            report.count(record_outcome(session, message, error, at, config))
                        continue
                    running[pool.submit(try_to_deliver, channel, message)] = message
                    busy[name] += 1
                if not lane:
                    del lanes[name]
            if not running:
                continue
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                message = running.pop(future)
                busy[message.channel] -= 1
                with transaction() as session:
                    outcome = record_outcome(
                        session, message, future.result(), clock() if clock else now, config
                    )
                report.count(outcome)
    return report


def try_to_deliver(channel: Channel | None, message: Claimed) -> str | None:
    """One try, on a pool thread: None when the message is out, else what went wrong."""
    try:
        if channel is None:
            raise LookupError(f"no {message.channel!r} channel is configured")
        if message.tries > 1 and channel.went_out(
            message.recipient, message.payload, message.key, message.created_at - CLOCK_SKEW
        ):
            log.info("outbox message %d had gone out on an earlier try: %s", message.id, _log_fields(message))
            return None
        channel.send(message.recipient, message.payload, message.key)
    except Exception as failure:  # any failure is one failed try; the message stays in the outbox
        error = f"{type(failure).__name__}: {failure}"[:1000]
        log.warning(
            "outbox message %d failed: %s error=%s",
            message.id,
            _log_fields(message),
            _log_error(error, message),
        )
        return error
    return None


def _log_fields(message: Claimed) -> str:
    """What a log may say about a message: never its text, never a whole address (nor its key, which holds
    the address); its id finds the row."""
    recipient = safe_recipient(message.channel, message.recipient)
    return f"channel={log_safe(message.channel)} to={recipient} try={message.tries}"


def _log_error(error: str, message: Claimed) -> str:
    """A provider's error may repeat the address or the text it refused: those are cut out (the row's
    last_error keeps the whole error for the dashboard)."""
    error = error.replace(message.recipient, safe_recipient(message.channel, message.recipient))
    text = message_text(message.payload)
    if text:
        error = error.replace(text, "<text>")
    return log_safe(error)


def safe_recipient(channel: str, recipient: str) -> str:
    """A recipient for the log: a masked number, the domain of an address, the host of a webhook (the rest
    of its URL is the secret that lets anyone post)."""
    if channel == "sms":
        return log_safe(mask_phone(recipient))
    if channel == "email":
        return "…@" + log_safe(recipient.rpartition("@")[2])
    if channel == "webhook":
        return log_safe(urlsplit(recipient).hostname or "?")
    return log_safe(recipient)


def dead_messages(session: Session, limit: int = 100) -> list[OutboxMessage]:
    return list(
        session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.status == DEAD)
            .order_by(OutboxMessage.created_at.desc())
            .limit(limit)
        )
    )
