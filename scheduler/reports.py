"""The numbers a hotline reports, over a period and optionally one field.

Every count of tickets (volume, support types, finished, SLA outcome, unreached notices, how many have each
duration) is a sum of the daily roll-up (scheduler/rollup.py: stored rows for days untouched since its
watermark, live aggregates for the others), so a year costs a few thousand small rows, exact right after
any change. What the roll-up cannot hold is read live, each an aggregate through an index: open tickets
past their deadline (their outcome depends on the time of the report), alerts by the day they fell due,
callback attempts by the day they were made, and the exact percentiles, which sort the period's durations.

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
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, select, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from scheduler import rollup
from scheduler.rollup import FINISHED_STATUSES
from tickets.models import OPEN_STATUSES, Outcome, Ticket

__all__ = ["FINISHED_STATUSES", "Period", "build_report"]  # FINISHED_STATUSES: scheduler/exports.py


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
        return rollup.midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return rollup.midnight(self.last + timedelta(days=1), self.zone)

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


def _seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[Any]:
    if _dialect(session) == "postgresql":
        # date_part is double precision; extract() has returned numeric since PostgreSQL 14, slower to sort.
        return func.date_part("epoch", later - earlier)
    return (func.julianday(later) - func.julianday(earlier)) * 86400.0


def _received_in(period: Period) -> list[ColumnElement[bool]]:
    conditions = [Ticket.created_at >= period.start, Ticket.created_at < period.end]
    if period.field:
        conditions.append(Ticket.field == period.field)
    return conditions


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


def open_past_deadline(session: Session, period: Period, now: datetime) -> dict[date, int]:
    """Open tickets of the period already past their deadline, by local day of receipt.

    Breached as of `now`, so never stored in the roll-up. Every open ticket past its deadline is read
    through the (status, sla_due_at) index (the overdue part of the backlog: few) and the period is applied
    here: with the created_at range in SQL, PostgreSQL's generic plan for the prepared statement reads the
    whole period through the created_at index instead (55 ms for a year at 1,000,000 tickets, not 2).
    """
    query = select(Ticket.created_at).where(Ticket.status.in_(OPEN_STATUSES), Ticket.sla_due_at <= now)
    if period.field:
        query = query.where(Ticket.field == period.field)
    start, end, zone = period.start, period.end, period.zone
    found: dict[date, int] = {}
    for created in session.scalars(query):
        if start <= created < end:
            day = created.astimezone(zone).date()
            found[day] = found.get(day, 0) + 1
    return found


def volume_by_field_and_support_type(session: Session, period: Period) -> dict[tuple[str, str | None], int]:
    """Tickets received, by (field, support type): the split the hotline publishes."""
    return rollup.period_counts(session, period).split


def sla_compliance(session: Session, period: Period, now: datetime) -> Compliance:
    total = rollup.period_counts(session, period).total()
    late = sum(open_past_deadline(session, period, now).values())
    return Compliance(met=total.met, breached=total.breached + late)


@dataclass(frozen=True)
class DayCounts:
    """Everything counted per local day of receipt."""

    received: int
    finished: int
    met: int
    breached: int
    notified: int  # tickets whose company got the "we could not reach you" message
    by_support_type: dict[str | None, int]  # None: no or an unknown support type


def _day_counts(counts: rollup.PeriodCounts, late: dict[date, int]) -> dict[str, DayCounts]:
    """Per local day (YYYY-MM-DD) of receipt; days without tickets are absent."""
    return {
        f"{day:%Y-%m-%d}": DayCounts(
            tally.received,
            tally.finished,
            tally.met,
            tally.breached + late.get(day, 0),
            tally.notified,
            counts.day_support_types[day],
        )
        for day, tally in sorted(counts.days.items())
        if tally.received
    }


def day_counts(
    session: Session, period: Period, now: datetime, support_types: tuple[str, ...]
) -> dict[str, DayCounts]:
    """Per local day (YYYY-MM-DD) of receipt; days without tickets are absent."""
    counts = rollup.period_counts(session, period, support_types)
    return _day_counts(counts, open_past_deadline(session, period, now))


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
    return case((rollup.is_finished(), _seconds_between(session, rollup.finished_at(), Ticket.created_at)))


# Enough for PostgreSQL to sort five years of a busy hotline's durations in memory (about 24 bytes a value)
# instead of spilling to temporary files at the default 4 MB; only the report's transaction gets it.
SORT_MEMORY = "64MB"


def _durations(
    session: Session, period: Period, measures: list[ColumnElement[Any]], counts: list[int] | None = None
) -> list[Durations]:
    """Count, median and 90th percentile of each measure (NULLs left out) over the period's tickets.

    `counts`: how many tickets have each measure, when the caller knows (the roll-up does); the figures shown.
    The percentiles always come from the rows themselves.
    """
    conditions = _received_in(period)
    if _dialect(session) == "postgresql":
        # One scan for every measure; percentile_cont over an array sorts each measure once, and like
        # count() it leaves out the NULLs (tickets without the measure).
        session.execute(text(f"SET LOCAL work_mem = '{SORT_MEMORY}'"))
        fractions = postgresql.array([0.5, 0.9])
        columns: list[Any] = [func.percentile_cont(fractions).within_group(seconds) for seconds in measures]
        if counts is None:
            columns += [func.count(seconds) for seconds in measures]
        row = session.execute(select(*columns).where(*conditions)).one()
        results = []
        for values, count in zip(row[: len(measures)], counts or row[len(measures) :], strict=True):
            median, p90 = values if values else (None, None)
            results.append(Durations(int(count), _round(median), _round(p90)))
        return results
    # SQLite has no percentile: count, then read the two neighbouring ranks with an ordered OFFSET query.
    results = []
    for index, seconds in enumerate(measures):
        present = [*conditions, seconds.is_not(None)]
        # The ranks come from the rows read here, never from a roll-up's count, which may be stale.
        ranked = int(session.scalar(select(func.count(seconds)).where(*present)) or 0)
        count = ranked if counts is None else counts[index]
        results.append(
            Durations(
                count,
                _rank_value(session, seconds, present, ranked, 0.5),
                _rank_value(session, seconds, present, ranked, 0.9),
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
    return rollup.alerts_by_level(session, period)


@dataclass(frozen=True)
class Unreached:
    attempts_by_outcome: dict[str, int]
    tickets_notified: int  # tickets whose company got the "we could not reach you" message

    @property
    def unreached_attempts(self) -> int:
        return sum(n for outcome, n in self.attempts_by_outcome.items() if outcome != Outcome.REACHED)


def attempts_by_outcome(session: Session, period: Period) -> dict[str, int]:
    """Callback attempts made in the period, by outcome."""
    return rollup.attempts_by_outcome(session, period)


def unreached_callbacks(session: Session, period: Period) -> Unreached:
    notified = rollup.period_counts(session, period).total().notified
    return Unreached(attempts_by_outcome(session, period), notified)


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
    period_counts = rollup.period_counts(session, period, support_types)
    total = period_counts.total()
    counts = _day_counts(period_counts, open_past_deadline(session, period, now))
    split = period_counts.split
    first_callback, close = _durations(
        session,
        period,
        [_first_callback_seconds(session), _close_seconds(session)],
        counts=[total.called_back, total.timed_close],
    )
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
        unreached=Unreached(attempts_by_outcome(session, period), total.notified),
        days=_days(period, counts),
        months=_months(period, counts, support_types),
    )
