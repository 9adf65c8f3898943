"""The console inbox: notifications for one user, written when the outbox's console channel delivers.

The scheduler's delivery job calls `deliver` after the change behind a message committed (side effects go
through the outbox); the console shows `unread_count` in its header, lists `latest` and marks them read.
A user only ever sees and marks their own notifications.
"""

from __future__ import annotations

from datetime import datetime
from typing import cast

from sqlalchemy import Table, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tickets.models import Notification, Ticket, User

LISTED = 100  # the inbox shows the newest; older ones are history nobody reads in a list


class UnknownRecipient(LookupError):
    """The console message names no user: a failed try, so it ends among the dead letters if it stays so."""


def deliver(
    session: Session, *, username: str, key: str, text: str, reference: str | None, now: datetime
) -> bool:
    """Put an outbox message into `username`'s inbox, linked to the ticket `reference` names; False when
    it is there already (a retried delivery)."""
    user_id = session.scalar(select(User.id).where(User.username == username))
    if user_id is None:
        raise UnknownRecipient(f"no console user {username!r}")
    ticket_id = session.scalar(select(Ticket.id).where(Ticket.reference == reference)) if reference else None
    table = cast(Table, Notification.__table__)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    inserted = session.execute(
        insert(table)
        .values(key=key, user_id=user_id, ticket_id=ticket_id, text=text, created_at=now)
        .on_conflict_do_nothing(index_elements=[table.c.key])
    )
    return bool(inserted.rowcount)  # type: ignore[attr-defined]


def unread_count(session: Session, user: User) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def latest(session: Session, user: User, limit: int = LISTED) -> list[Notification]:
    """The user's notifications, newest first."""
    return list(
        session.scalars(
            select(Notification)
            .where(Notification.user_id == user.id)
            .order_by(Notification.created_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


def mark_read(session: Session, user: User, now: datetime, notification_id: int | None = None) -> int:
    """Mark one of the user's notifications read (all of them without an id); how many changed.
    Someone else's id changes nothing, and again is harmless: the first time read stands."""
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification_id is not None:
        query = query.where(Notification.id == notification_id)
    changed = session.execute(query.values(read_at=now).execution_options(synchronize_session=False))
    return int(changed.rowcount)  # type: ignore[attr-defined]
