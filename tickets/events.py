"""The audit trail: every change to a ticket writes one event (who, when, what, why)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tickets.db import utcnow
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
    event = TicketEvent(ticket=ticket, type=type, actor=by, at=at or utcnow(), detail=detail)
    session.add(event)
    return event
