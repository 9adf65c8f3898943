"""The audit trail: every change to a ticket writes one event (who, when, what, why)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, insert, inspect
from sqlalchemy.orm import Session

from tickets import clock
from tickets.models import Ticket, TicketEvent, User
from tickets.plain_sql import PerDialect, PlainStatement


def record(
    session: Session,
    ticket: Ticket,
    type: str,
    *,
    by: User | None = None,
    at: datetime | None = None,
    **detail: Any,
) -> TicketEvent:
    event = TicketEvent(ticket=ticket, type=type, actor=by, at=at or clock.now(), detail=detail)
    session.add(event)
    return event


@dataclass(frozen=True)
class Entry:
    """An event to write with `write`: what `record` takes, before there is a ticket row to point at."""

    type: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    by: User | None = None


_INSERT = PerDialect(
    lambda dialect: PlainStatement(
        insert(cast(Table, TicketEvent.__table__)), dialect, ("ticket_id", "type", "at", "actor_id", "detail")
    )
)


def write(session: Session, ticket: Ticket, entries: list[Entry]) -> None:
    """The events of a ticket just inserted, in one statement and in order, without ORM objects (their
    flush costs more than the INSERT). ticket.events must not be loaded yet: it loads them when asked."""
    if "events" not in inspect(ticket).unloaded:
        raise ValueError("the ticket's events are loaded already: record() keeps them in step")
    write_rows(session, ticket.id, entries)


def write_rows(session: Session, ticket_id: int, entries: list[Entry]) -> None:
    """`write` for a ticket this session holds no ORM object of (a webhook's plain-SQL path). The ticket's
    row must be in the database already: the rows are written in plain SQL, without an autoflush."""
    rows = [
        {
            "ticket_id": ticket_id,
            "type": entry.type,
            "at": entry.at,
            "actor_id": entry.by.id if entry.by is not None else None,
            "detail": entry.detail,
        }
        for entry in entries
    ]
    _INSERT(session).many(session, rows)
