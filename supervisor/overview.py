"""The supervisor's live picture: open alerts, backlog, who carries what, today's calls, dead messages.

Each part is an aggregate or a short, limited list read through an index (open statuses, unacknowledged
alerts, today's calls, dead outbox rows), so the page costs the same with ten or a million closed tickets.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from scheduler import alerts, heartbeat
from tickets.logsafe import mask_numbers
from tickets.masking import mask_number
from tickets.models import OPEN_STATUSES, Call, Escalation, OutboxMessage, Role, Ticket, User
from tickets.routing import is_away
from tickets.ticket_config import GENERAL_FIELD

ALERT_LIMIT = 50
POOL_LIMIT = 50
DEAD_LIMIT = 10
DUE_SOON = timedelta(hours=24)
# Twilio call statuses of a call still going on.
LIVE_CALL_STATUSES = ("queued", "ringing", "in-progress")


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


@dataclass(frozen=True)
class AlertRow:
    id: int
    level: int
    due_at: datetime
    created_at: datetime
    reference: str
    field: str
    status: str
    sla_due_at: datetime | None
    assignee: str | None  # display name
    assignee_username: str | None


def open_alerts(
    session: Session, limit: int = ALERT_LIMIT, viewer: User | None = None
) -> tuple[int, list[AlertRow]]:
    """Unacknowledged alerts of tickets still open: the most severe and oldest first.

    With a viewer, only the alerts they may see (scheduler.alerts: a supervisor's fields), as the API does.
    """
    condition = alerts.waiting()
    if viewer is not None:
        condition = and_(condition, alerts.visible_to(viewer))
    total = session.scalar(
        select(func.count())
        .select_from(Escalation)
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .where(condition)
    )
    assignee = aliased(User)
    rows = session.execute(
        select(
            Escalation.id,
            Escalation.level,
            Escalation.due_at,
            Escalation.created_at,
            Ticket.reference,
            Ticket.field,
            Ticket.status,
            Ticket.sla_due_at,
            assignee.display_name.label("assignee"),
            assignee.username.label("assignee_username"),
        )
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .outerjoin(assignee, assignee.id == Ticket.assignee_id)
        .where(condition)
        .order_by(Escalation.level.desc(), Escalation.due_at, Escalation.id)
        .limit(limit)
    ).all()
    return int(total or 0), [AlertRow(**row._asdict()) for row in rows]


@dataclass(frozen=True)
class Deadlines:
    overdue: int  # open and past the deadline
    due_soon: int  # open, deadline within the next 24 hours


def deadlines(session: Session, now: datetime) -> Deadlines:
    overdue, due_soon = session.execute(
        select(
            _count_if(Ticket.sla_due_at <= now),
            _count_if(and_(Ticket.sla_due_at > now, Ticket.sla_due_at <= now + DUE_SOON)),
        ).where(Ticket.status.in_(OPEN_STATUSES))
    ).one()
    return Deadlines(int(overdue), int(due_soon))


def backlog(session: Session, now: datetime) -> dict[str, dict[str, int]]:
    """Open tickets by field and status, plus an 'overdue' count per field."""
    rows = session.execute(
        select(Ticket.field, Ticket.status, func.count(), _count_if(Ticket.sla_due_at <= now))
        .where(Ticket.status.in_(OPEN_STATUSES))
        .group_by(Ticket.field, Ticket.status)
    )
    table: dict[str, dict[str, int]] = {}
    for field_key, status, count, overdue in rows:
        row = table.setdefault(field_key, {"overdue": 0})
        row[status] = int(count)
        row["overdue"] += int(overdue)
    return table


@dataclass(frozen=True)
class ConsultantLoad:
    username: str
    display_name: str
    fields: list[str]
    on_duty: bool
    away: bool  # on leave today
    open: int
    overdue: int

    @property
    def available(self) -> bool:
        return self.on_duty and not self.away


def consultant_load(session: Session, now: datetime, today: date) -> list[ConsultantLoad]:
    load = (
        select(
            Ticket.assignee_id.label("user_id"),
            func.count().label("open"),
            _count_if(Ticket.sla_due_at <= now).label("overdue"),
        )
        .where(Ticket.status.in_(OPEN_STATUSES), Ticket.assignee_id.is_not(None))
        .group_by(Ticket.assignee_id)
        .subquery()
    )
    rows = session.execute(
        select(User, func.coalesce(load.c.open, 0), func.coalesce(load.c.overdue, 0))
        .outerjoin(load, load.c.user_id == User.id)
        .where(User.role == Role.CONSULTANT, User.active.is_(True))
        .order_by(User.username)
    ).all()
    return [
        ConsultantLoad(
            username=user.username,
            display_name=user.display_name,
            fields=user.fields,
            on_duty=user.on_duty,
            away=is_away(user, today),
            open=int(open_count),
            overdue=int(overdue),
        )
        for user, open_count, overdue in rows
    ]


@dataclass(frozen=True)
class TodaysCalls:
    total: int
    completed: int  # the caller went through the whole flow
    in_progress: int
    incomplete: int  # ended before the flow did (a ticket marked incomplete, or none)
    no_callable_number: int  # ended, and nobody can be called back: no ticket or no callback number
    missed: int  # ended before a field was chosen, with a caller ID to call back (missed-call tickets)


def local_midnight(now: datetime, timezone: str) -> datetime:
    zone = ZoneInfo(timezone)
    return datetime.combine(now.astimezone(zone).date(), time(0), zone)


def todays_calls(session: Session, now: datetime, timezone: str) -> TodaysCalls:
    start = local_midnight(now, timezone)
    end = start + timedelta(days=1)
    live = Call.status.in_(LIVE_CALL_STATUSES)
    ended = and_(Call.flow_completed.is_(False), ~live)
    row = session.execute(
        select(
            func.count(),
            _count_if(Call.flow_completed.is_(True)),
            _count_if(and_(Call.flow_completed.is_(False), live)),
            _count_if(ended),
            _count_if(
                and_(
                    or_(Call.flow_completed.is_(True), ~live),
                    or_(Ticket.id.is_(None), Ticket.callback_number.is_(None)),
                )
            ),
            _count_if(Ticket.missed_call.is_(True)),
        )
        .select_from(Call)
        .outerjoin(Ticket, Ticket.call_id == Call.id)
        .where(Call.started_at >= start, Call.started_at < end)
    ).one()
    return TodaysCalls(*(int(n) for n in row))


@dataclass(frozen=True)
class DeadMessage:
    id: int
    channel: str
    recipient: str
    tries: int
    last_error: str | None
    created_at: datetime
    reference: str | None


def dead_messages(session: Session, limit: int = DEAD_LIMIT) -> tuple[int, list[DeadMessage]]:
    total = session.scalar(select(func.count()).where(OutboxMessage.status == "dead"))
    rows = session.execute(
        select(
            OutboxMessage.id,
            OutboxMessage.channel,
            OutboxMessage.recipient,
            OutboxMessage.tries,
            OutboxMessage.last_error,
            OutboxMessage.created_at,
            Ticket.reference,
        )
        .outerjoin(Ticket, Ticket.id == OutboxMessage.ticket_id)
        .where(OutboxMessage.status == "dead")
        .order_by(OutboxMessage.next_try_at.desc(), OutboxMessage.id.desc())
        .limit(limit)
    ).all()
    return int(total or 0), [_masked_dead(DeadMessage(*row)) for row in rows]


def _masked_dead(message: DeadMessage) -> DeadMessage:
    """A dead message as the dashboard shows it: an SMS recipient masked, numbers in the error masked."""
    recipient = mask_number(message.recipient) if message.channel == "sms" else message.recipient
    error = mask_numbers(message.last_error) if message.last_error else None
    return replace(message, recipient=recipient, last_error=error)


@dataclass(frozen=True)
class PooledTicket:
    reference: str
    support_type: str | None
    callback_number: str | None
    created_at: datetime
    sla_due_at: datetime | None
    incomplete: bool
    has_recording: bool  # the caller's message, played inline to decide the field


def general_pool(session: Session, limit: int = POOL_LIMIT) -> tuple[int, list[PooledTicket]]:
    """'Not sure' tickets waiting for a supervisor to set their field, oldest first."""
    condition = and_(Ticket.field == GENERAL_FIELD, Ticket.status.in_(OPEN_STATUSES))
    total = session.scalar(select(func.count()).where(condition))
    rows = session.execute(
        select(
            Ticket.reference,
            Ticket.support_type,
            Ticket.callback_number,
            Ticket.created_at,
            Ticket.sla_due_at,
            Ticket.incomplete,
            Ticket.recording_url.is_not(None),
        )
        .where(condition)
        .order_by(Ticket.created_at)
        .limit(limit)
    ).all()
    # A list: the number masked (supervisors open the ticket to call).
    pooled = [PooledTicket(*row) for row in rows]
    return int(total or 0), [
        replace(t, callback_number=mask_number(t.callback_number) or None) for t in pooled
    ]


@dataclass(frozen=True)
class Overview:
    now: datetime
    alerts_total: int
    alerts: list[AlertRow]
    deadlines: Deadlines
    backlog: dict[str, dict[str, int]]
    consultants: list[ConsultantLoad]
    calls: TodaysCalls
    dead_total: int
    dead: list[DeadMessage]
    pool_total: int
    pool: list[PooledTicket]
    scheduler: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for consultant, row in zip(self.consultants, data["consultants"], strict=True):
            row["available"] = consultant.available
        return _jsonable(data)


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {key: _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    return value


def overview(session: Session, now: datetime, timezone: str, viewer: User | None = None) -> Overview:
    """The live picture; `viewer` scopes the alert list to what that person may see."""
    alerts_total, alert_rows = open_alerts(session, viewer=viewer)
    dead_total, dead = dead_messages(session)
    pool_total, pool = general_pool(session)
    return Overview(
        now=now,
        alerts_total=alerts_total,
        alerts=alert_rows,
        deadlines=deadlines(session, now),
        backlog=backlog(session, now),
        consultants=consultant_load(session, now, now.astimezone(ZoneInfo(timezone)).date()),
        calls=todays_calls(session, now, timezone),
        dead_total=dead_total,
        dead=dead,
        pool_total=pool_total,
        pool=pool,
        scheduler=heartbeat.scheduler_status(session, now),
    )
