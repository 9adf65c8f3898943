"""The one outbox writer: a side effect recorded in the same transaction as the change that causes it.

Every SMS, e-mail, webhook and console notification is written here, by the ticket services and the
scheduler alike (it sits in tickets/ so that both can). Nothing is sent here: the delivery job
(scheduler.delivery) sends what committed, so a rolled-back change never notifies anyone, and the unique
key makes a second write of the same message a no-op.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from sqlalchemy import Dialect, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tickets.models import OutboxMessage
from tickets.plain_sql import PerDialect, PlainStatement

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
    `confirm-sms:<CallSid>` …), so a replayed webhook or a rerun sweep writes nothing new. `INSERT … ON
    CONFLICT (key) DO NOTHING`: another process writing the same key right now is no error (which on
    PostgreSQL would abort the transaction), and no savepoint is needed. Plain SQL (tickets.plain_sql), so
    it flushes first."""
    session.flush()
    values = {"key": key, "channel": channel, "recipient": recipient, "payload": payload}
    inserted = _INSERT_ONCE(session).changed(
        session, **values, ticket_id=ticket_id, status=PENDING, tries=0, next_try_at=now, created_at=now
    )
    return inserted == 1


def _insert_once(dialect: Dialect) -> PlainStatement:
    insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
    outbox = cast(Table, OutboxMessage.__table__)
    columns = (
        "key",
        "channel",
        "recipient",
        "payload",
        "ticket_id",
        "status",
        "tries",
        "next_try_at",
        "created_at",
    )
    return PlainStatement(
        insert(outbox).on_conflict_do_nothing(index_elements=[outbox.c.key]), dialect, columns
    )


_INSERT_ONCE = PerDialect(_insert_once)
