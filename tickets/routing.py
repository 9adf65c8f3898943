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

from sqlalchemy import Date, Select, String, and_, bindparam, func, or_, select
from sqlalchemy.orm import Session, lazyload

from tickets import events, lifecycle
from tickets.models import Role, Status, Ticket, User, UserField
from tickets.ticket_config import GENERAL_FIELD

DEFAULT_TIMEZONE = "Asia/Seoul"


def local_date(now: datetime, timezone: str = DEFAULT_TIMEZONE) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def is_away(user: User, today: date) -> bool:
    """Inside the user's away range on `today` (inclusive; an open end runs on): the rule
    _available_consultants applies in SQL, for pages that show who routing skips."""
    if user.away_from is None and user.away_until is None:
        return False
    return (user.away_from is None or user.away_from <= today) and (
        user.away_until is None or user.away_until >= today
    )


def _available_consultants() -> Select[Any]:
    """The consultants of bindparam `field` who can take a ticket on bindparam `today`."""
    today = bindparam("today", type_=Date)
    away_today = and_(
        or_(User.away_from.is_not(None), User.away_until.is_not(None)),
        or_(User.away_from.is_(None), User.away_from <= today),
        or_(User.away_until.is_(None), User.away_until >= today),
    )
    return (
        select(User)
        .join(UserField, UserField.user_id == User.id)
        .where(
            UserField.field == bindparam("field", type_=String),
            User.role == Role.CONSULTANT,
            User.active.is_(True),
            User.on_duty.is_(True),
            ~away_today,
        )
    )


# Built once: routing runs for every new ticket, and building the statements cost more than running them.
_LOCK_CANDIDATES = (
    _available_consultants()
    .with_only_columns(User.id)
    .order_by(User.id)
    .with_for_update(of=User, key_share=True)
)
_OPEN_TICKETS_HELD = (
    select(func.count(Ticket.id))
    .where(Ticket.assignee_id == User.id, Ticket.status.in_(sorted(lifecycle.HELD)))
    .correlate(User)
    .scalar_subquery()
)
_PICK = (
    _available_consultants()
    .order_by(_OPEN_TICKETS_HELD, User.last_assigned_at.asc().nulls_first(), User.id)
    .limit(1)
    # Routing needs none of the chosen one's fields, which User.field_links would load eagerly.
    .options(lazyload(User.field_links))
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
    session.execute(_LOCK_CANDIDATES, {"field": field, "today": today}).all()


def pick_consultant(session: Session, field: str, today: date) -> User | None:
    """The available consultant with the fewest held tickets, ties to the least recently assigned."""
    return session.scalars(_PICK, {"field": field, "today": today}).first()


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
    consultant = choose_consultant(session, ticket.field, now=now, timezone=timezone)
    if consultant is None:
        entry = pooled(ticket.field, now)
        events.record(session, ticket, entry.type, by=by, at=now, **entry.detail)
        return None
    lifecycle.assign(session, ticket, consultant, by=by, now=now, reason="routed")
    return consultant


def choose_consultant(
    session: Session, field: str, *, now: datetime, timezone: str = DEFAULT_TIMEZONE
) -> User | None:
    """Who would get a ticket of `field` now; None for the pool. The candidates stay locked until commit
    (lock_candidates), so the choice holds until the ticket given to them is committed."""
    if field == GENERAL_FIELD:
        return None
    today = local_date(now, timezone)
    lock_candidates(session, field, today)
    return pick_consultant(session, field, today)


def pooled(field: str, now: datetime) -> events.Entry:
    """The event of a ticket nobody was chosen for: nobody available, or a field to set first (triage)."""
    reason = "triage" if field == GENERAL_FIELD else "nobody_available"
    return events.Entry("pooled", now, {"pool": field, "reason": reason})


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
