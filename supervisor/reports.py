"""The numbers a hotline reports, over a period and optionally one field, counted live.

A report reads the period's tickets once, a range of the created_at index (a busy year is about 25,000
rows), and counts them here; callback attempts and alerts are grouped in the database. Nothing is stored
beside the tickets, so a report is exact the moment anything changes, and one rule counts each figure on
SQLite and PostgreSQL alike.

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
from bisect import bisect_right
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets.models import OPEN_STATUSES, CallbackAttempt, Channel, Escalation, Outcome, Status, Ticket

FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED)


def finished_at(status: str, resolved_at: datetime | None, closed_at: datetime | None) -> datetime | None:
    """When a finished ticket was finished (resolved, else closed); None while it is not finished, a reopened
    one included, whose old times no longer count."""
    return (resolved_at or closed_at) if status in FINISHED_STATUSES else None


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


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
        return midnight(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """Exclusive: midnight after the last day."""
        return midnight(self.last + timedelta(days=1), self.zone)

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]

    def months(self) -> list[str]:
        months: list[str] = []
        day = self.first.replace(day=1)
        while day <= self.last:
            months.append(f"{day:%Y-%m}")
            day = (day + timedelta(days=32)).replace(day=1)
        return months


def percent(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 1) if whole else None


# --- the period's tickets, read once -----------------------------------------------------------------------


class Received(NamedTuple):
    """What a report needs of one ticket (the columns Ticket's report indexes cover).

    A tuple rather than a dataclass: a year's report makes one per ticket received.
    """

    day: date  # local day of receipt
    channel: str  # phone or web (tickets.models.Channel)
    field: str
    support_type: str | None
    created_at: datetime
    finished_at: datetime | None  # None while open
    sla_due_at: datetime | None
    open: bool
    first_attempt_at: datetime | None
    notified: bool  # the company got the "we could not reach you" message
    missed_call: bool = False  # no field chosen: judged by the missed-call target, not the 3-day one

    def met(self) -> bool:
        if self.finished_at is None or self.sla_due_at is None:
            return False
        return self.finished_at <= self.sla_due_at

    def breached(self, now: datetime) -> bool:
        """Finished after the deadline, or still open past it at `now`."""
        if self.sla_due_at is None:
            return False
        if self.finished_at is not None:
            return self.finished_at > self.sla_due_at
        return self.open and self.sla_due_at <= now


def received(session: Session, period: Period) -> list[Received]:
    query = select(
        Ticket.created_at,
        Ticket.channel,
        Ticket.field,
        Ticket.support_type,
        Ticket.status,
        Ticket.resolved_at,
        Ticket.closed_at,
        Ticket.sla_due_at,
        Ticket.first_attempt_at,
        Ticket.unreached_notified_at.is_not(None),
        Ticket.missed_call,
    ).where(Ticket.created_at >= period.start, Ticket.created_at < period.end)
    if period.field:
        query = query.where(Ticket.field == period.field)
    days = period.days()
    # The local day of receipt is the last day whose local midnight is not after the ticket's creation:
    # the same midnights that bound the period, found by bisection rather than converting each ticket.
    midnights = [midnight(day, period.zone) for day in days]
    # Plain rows through the session's connection: the ORM's row processing is no use for columns.
    rows = session.connection().execute(query)
    return [
        Received(  # positional, in the order of Received's fields
            days[bisect_right(midnights, created_at) - 1],
            channel,
            field_key,
            support_type or None,
            created_at,
            finished_at(status, resolved_at, closed_at),
            sla_due_at,
            status in OPEN_STATUSES,
            first_attempt_at,
            notified,
            missed_call,
        )
        for (
            created_at,
            channel,
            field_key,
            support_type,
            status,
            resolved_at,
            closed_at,
            sla_due_at,
            first_attempt_at,
            notified,
            missed_call,
        ) in rows
    ]


def _split(tickets: Sequence[Received]) -> dict[tuple[str, str | None], int]:
    return dict(Counter((t.field, t.support_type) for t in tickets))


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


def _compliance(tickets: Sequence[Received], now: datetime) -> Compliance:
    """The 3-day figures: requests only. A missed call is not a request and has its own target."""
    met = breached = 0
    for t in tickets:
        if not t.missed_call:
            met += t.met()
            breached += t.breached(now)
    return Compliance(met, breached)


@dataclass(frozen=True)
class MissedCalls:
    """Calls that ended before a field was chosen, and whether they were called back within their target
    ("call back within 1 working day", stored as the ticket's sla_due_at)."""

    received: int
    called_back_in_time: int
    late: int  # called back after the target, or not yet and the target has passed


def _missed_calls(tickets: Sequence[Received], now: datetime) -> MissedCalls:
    missed = [t for t in tickets if t.missed_call]

    def in_time(t: Received) -> bool:
        return (
            t.first_attempt_at is not None and t.sla_due_at is not None and t.first_attempt_at <= t.sla_due_at
        )

    def late(t: Received) -> bool:
        if t.sla_due_at is None or in_time(t):
            return False
        return t.first_attempt_at is not None or t.sla_due_at <= now

    return MissedCalls(len(missed), sum(in_time(t) for t in missed), sum(late(t) for t in missed))


@dataclass(frozen=True)
class ChannelFigures:
    """Received and SLA outcome of the tickets that came in one way (by phone, on the web)."""

    received: int
    compliance: Compliance


def _by_channel(tickets: Sequence[Received], now: datetime) -> dict[str, ChannelFigures]:
    """Every channel, zeros too: a report that shows no web row cannot tell "none" from "not counted"."""
    return {
        channel.value: ChannelFigures(len(mine), _compliance(mine, now))
        for channel in Channel
        for mine in [[t for t in tickets if t.channel == channel]]
    }


def volume_by_field_and_support_type(session: Session, period: Period) -> dict[tuple[str, str | None], int]:
    """Tickets received, by (field, support type): the split the hotline publishes."""
    return _split(received(session, period))


def sla_compliance(session: Session, period: Period, now: datetime) -> Compliance:
    return _compliance(received(session, period), now)


@dataclass(frozen=True)
class DayCounts:
    """Everything counted per local day of receipt."""

    received: int
    finished: int
    met: int
    breached: int
    notified: int  # tickets whose company got the "we could not reach you" message
    by_support_type: dict[str | None, int]  # None: no or an unknown support type


def _day_counts(
    tickets: Sequence[Received], now: datetime, support_types: Sequence[str]
) -> dict[str, DayCounts]:
    """Per local day (YYYY-MM-DD) of receipt; days without tickets are absent."""
    by_day: dict[date, list[Received]] = {}
    for t in tickets:
        by_day.setdefault(t.day, []).append(t)
    counts = {}
    for day, on_day in sorted(by_day.items()):
        split: dict[str | None, int] = {**dict.fromkeys(support_types, 0), None: 0}
        for t in on_day:
            key = t.support_type if t.support_type in support_types else None
            split[key] += 1
        compliance = _compliance(on_day, now)
        counts[f"{day:%Y-%m-%d}"] = DayCounts(
            received=len(on_day),
            finished=sum(t.finished_at is not None for t in on_day),
            met=compliance.met,
            breached=compliance.breached,
            notified=sum(t.notified for t in on_day),
            by_support_type=split,
        )
    return counts


def day_counts(
    session: Session, period: Period, now: datetime, support_types: tuple[str, ...]
) -> dict[str, DayCounts]:
    """Per local day (YYYY-MM-DD) of receipt; days without tickets are absent."""
    return _day_counts(received(session, period), now, support_types)


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

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Durations:
        ordered = sorted(seconds)
        return cls(len(ordered), _percentile(ordered, 0.5), _percentile(ordered, 0.9))


def _percentile(ordered: Sequence[float], fraction: float) -> float | None:
    """Linear interpolation between the two neighbouring ranks, as PostgreSQL's percentile_cont."""
    if not ordered:
        return None
    position = fraction * (len(ordered) - 1)
    lower = math.floor(position)
    low = ordered[lower]
    high = ordered[min(lower + 1, len(ordered) - 1)]
    return round(low + (high - low) * (position - lower), 1)


def _first_callback(tickets: Sequence[Received]) -> Durations:
    return Durations.of(
        [(t.first_attempt_at - t.created_at).total_seconds() for t in tickets if t.first_attempt_at]
    )


def _close(tickets: Sequence[Received]) -> Durations:
    return Durations.of([(t.finished_at - t.created_at).total_seconds() for t in tickets if t.finished_at])


def time_to_first_callback(session: Session, period: Period) -> Durations:
    return _first_callback(received(session, period))


def time_to_close(session: Session, period: Period) -> Durations:
    return _close(received(session, period))


def _grouped(session: Session, period: Period, model: Any, at: Any, key: Any) -> dict[Any, int]:
    """Rows of `model` whose `at` falls in the period (on tickets of its field, if any), counted by `key`."""
    query = select(key, func.count()).where(at >= period.start, at < period.end).group_by(key)
    if period.field:
        query = query.join(Ticket, Ticket.id == model.ticket_id).where(Ticket.field == period.field)
    return {found: int(n) for found, n in session.execute(query)}


def escalations_by_level(session: Session, period: Period) -> dict[int, int]:
    """Alerts that fell due in the period, by level (0 warning, 1 breach, 2 …)."""
    found = _grouped(session, period, Escalation, Escalation.due_at, Escalation.level)
    return {int(level): n for level, n in sorted(found.items())}


@dataclass(frozen=True)
class Unreached:
    attempts_by_outcome: dict[str, int]
    tickets_notified: int  # tickets whose company got the "we could not reach you" message

    @property
    def unreached_attempts(self) -> int:
        return sum(n for outcome, n in self.attempts_by_outcome.items() if outcome != Outcome.REACHED)


def attempts_by_outcome(session: Session, period: Period) -> dict[str, int]:
    """Callback attempts made in the period, by outcome."""
    return _grouped(session, period, CallbackAttempt, CallbackAttempt.at, CallbackAttempt.outcome)


def unreached_callbacks(session: Session, period: Period) -> Unreached:
    notified = sum(t.notified for t in received(session, period))
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
    missed_calls: MissedCalls = MissedCalls(0, 0, 0)
    by_channel: dict[str, ChannelFigures] = field(default_factory=dict)
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
    tickets = received(session, period)
    counts = _day_counts(tickets, now, support_types)
    return Report(
        period=period,
        received=len(tickets),
        by_field_and_support_type=_split(tickets),
        compliance=_compliance(tickets, now),
        first_callback=_first_callback(tickets),
        close=_close(tickets),
        escalations=escalations_by_level(session, period),
        unreached=Unreached(attempts_by_outcome(session, period), sum(t.notified for t in tickets)),
        missed_calls=_missed_calls(tickets, now),
        by_channel=_by_channel(tickets, now),
        days=_days(period, counts),
        months=_months(period, counts, support_types),
    )
