"""Who gets a new ticket: the on-duty consultant of its field with the fewest open tickets.

Ties go to whoever was assigned least recently (never assigned comes first), then to the oldest account, so
the order is total and a run of tickets deals round the field. Off duty, inactive or away (a date range in
the hotline's time zone, inclusive) means not available. With nobody available the ticket stays `new` in its
field's pool; "general" tickets (the caller was not sure) always wait for a supervisor to set the field.
Two tickets routed at the same moment never both go to the same person (see `lock_candidates`).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session

from tickets import events, lifecycle
from tickets.config import GENERAL_FIELD
from tickets.models import Role, Status, Ticket, User, UserField

DEFAULT_TIMEZONE = "Asia/Seoul"


def local_date(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def _available_consultants(field: str, today: date) -> Select[Any]:
    away_today = and_(
        or_(User.away_from.is_not(None), User.away_until.is_not(None)),
        or_(User.away_from.is_(None), User.away_from <= today),
        or_(User.away_until.is_(None), User.away_until >= today),
    )
    return (
        select(User)
        .join(UserField, UserField.user_id == User.id)
        .where(
            UserField.field == field,
            User.role == Role.CONSULTANT,
            User.active.is_(True),
            User.on_duty.is_(True),
            ~away_today,
        )
    )


def lock_candidates(session: Session, field: str, today: date) -> None:
    """Hold the field's available consultants until commit, so routings that could pick the same person
    take turns: the next one counts open tickets after the previous one committed its assignment.

    PostgreSQL: `FOR NO KEY UPDATE` (it still lets tickets refer to these users, as claims and events do),
    in id order so two routings over overlapping sets of consultants (one person in two fields) cannot
    deadlock. Under READ COMMITTED the count in pick_consultant is a new statement, so it sees what the
    previous holder committed. SQLite has no row locks and needs none: every transaction there begins with
    BEGIN IMMEDIATE (tickets.db), so writers already run one at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    query = _available_consultants(field, today).order_by(User.id).with_for_update(of=User, key_share=True)
    session.execute(query.with_only_columns(User.id)).all()


def pick_consultant(session: Session, field: str, today: date) -> User | None:
    open_tickets = (
        select(func.count(Ticket.id))
        .where(Ticket.assignee_id == User.id, Ticket.status.in_(list(lifecycle.HELD)))
        .correlate(User)
        .scalar_subquery()
    )
    query = (
        _available_consultants(field, today)
        .order_by(open_tickets, User.last_assigned_at.asc().nulls_first(), User.id)
        .limit(1)
    )
    return session.scalars(query).first()


def route(
    session: Session,
    ticket: Ticket,
    *,
    now: datetime,
    timezone: str = DEFAULT_TIMEZONE,
    by: User | None = None,
) -> User | None:
    """Assign a `new` ticket to the best consultant of its field, or leave it in the pool (with an event)."""
    if ticket.status != Status.NEW or ticket.assignee_id is not None:
        return ticket.assignee
    if ticket.field == GENERAL_FIELD:
        events.record(session, ticket, "pooled", by=by, at=now, pool=GENERAL_FIELD, reason="triage")
        return None
    today = local_date(now, timezone)
    lock_candidates(session, ticket.field, today)
    consultant = pick_consultant(session, ticket.field, today)
    if consultant is None:
        events.record(session, ticket, "pooled", by=by, at=now, pool=ticket.field, reason="nobody_available")
        return None
    lifecycle.assign(session, ticket, consultant, by=by, now=now, reason="routed")
    return consultant


def set_field(
    session: Session,
    ticket: Ticket,
    field: str,
    *,
    by: User,
    now: datetime,
    known_fields: tuple[str, ...],
    timezone: str = DEFAULT_TIMEZONE,
) -> User | None:
    """Triage: a supervisor sets the field of a pooled ticket, which routes it."""
    if field not in known_fields:
        raise lifecycle.TransitionError(f"unknown field {field!r}", code="invalid_field")
    if ticket.status != Status.NEW:
        raise lifecycle.TransitionError("only a ticket in a pool can change its field", code="not_in_pool")
    previous = ticket.field
    ticket.field = field
    ticket.updated_at = now
    events.record(session, ticket, "field_changed", by=by, at=now, **{"from": previous, "to": field})
    session.flush()
    return route(session, ticket, now=now, timezone=timezone, by=by)
