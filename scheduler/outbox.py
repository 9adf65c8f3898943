"""Writing to the outbox: a side effect recorded in the same transaction as the change that causes it.

Nothing is sent here. The delivery job (scheduler.delivery) sends what committed, so a rolled-back change
never notifies anyone, and the unique key makes a second write of the same message a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tickets.models import OutboxMessage

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"


def add_message(
    session: Session,
    *,
    key: str,
    channel: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    ticket_id: int | None = None,
) -> OutboxMessage:
    """Add a message whose key is new by construction (e.g. tied to a row unique in this transaction)."""
    message = OutboxMessage(
        key=key,
        channel=channel,
        recipient=recipient,
        payload=payload,
        status=PENDING,
        tries=0,
        next_try_at=now,
        created_at=now,
        ticket_id=ticket_id,
    )
    session.add(message)
    return message


def add_message_once(session: Session, **fields: Any) -> bool:
    """Add a message unless one with its key exists (another process may be writing it right now)."""
    if session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == fields["key"])) is not None:
        return False
    try:
        with session.begin_nested():
            add_message(session, **fields)
    except IntegrityError:
        return False  # the other writer committed first: its message is the one
    return True
