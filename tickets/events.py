"""The audit trail: every change to a ticket writes one event (who, when, what, why)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tickets import clock
from tickets.models import Ticket, TicketEvent, User


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
    """An event not yet recorded: what `record` takes besides the ticket (routing.pooled)."""

    type: str
    at: datetime
    detail: dict[str, Any] = field(default_factory=dict)
    by: User | None = None
