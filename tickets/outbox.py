"""The one outbox writer: a side effect recorded in the same transaction as the change that causes it.

Every SMS, e-mail, webhook and console notification is written here, by the ticket services and the
scheduler alike (it sits in tickets/ so that both can). Nothing is sent here: the delivery job
(scheduler.delivery) sends what committed, so a rolled-back change never notifies anyone, and the unique
key makes a second write of the same message a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from tickets.db import insert_unless_present
from tickets.models import OutboxMessage

PENDING, SENDING, SENT, DEAD = "pending", "sending", "sent", "dead"


def add_message_once(
    session: Session,
    *,
    key: str,
    channel: str,
    recipient: str,
    payload: dict[str, Any],
    now: datetime,
    ticket_id: int | None = None,
) -> bool:
    """Add a message unless one with its key exists; False when it does.

    The key says what the message is about (`sla:<ticket>:<round>:<level>:<channel>:<address>`,
    `confirm-sms:<CallSid>` …), so a replayed webhook or a rerun sweep writes nothing new, and another
    process writing the same key right now is no error (tickets.db.insert_unless_present)."""
    return insert_unless_present(
        session,
        OutboxMessage,
        "key",
        key=key,
        channel=channel,
        recipient=recipient,
        payload=payload,
        ticket_id=ticket_id,
        status=PENDING,
        tries=0,
        next_try_at=now,
        created_at=now,
    )
