"""The escalation sweep: every ticket whose next alert is due gets it, exactly once.

The sweep reads only `next_escalation_at <= now` through its index, so its cost follows what is due, not the
size of the table. Each due ticket is locked (`FOR UPDATE SKIP LOCKED` on PostgreSQL, so a second scheduler
takes other rows instead of waiting; SQLite transactions here are write transactions, one at a time) and, in
the same transaction, gets its escalation row (unique per ticket, round and level), its ticket event, its new
level, its next alert time and its outbox notifications. Running it twice, in two processes, or after a
crash finds nothing left to do for what already committed. After downtime a ticket gets only its highest due
alert, once: a breached ticket is not warned first.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload

from scheduler.messages import alert_message, ticket_link
from scheduler.recipients import Directory
from scheduler.scheduler_config import NotificationConfig, SchedulerConfig
from tickets import events
from tickets.models import Escalation, Ticket
from tickets.outbox import add_message_once
from tickets.sla import WARNING_LEVEL, Alert, SlaDeadlines
from tickets.ticket_config import EscalationRecipient

BATCH_SIZE = 500


@dataclass(frozen=True)
class AlertSettings:
    """What the sweep needs from config, gathered once."""

    deadlines: SlaDeadlines
    notifications: NotificationConfig
    warning_recipients: tuple[EscalationRecipient, ...]
    level_recipients: Mapping[int, tuple[EscalationRecipient, ...]]
    field_names: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    public_base_url: str | None = None

    @classmethod
    def from_config(cls, config: Any) -> AlertSettings:
        """From ivr's HotlineConfig (typed loosely: ivr imports us)."""
        scheduler: SchedulerConfig = config.scheduler
        return cls(
            deadlines=SlaDeadlines(scheduler.sla),
            notifications=scheduler.notifications,
            warning_recipients=scheduler.sla.warning_notify,
            level_recipients={lv.level: lv.notify for lv in scheduler.sla.levels},
            field_names={f.key: dict(f.names) for f in config.flow.fields},
            public_base_url=config.public_base_url,
        )

    def recipients(self, level: int) -> tuple[EscalationRecipient, ...]:
        return self.warning_recipients if level == WARNING_LEVEL else self.level_recipients.get(level, ())


@dataclass(frozen=True)
class SweptTicket:
    reference: str
    level: int
    due_at: datetime
    notifications: int

    def to_json(self) -> dict[str, Any]:
        return {
            "reference": self.reference,
            "level": self.level,
            "kind": "warning" if self.level == WARNING_LEVEL else "escalation",
            "due_at": self.due_at.isoformat(),
            "notifications": self.notifications,
        }


def lock_due_tickets(session: Session, now: datetime, limit: int) -> list[Ticket]:
    query = (
        select(Ticket)
        .where(Ticket.next_escalation_at <= now)
        .order_by(Ticket.next_escalation_at, Ticket.id)
        .limit(limit)
        .options(lazyload(Ticket.assignee))  # no outer join: FOR UPDATE cannot lock its nullable side
        .with_for_update(skip_locked=True, of=Ticket)
    )
    return list(session.scalars(query))


def highest_due_alert(settings: AlertSettings, ticket: Ticket, now: datetime) -> Alert | None:
    due = [a for a in settings.deadlines.pending_alerts(ticket) if a.due_at <= now]
    return max(due, key=lambda a: a.level) if due else None


@dataclass
class Batch:
    locked: int  # due rows this batch took (a full batch means more may wait)
    swept: list[SweptTicket]


def escalate_due_tickets(
    session: Session,
    settings: AlertSettings,
    now: datetime,
    *,
    limit: int = BATCH_SIZE,
    dry_run: bool = False,
) -> Batch:
    """One batch, in the caller's transaction (which commits it)."""
    directory = Directory(session, settings.notifications)
    swept = []
    tickets = lock_due_tickets(session, now, limit)
    for ticket in tickets:
        alert = highest_due_alert(settings, ticket, now) if ticket.is_open else None
        if alert is None:
            # Stale (e.g. a ticket service stamped it from an older read): just set the right next time.
            if not dry_run:
                ticket.next_escalation_at = settings.deadlines.next_escalation_at(ticket)
            continue
        if dry_run:
            swept.append(SweptTicket(ticket.reference, alert.level, alert.due_at, 0))
            continue
        swept.append(_escalate(session, settings, directory, ticket, alert, now))
    if not dry_run:
        session.flush()
    return Batch(len(tickets), swept)


def _escalate(
    session: Session,
    settings: AlertSettings,
    directory: Directory,
    ticket: Ticket,
    alert: Alert,
    now: datetime,
) -> SweptTicket:
    escalation = Escalation(
        ticket=ticket, sla_round=ticket.sla_round, level=alert.level, due_at=alert.due_at, created_at=now
    )
    session.add(escalation)
    if alert.level == WARNING_LEVEL:
        ticket.warned_at = now
        event_type = "sla_warning"
    else:
        ticket.escalation_level = alert.level
        event_type = "escalated"
    ticket.next_escalation_at = settings.deadlines.next_escalation_at(ticket)
    sent = _notify(session, settings, directory, ticket, alert.level, now)
    events.record(
        session,
        ticket,
        event_type,
        at=now,
        level=alert.level,
        due_at=alert.due_at.isoformat(),
        notified=[f"{channel}:{recipient}" for channel, recipient in sent],
    )
    return SweptTicket(ticket.reference, alert.level, alert.due_at, len(sent))


def _notify(
    session: Session, settings: AlertSettings, directory: Directory, ticket: Ticket, level: int, now: datetime
) -> list[tuple[str, str]]:
    message = alert_message(
        ticket,
        level,
        now,
        field_names=settings.field_names,
        public_base_url=settings.public_base_url,
        timezone=settings.deadlines.policy.timezone,
    )
    payload = {
        "subject": message.subject,
        "text": message.text,
        "reference": ticket.reference,
        "level": level,
        "url": ticket_link(settings.public_base_url, ticket.reference),
    }
    sent: list[tuple[str, str]] = []
    for target in settings.recipients(level):
        for contact in directory.contacts(ticket, target.role):
            for channel in target.channels:
                address = directory.address(contact, channel)
                if address is None or (channel, address) in sent:
                    continue
                sent.append((channel, address))
                add_message_once(
                    session,
                    # Tied to the escalation row, unique in this transaction: a rerun cannot write it again.
                    key=f"sla:{ticket.id}:{ticket.sla_round}:{level}:{channel}:{address}",
                    channel=channel,
                    recipient=address,
                    payload=payload,
                    now=now,
                    ticket_id=ticket.id,
                )
    return sent


def sweep(
    transaction: Callable[[], AbstractContextManager[Session]],
    settings: AlertSettings,
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
    dry_run: bool = False,
) -> list[SweptTicket]:
    """Every due ticket, a batch per transaction: locks stay short and a crash loses at most one batch's work
    (which the next run redoes, since nothing of it committed)."""
    swept: list[SweptTicket] = []
    while True:
        with transaction() as session:
            # A dry run changes (and commits) nothing, so it must see everything due in one look.
            batch = escalate_due_tickets(
                session, settings, now, limit=10**9 if dry_run else batch_size, dry_run=dry_run
            )
        swept += batch.swept
        if dry_run or batch.locked < batch_size:
            return swept
