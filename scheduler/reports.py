"""The numbers a hotline reports, over a period and optionally one field, as SQL aggregates.

Every figure is one aggregate query answered by the database through an index on the period's column
(tickets.created_at, escalations.due_at, callback_attempts.at); no ticket row is loaded into Python, so a
report over a million tickets costs what the database's aggregate costs.

Definitions (shown on the report page too):
- A ticket belongs to the period in which it was *received* (created_at in the local calendar).
- Finished = resolved or closed; the finish time is resolved_at, else closed_at.
- SLA compliance = finished by sla_due_at / tickets whose outcome is known (finished, or still open past
  the deadline). Open tickets not yet due are left out: they can still go either way.
- Time to first callback = first_attempt_at - created_at; time to close = finish time - created_at.
  Median and 90th percentile interpolate linearly between ranks (PostgreSQL's percentile_cont).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from tickets.models import OPEN_STATUSES, CallbackAttempt, Escalation, Outcome, Status, Ticket

FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Period:
    """Whole local days, `first` to `last` inclusive, and optionally one field."""

    first: date
    last: date
    field: str | None = None
    timezone: str = "Asia/Seoul"

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError(f"the period ends ({self.last}) before it starts ({self.first})")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(0), self.zone).astimezone(UTC)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return datetime.combine(self.last + timedelta(days=1), time(0), self.zone).astimezone(UTC)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def months(self) -> list[str]:
        months: list[str] = []
        day = self.first.replace(day=1)
        while day <= self.last:
            months.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return months


# --- portable pieces ---------------------------------------------------------------------------------------


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _local_bucket(session: Session, column: Any, period: Period, unit: str) -> ColumnElement[Any]:
    """The local calendar day or month of a UTC timestamp column; `_bucket_key` turns it into text."""
    if _dialect(session) == "postgresql":
        # date_trunc on the local timestamp: much cheaper per row than formatting text with to_char.
        return func.date_trunc(unit, func.timezone(period.timezone, column))
    # SQLite stores UTC text; shift by the zone's offset at the period's start (Korea has no DST).
    offset = period.zone.utcoffset(datetime.combine(period.first, time(12)))
    seconds = int(offset.total_seconds()) if offset else 0
    pattern = "%Y-%m-%d" if unit == "day" else "%Y-%m"
    return func.strftime(pattern, column, f"{seconds:+d} seconds")


def _bucket_key(value: Any, unit: str) -> str:
    """'YYYY-MM-DD' or 'YYYY-MM' from either backend's bucket value."""
    if isinstance(value, str):
        return value
    return f"{value:%Y-%m-%d}" if unit == "day" else f"{value:%Y-%m}"


def _seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    if _dialect(session) == "postgresql":
        return func.extract("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _finished_at() -> ColumnElement[datetime]:
    return func.coalesce(Ticket.resolved_at, Ticket.closed_at)


def _received_in(period: Period) -> list[ColumnElement[bool]]:
    conditions = [Ticket.created_at >= period.start, Ticket.created_at < period.end]
    if period.field:
        conditions.append(Ticket.field == period.field)
    return conditions


def _met() -> ColumnElement[bool]:
    return and_(Ticket.status.in_(FINISHED_STATUSES), _finished_at() <= Ticket.sla_due_at)


def _breached(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(Ticket.status.in_(FINISHED_STATUSES), _finished_at() > Ticket.sla_due_at),
        and_(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_due_at <= now),
    )


def _count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- the reports -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Compliance:
    met: int
    breached: int

    @property
    def decided(self) -> int:
        return self.met + self.breached

    @property
    def percent(self) -> float | None:
        return percent(self.met, self.decided)


def volume_by_field_and_support_type(session: Session, period: Period) -> dict[tuple[str, str | None], int]:
    """Tickets received, by (field, support type): the split the hotline publishes."""
    rows = session.execute(
        select(Ticket.field, Ticket.support_type, func.count())
        .where(*_received_in(period))
        .group_by(Ticket.field, Ticket.support_type)
    )
    return {(f, s): n for f, s, n in rows}


def sla_compliance(session: Session, period: Period, now: datetime) -> Compliance:
    met, breached = session.execute(
        select(_count_if(_met()), _count_if(_breached(now))).where(*_received_in(period))
    ).one()
    return Compliance(met=int(met), breached=int(breached))


@dataclass(frozen=True)
class DayFigures:
    day: str  # YYYY-MM-DD, local
    received: int
    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        return percent(self.met, self.met + self.breached)


def daily(session: Session, period: Period, now: datetime) -> list[DayFigures]:
    """Per local day of receipt: volume and SLA outcome (the charts). Every day of the period, zeros too."""
    bucket = _local_bucket(session, Ticket.created_at, period, "day").label("day")
    rows = session.execute(
        select(bucket, func.count(), _count_if(_met()), _count_if(_breached(now)))
        .where(*_received_in(period))
        .group_by(bucket)
    )
    found = {_bucket_key(day, "day"): (int(n), int(m), int(b)) for day, n, m, b in rows}
    return [DayFigures(f"{d:%Y-%m-%d}", *found.get(f"{d:%Y-%m-%d}", (0, 0, 0))) for d in period.days()]


@dataclass(frozen=True)
class MonthFigures:
    month: str  # YYYY-MM, local
    received: int
    by_support_type: dict[str | None, int]
    finished: int
    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        return percent(self.met, self.met + self.breached)


def monthly(
    session: Session, period: Period, now: datetime, support_types: tuple[str, ...]
) -> list[MonthFigures]:
    """The monthly report: volume, the support-type split and SLA compliance per month of receipt."""
    bucket = _local_bucket(session, Ticket.created_at, period, "month").label("month")
    known = list(support_types)
    per_type = [_count_if(Ticket.support_type == key) for key in known]
    unknown = _count_if(or_(Ticket.support_type.is_(None), Ticket.support_type.not_in(known or [""])))
    rows = session.execute(
        select(
            bucket,
            func.count(),
            _count_if(Ticket.status.in_(FINISHED_STATUSES)),
            _count_if(_met()),
            _count_if(_breached(now)),
            unknown,
            *per_type,
        )
        .where(*_received_in(period))
        .group_by(bucket)
    )
    found: dict[str, MonthFigures] = {}
    for month, received, finished, met, breached, other, *counts in rows:
        split: dict[str | None, int] = {key: int(n) for key, n in zip(known, counts, strict=True)}
        split[None] = int(other)
        key = _bucket_key(month, "month")
        found[key] = MonthFigures(key, int(received), split, int(finished), int(met), int(breached))
    empty: dict[str | None, int] = {**dict.fromkeys(known, 0), None: 0}
    return [found.get(m) or MonthFigures(m, 0, dict(empty), 0, 0, 0) for m in period.months()]


@dataclass(frozen=True)
class Durations:
    """Seconds; None when no ticket of the period has the measure."""

    count: int
    median: float | None
    p90: float | None


def _percentiles(session: Session, seconds: ColumnElement[float], conditions: list[Any]) -> Durations:
    if _dialect(session) == "postgresql":
        count, median, p90 = session.execute(
            select(
                func.count(seconds),
                func.percentile_cont(0.5).within_group(seconds),
                func.percentile_cont(0.9).within_group(seconds),
            ).where(*conditions)
        ).one()
        return Durations(int(count), _round(median), _round(p90))
    # SQLite has no percentile: count, then read the two neighbouring ranks with an ordered OFFSET query.
    count = int(session.scalar(select(func.count(seconds)).where(*conditions)) or 0)
    return Durations(
        count,
        _rank_value(session, seconds, conditions, count, 0.5),
        _rank_value(session, seconds, conditions, count, 0.9),
    )


def _rank_value(
    session: Session, seconds: ColumnElement[float], conditions: list[Any], count: int, fraction: float
) -> float | None:
    if count == 0:
        return None
    position = fraction * (count - 1)
    lower = math.floor(position)
    values = session.scalars(
        select(seconds).where(*conditions).order_by(seconds).limit(2).offset(lower)
    ).all()
    low = float(values[0])
    high = float(values[1]) if len(values) > 1 else low
    return _round(low + (high - low) * (position - lower))


def _round(value: Any) -> float | None:
    return None if value is None else round(float(value), 1)


def time_to_first_callback(session: Session, period: Period) -> Durations:
    seconds = _seconds_between(session, Ticket.first_attempt_at, Ticket.created_at)
    return _percentiles(session, seconds, [*_received_in(period), Ticket.first_attempt_at.is_not(None)])


def time_to_close(session: Session, period: Period) -> Durations:
    seconds = _seconds_between(session, _finished_at(), Ticket.created_at)
    return _percentiles(
        session,
        seconds,
        [*_received_in(period), Ticket.status.in_(FINISHED_STATUSES), _finished_at().is_not(None)],
    )


def escalations_by_level(session: Session, period: Period) -> dict[int, int]:
    """Alerts that fell due in the period, by level (0 warning, 1 breach, 2 …)."""
    query = (
        select(Escalation.level, func.count())
        .where(Escalation.due_at >= period.start, Escalation.due_at < period.end)
        .group_by(Escalation.level)
        .order_by(Escalation.level)
    )
    if period.field:
        query = query.join(Ticket, Ticket.id == Escalation.ticket_id).where(Ticket.field == period.field)
    return {int(level): int(n) for level, n in session.execute(query)}


@dataclass(frozen=True)
class Unreached:
    attempts_by_outcome: dict[str, int]
    tickets_notified: int  # tickets whose company got the "we could not reach you" message

    @property
    def unreached_attempts(self) -> int:
        return sum(n for outcome, n in self.attempts_by_outcome.items() if outcome != Outcome.REACHED)


def unreached_callbacks(session: Session, period: Period) -> Unreached:
    attempts = (
        select(CallbackAttempt.outcome, func.count())
        .where(CallbackAttempt.at >= period.start, CallbackAttempt.at < period.end)
        .group_by(CallbackAttempt.outcome)
    )
    if period.field:
        attempts = attempts.join(Ticket, Ticket.id == CallbackAttempt.ticket_id).where(
            Ticket.field == period.field
        )
    by_outcome = {str(outcome): int(n) for outcome, n in session.execute(attempts)}
    notified = session.scalar(
        select(func.count()).where(*_received_in(period), Ticket.unreached_notified_at.is_not(None))
    )
    return Unreached(by_outcome, int(notified or 0))


@dataclass(frozen=True)
class Report:
    period: Period
    received: int
    by_field_and_support_type: dict[tuple[str, str | None], int]
    compliance: Compliance
    first_callback: Durations
    close: Durations
    escalations: dict[int, int]
    unreached: Unreached
    days: list[DayFigures] = field(default_factory=list)
    months: list[MonthFigures] = field(default_factory=list)

    def by_field(self) -> dict[str, int]:
        totals: dict[str, int] = {}
        for (field_key, _), n in self.by_field_and_support_type.items():
            totals[field_key] = totals.get(field_key, 0) + n
        return totals

    def by_support_type(self) -> dict[str | None, int]:
        totals: dict[str | None, int] = {}
        for (_, support_type), n in self.by_field_and_support_type.items():
            totals[support_type] = totals.get(support_type, 0) + n
        return totals


def build_report(session: Session, period: Period, now: datetime, support_types: tuple[str, ...]) -> Report:
    split = volume_by_field_and_support_type(session, period)
    days = daily(session, period, now)
    return Report(
        period=period,
        received=sum(split.values()),
        by_field_and_support_type=split,
        # The period's compliance is the sum of its days': one scan fewer than sla_compliance().
        compliance=Compliance(met=sum(d.met for d in days), breached=sum(d.breached for d in days)),
        first_callback=time_to_first_callback(session, period),
        close=time_to_close(session, period),
        escalations=escalations_by_level(session, period),
        unreached=unreached_callbacks(session, period),
        days=days,
        months=monthly(session, period, now, support_types),
    )
