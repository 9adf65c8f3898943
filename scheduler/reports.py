"""The numbers a hotline reports, over a period and optionally one field, as SQL aggregates.

Every figure is an aggregate answered by the database through an index on the period's column
(tickets.created_at, escalations.due_at, callback_attempts.at); no ticket row is loaded into Python, so a
report over a million tickets costs what the database's aggregate costs. A whole report reads the period's
tickets three times, each an index-only scan of the covering report indexes on PostgreSQL: one pass counts
everything per day (volume, support types, finished, SLA outcome, unreached notices; the months and the
period's totals are sums of its days), one splits by field x support type, one sorts the two durations for
their exact percentiles.

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

from sqlalchemy import ColumnElement, DateTime, and_, bindparam, case, func, or_, select, text, true
from sqlalchemy.dialects import postgresql
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
        # date_part is double precision; extract() has returned numeric since PostgreSQL 14, slower to sort.
        return func.date_part("epoch", later - earlier)
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
    return func.count().filter(condition)


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
class DayCounts:
    """Everything counted per local day of receipt, in one pass over the period's tickets."""

    received: int
    finished: int
    met: int
    breached: int
    notified: int  # tickets whose company got the "we could not reach you" message
    by_support_type: dict[str | None, int]  # None: no or an unknown support type


def _per_day_postgresql(session: Session, period: Period, columns: list[Any]) -> list[tuple[Any, ...]]:
    """One aggregate per local day, each an index range scan between that day's two midnights.

    Cheaper than GROUP BY a local-date expression: no time-zone conversion or hashing per row, and the
    days come from Python, so they are correct across any offset change.
    """
    starts = [datetime.combine(day, time(0), period.zone).astimezone(UTC) for day in period.days()]
    times = postgresql.ARRAY(DateTime(timezone=True))
    days = (
        func.unnest(
            bindparam("day_starts", starts, type_=times),
            bindparam("day_ends", [*starts[1:], period.end], type_=times),
        )
        .table_valued("day_start", "day_end")
        .render_derived(name="days")
    )
    conditions = [Ticket.created_at >= days.c.day_start, Ticket.created_at < days.c.day_end]
    if period.field:
        conditions.append(Ticket.field == period.field)
    figures = select(*columns).where(*conditions).lateral("figures")
    # The planner cannot know that a day holds a few hundredths of the period (it prices each day's scan
    # at 0.5% of the table), so a long period looks expensive enough to JIT-compile, which costs more than
    # the whole query. Only this transaction is affected.
    session.execute(text("SET LOCAL jit = off"))
    rows = session.execute(select(days.c.day_start, *figures.c).select_from(days).join(figures, true()))
    return [(f"{start.astimezone(period.zone):%Y-%m-%d}", *counts) for start, *counts in rows]


def day_counts(
    session: Session, period: Period, now: datetime, support_types: tuple[str, ...]
) -> dict[str, DayCounts]:
    """Per local day (YYYY-MM-DD) of receipt; days without tickets are absent."""
    known = list(support_types)
    columns: list[Any] = [
        func.count(),
        _count_if(Ticket.status.in_(FINISHED_STATUSES)),
        _count_if(_met()),
        _count_if(_breached(now)),
        func.count(Ticket.unreached_notified_at),
        _count_if(or_(Ticket.support_type.is_(None), Ticket.support_type.not_in(known or [""]))),
        *[_count_if(Ticket.support_type == key) for key in known],
    ]
    if _dialect(session) == "postgresql":
        rows = _per_day_postgresql(session, period, columns)
    else:
        bucket = _local_bucket(session, Ticket.created_at, period, "day").label("day")
        query = select(bucket, *columns).where(*_received_in(period)).group_by(bucket)
        rows = [(_bucket_key(day, "day"), *counts) for day, *counts in session.execute(query)]
    found: dict[str, DayCounts] = {}
    for day, received, finished, met, breached, notified, other, *per_type in rows:
        if not received:
            continue
        split: dict[str | None, int] = {key: int(n) for key, n in zip(known, per_type, strict=True)}
        split[None] = int(other)
        found[day] = DayCounts(int(received), int(finished), int(met), int(breached), int(notified), split)
    return found


@dataclass(frozen=True)
class DayFigures:
    day: str  # YYYY-MM-DD, local
    received: int
    met: int
    breached: int

    @property
    def compliance(self) -> float | None:
        return percent(self.met, self.met + self.breached)


def _days(period: Period, counts: dict[str, DayCounts]) -> list[DayFigures]:
    """Every day of the period, zeros too (the charts)."""
    figures = []
    for day in period.days():
        key = f"{day:%Y-%m-%d}"
        found = counts.get(key)
        figures.append(
            DayFigures(key, found.received, found.met, found.breached) if found else DayFigures(key, 0, 0, 0)
        )
    return figures


def daily(session: Session, period: Period, now: datetime) -> list[DayFigures]:
    """Per local day of receipt: volume and SLA outcome (the charts). Every day of the period, zeros too."""
    return _days(period, day_counts(session, period, now, ()))


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


def _months(
    period: Period, counts: dict[str, DayCounts], support_types: tuple[str, ...]
) -> list[MonthFigures]:
    """Each month of the period as the sum of its days (a day lies in exactly one month)."""
    figures = []
    for month in period.months():
        days = [c for day, c in counts.items() if day.startswith(month)]
        split: dict[str | None, int] = {**dict.fromkeys(support_types, 0), None: 0}
        for c in days:
            for key, n in c.by_support_type.items():
                split[key] = split.get(key, 0) + n
        figures.append(
            MonthFigures(
                month,
                sum(c.received for c in days),
                split,
                sum(c.finished for c in days),
                sum(c.met for c in days),
                sum(c.breached for c in days),
            )
        )
    return figures


def monthly(
    session: Session, period: Period, now: datetime, support_types: tuple[str, ...]
) -> list[MonthFigures]:
    """The monthly report: volume, the support-type split and SLA compliance per month of receipt."""
    return _months(period, day_counts(session, period, now, support_types), support_types)


@dataclass(frozen=True)
class Durations:
    """Seconds; None when no ticket of the period has the measure."""

    count: int
    median: float | None
    p90: float | None


def _first_callback_seconds(session: Session) -> ColumnElement[Any]:
    """NULL until the first attempt."""
    return _seconds_between(session, Ticket.first_attempt_at, Ticket.created_at)


def _close_seconds(session: Session) -> ColumnElement[Any]:
    """NULL unless the ticket is finished."""
    return case(
        (Ticket.status.in_(FINISHED_STATUSES), _seconds_between(session, _finished_at(), Ticket.created_at))
    )


def _durations(session: Session, period: Period, measures: list[ColumnElement[Any]]) -> list[Durations]:
    """Count, median and 90th percentile of each measure (NULLs left out) over the period's tickets."""
    conditions = _received_in(period)
    if _dialect(session) == "postgresql":
        # One scan for every measure; percentile_cont over an array sorts each measure once, and like
        # count() it leaves out the NULLs (tickets without the measure).
        fractions = postgresql.array([0.5, 0.9])
        columns: list[Any] = []
        for seconds in measures:
            columns += [func.count(seconds), func.percentile_cont(fractions).within_group(seconds)]
        row = session.execute(select(*columns).where(*conditions)).one()
        results = []
        for count, values in zip(row[::2], row[1::2], strict=True):
            median, p90 = values if values else (None, None)
            results.append(Durations(int(count), _round(median), _round(p90)))
        return results
    # SQLite has no percentile: count, then read the two neighbouring ranks with an ordered OFFSET query.
    results = []
    for seconds in measures:
        present = [*conditions, seconds.is_not(None)]
        count = int(session.scalar(select(func.count(seconds)).where(*present)) or 0)
        results.append(
            Durations(
                count,
                _rank_value(session, seconds, present, count, 0.5),
                _rank_value(session, seconds, present, count, 0.9),
            )
        )
    return results


def _rank_value(
    session: Session, seconds: ColumnElement[Any], conditions: list[Any], count: int, fraction: float
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
    return _durations(session, period, [_first_callback_seconds(session)])[0]


def time_to_close(session: Session, period: Period) -> Durations:
    return _durations(session, period, [_close_seconds(session)])[0]


def first_callback_and_close(session: Session, period: Period) -> tuple[Durations, Durations]:
    """Both durations; on PostgreSQL in one scan of the period (what a whole report runs)."""
    first, close = _durations(session, period, [_first_callback_seconds(session), _close_seconds(session)])
    return first, close


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


def attempts_by_outcome(session: Session, period: Period) -> dict[str, int]:
    """Callback attempts made in the period, by outcome."""
    attempts = (
        select(CallbackAttempt.outcome, func.count())
        .where(CallbackAttempt.at >= period.start, CallbackAttempt.at < period.end)
        .group_by(CallbackAttempt.outcome)
    )
    if period.field:
        attempts = attempts.join(Ticket, Ticket.id == CallbackAttempt.ticket_id).where(
            Ticket.field == period.field
        )
    return {str(outcome): int(n) for outcome, n in session.execute(attempts)}


def unreached_callbacks(session: Session, period: Period) -> Unreached:
    notified = session.scalar(
        select(func.count()).where(*_received_in(period), Ticket.unreached_notified_at.is_not(None))
    )
    return Unreached(attempts_by_outcome(session, period), int(notified or 0))


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
    counts = day_counts(session, period, now, support_types)
    split = volume_by_field_and_support_type(session, period)
    first_callback, close = first_callback_and_close(session, period)
    return Report(
        period=period,
        received=sum(split.values()),
        by_field_and_support_type=split,
        compliance=Compliance(
            met=sum(c.met for c in counts.values()), breached=sum(c.breached for c in counts.values())
        ),
        first_callback=first_callback,
        close=close,
        escalations=escalations_by_level(session, period),
        unreached=Unreached(attempts_by_outcome(session, period), sum(c.notified for c in counts.values())),
        days=_days(period, counts),
        months=_months(period, counts, support_types),
    )
