"""Who gets a new ticket: the on-duty consultant of its field with the fewest open tickets.

Ties go to whoever was assigned least recently (never assigned comes first), then to the oldest account, so
the order is total and a run of tickets deals round the field. Off duty, inactive or away (a date range in
the hotline's time zone, inclusive) means not available. With nobody available the ticket stays `new` in its
field's pool; "general" tickets (the caller was not sure) always wait for a supervisor to set the field.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from tickets import events, lifecycle
from tickets.config import GENERAL_FIELD
from tickets.deadlines import DeadlinePolicy
from tickets.models import Role, Status, Ticket, User, UserField

DEFAULT_TIMEZONE = "Asia/Seoul"


def local_date(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def pick_consultant(session: Session, field: str, today: date) -> User | None:
    open_tickets = (
        select(func.count(Ticket.id))
        .where(Ticket.assignee_id == User.id, Ticket.status.in_(list(lifecycle.HELD)))
        .correlate(User)
        .scalar_subquery()
    )
    away_today = and_(
        or_(User.away_from.is_not(None), User.away_until.is_not(None)),
        or_(User.away_from.is_(None), User.away_from <= today),
        or_(User.away_until.is_(None), User.away_until >= today),
    )
    query = (
        select(User)
        .join(UserField, UserField.user_id == User.id)
        .where(
            UserField.field == field,
            User.role == Role.CONSULTANT,
            User.active.is_(True),
            User.on_duty.is_(True),
            ~away_today,
        )
        .order_by(open_tickets, User.last_assigned_at.asc().nulls_first(), User.id)
        .limit(1)
    )
    return session.scalars(query).first()


def route(
    session: Session,
    policy: DeadlinePolicy,
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
    consultant = pick_consultant(session, ticket.field, local_date(now, timezone))
    if consultant is None:
        events.record(session, ticket, "pooled", by=by, at=now, pool=ticket.field, reason="nobody_available")
        return None
    lifecycle.assign(session, policy, ticket, consultant, by=by, now=now, reason="routed")
    return consultant


def set_field(
    session: Session,
    policy: DeadlinePolicy,
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
    return route(session, policy, ticket, now=now, timezone=timezone, by=by)
