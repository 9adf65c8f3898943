"""Shared setup for the SLA tests: people, tickets at a chosen time, and settings from the test config."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.sweep import AlertSettings, SweptTicket, sweep
from tickets import accounts
from tickets.db import db
from tickets.intake import open_ticket
from tickets.models import Escalation, OutboxMessage, Status, Ticket, User

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)  # Monday 10:00 in Seoul
DUE = T0 + timedelta(hours=72)
_callers = itertools.count(20000001)


def settings(config: Any, **notifications: Any) -> AlertSettings:
    base = AlertSettings.from_config(config)
    head = {"head_phone": "+821099990000", **notifications}
    return replace(base, notifications=replace(base.notifications, **head))


def people(session: Session) -> dict[str, User]:
    def add(username: str, role: str, fields: list[str], phone: str) -> User:
        return accounts.add_user(
            session, username, role, fields=fields, phone=phone, email=f"{username}@example.org"
        )

    return {
        "consultant": add("it-kim", "consultant", ["it"], "010-5555-0101"),
        "it_supervisor": add("it-boss", "supervisor", ["it"], "010-5555-0002"),
        "bio_supervisor": add("bio-boss", "supervisor", ["bio"], "010-5555-0003"),
    }


def ticket_at(
    session: Session, alert_settings: AlertSettings, now: datetime, *, assignee: User | None = None, **kw: Any
) -> Ticket:
    ticket = open_ticket(
        session,
        now=now,
        field=kw.pop("field", "it"),
        support_type="advice",
        language=kw.pop("language", "ko"),
        # A caller of their own: a repeat caller's call joins their open ticket.
        caller_number=(number := f"+8210{next(_callers):08d}"),
        callback_number=number,
    )
    if assignee is not None:
        ticket.assignee = assignee
        ticket.status = Status.ASSIGNED
        alert_settings.deadlines.stamp(ticket, now)
    session.flush()
    return ticket


def run(alert_settings: AlertSettings, now: datetime, **kw: Any) -> list[SweptTicket]:
    return sweep(db.transaction, alert_settings, now, **kw)


def escalations(session: Session, ticket: Ticket) -> list[tuple[int, int]]:
    rows = session.scalars(
        select(Escalation).where(Escalation.ticket_id == ticket.id).order_by(Escalation.id)
    )
    return [(e.sla_round, e.level) for e in rows]


def sla_messages(session: Session) -> list[OutboxMessage]:
    """The SLA alerts in the outbox (the ticket services write others, e.g. the caller's confirmation SMS)."""
    return list(
        session.scalars(
            select(OutboxMessage).where(OutboxMessage.key.like("sla:%")).order_by(OutboxMessage.id)
        )
    )


def outbox(session: Session, ticket: Ticket) -> list[tuple[str, str]]:
    rows = [m for m in sla_messages(session) if m.ticket_id == ticket.id]
    return [(m.channel, m.recipient) for m in rows]


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)
