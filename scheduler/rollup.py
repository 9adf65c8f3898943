"""Daily roll-ups of what period reports count, exact without touching the code that writes tickets.

Three tables hold, per local day x field, what a report adds up: report_days the tickets received that day
(by support type: volume, finished, met, breached after finishing, unreached notices, how many have each
duration), report_attempt_days the callback attempts made that day (by outcome), report_alert_days the SLA
alerts that fell due that day (by level). The code that files and changes tickets never writes them. A
scheduled job (`refresh`) recomputes the days whose tickets, attempts or alerts changed; a report takes the
stored rows only of days where nothing changed since the watermark, and counts the other days live from the
source tables. So a report is exact right after any change, and a year costs a few thousand stored rows
plus the few days touched since the last refresh.

Why the watermark holds. Every writer of a ticket stamps updated_at with the current time (the ORM's
onupdate, or the request's clock); logging an attempt and raising an alert update their ticket in the same
transaction; new rows get new ids; nothing is deleted. The refresh takes its watermark before it counts
anything: the largest committed ids, and the earliest of its clock and the start of any other open
transaction in the database (PostgreSQL; on SQLite every transaction begins IMMEDIATE, so none is open
beside it), less CLOCK_MARGIN for other hosts' clocks and for a request that read its clock just before
its transaction began. A change the refresh did not see therefore has a later stamp on its ticket or a
later id, and makes its day dirty. A row inserted with an old stamp (history imported, the demo) is caught
by its id; a field changed by triage dirties every day of that ticket. If tickets were ever deleted or
edited behind the ORM, `refresh(..., rebuild=True)` starts over.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import (
    ColumnElement,
    Date,
    DateTime,
    Select,
    and_,
    bindparam,
    delete,
    func,
    insert,
    literal_column,
    select,
    text,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tickets.models import (
    CallbackAttempt,
    Escalation,
    ReportAlertDay,
    ReportAttemptDay,
    ReportDay,
    ReportRollup,
    Status,
    Ticket,
)

if TYPE_CHECKING:
    from scheduler.reports import Period

RowsQuery = Select[*tuple[Any, ...]]
FINISHED_STATUSES = (Status.RESOLVED, Status.CLOSED)
CLOCK_MARGIN = timedelta(minutes=5)
# Days a refresh adds to a roll-up still being built, newest first, so that no transaction runs long
# (on SQLite it holds the write lock); the days not built yet are counted live meanwhile.
BUILD_DAYS = 92
STATE_ID = 1
ALL_DAYS = date.min  # ReportRollup.built_from once every day is built
NO_SUPPORT_TYPE = ""  # report_days.support_type of tickets without one


# --- what is counted ---------------------------------------------------------------------------------------


def finished_at() -> ColumnElement[datetime]:
    return func.coalesce(Ticket.resolved_at, Ticket.closed_at)


def is_finished() -> ColumnElement[bool]:
    return Ticket.status.in_(FINISHED_STATUSES)


def met() -> ColumnElement[bool]:
    return and_(is_finished(), finished_at() <= Ticket.sla_due_at)


def breached_after_finishing() -> ColumnElement[bool]:
    return and_(is_finished(), finished_at() > Ticket.sla_due_at)


def count_if(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.count().filter(condition)


COUNTS = ("received", "finished", "met", "breached", "notified", "called_back", "timed_close")


def _ticket_counts() -> list[ColumnElement[Any]]:
    """In the order of COUNTS."""
    return [
        func.count(),
        count_if(is_finished()),
        count_if(met()),
        count_if(breached_after_finishing()),
        func.count(Ticket.unreached_notified_at),
        func.count(Ticket.first_attempt_at),
        count_if(and_(is_finished(), finished_at().is_not(None))),
    ]


@dataclass(frozen=True)
class DayRow:
    """The ticket counts of one local day x field x support type (None: no support type)."""

    day: date
    field: str
    support_type: str | None
    received: int
    finished: int
    met: int
    breached: int  # finished after the deadline; open tickets past it are the reports' to count, live
    notified: int
    called_back: int
    timed_close: int


class KeyedCount(NamedTuple):
    """Attempts of one local day x field x outcome, or alerts of one day x field x level."""

    day: date
    field: str
    key: Any  # outcome (str) or level (int)
    n: int


# --- counting straight from the source tables --------------------------------------------------------------


def midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), zone).astimezone(UTC)


def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _per_day(
    session: Session, days: Sequence[date], timezone: str, query: Callable[[Any, Any], RowsQuery]
) -> list[tuple[Any, ...]]:
    """The rows of `query(start, end)` for each local day, each prefixed by its day.

    Each day is an index range scan between its two midnights, which come from Python, so they are right
    across any change of the zone's offset; no row is converted to local time.
    """
    if not days:
        return []
    zone = ZoneInfo(timezone)
    starts = [midnight(day, zone) for day in days]
    ends = [midnight(day + timedelta(days=1), zone) for day in days]
    if _dialect(session) != "postgresql":
        return [
            (day, *row)
            for day, start, end in zip(days, starts, ends, strict=True)
            for row in session.execute(query(start, end))
        ]
    times = postgresql.ARRAY(DateTime(timezone=True))
    bounds = (
        func.unnest(
            bindparam("days", list(days), type_=postgresql.ARRAY(Date())),
            bindparam("day_starts", starts, type_=times),
            bindparam("day_ends", ends, type_=times),
        )
        .table_valued("day", "day_start", "day_end")
        .render_derived(name="days")
    )
    counts = query(bounds.c.day_start, bounds.c.day_end).lateral("counts")
    # The planner prices each day's scan at 0.5% of the table, so a long list of days looks expensive
    # enough to JIT-compile, which costs more than the whole query. Only this transaction is affected.
    session.execute(text("SET LOCAL jit = off"))
    return [tuple(row) for row in session.execute(select(bounds.c.day, *counts.c).join(counts, true()))]


def count_ticket_days(
    session: Session, days: Sequence[date], timezone: str, field_key: str | None = None
) -> list[DayRow]:
    # A literal, not a parameter: PostgreSQL matches the GROUP BY expression to the selected one by its text.
    support_type = func.coalesce(Ticket.support_type, literal_column("''"))
    only_field = [Ticket.field == field_key] if field_key else []

    def query(start: Any, end: Any) -> RowsQuery:
        return (
            select(Ticket.field, support_type, *_ticket_counts())
            .where(Ticket.created_at >= start, Ticket.created_at < end, *only_field)
            .group_by(Ticket.field, support_type)
        )

    return [
        DayRow(day, row_field, type_key or None, *(int(n) for n in counts))
        for day, row_field, type_key, *counts in _per_day(session, days, timezone, query)
    ]


def _field_of(ticket_id: Any) -> Any:
    """The field of the ticket, looked up by its primary key for each row: a day's few hundred lookups.

    Not a join: the planner prices a day's rows at 0.5% of the table and would hash-join them to a
    sequential scan of every ticket, once per day.
    """
    return select(Ticket.field).where(Ticket.id == ticket_id).scalar_subquery()


@dataclass(frozen=True)
class KeyedSource:
    """Rows counted per day x field x key: callback attempts by outcome, or SLA alerts by level."""

    model: type[CallbackAttempt] | type[Escalation]
    at: Any  # the moment that places a row on its day
    key: Any
    last_id: str  # the Watermark attribute holding the largest id already counted
    table: type[ReportAttemptDay] | type[ReportAlertDay]  # where the refresh stores the counts
    stored_key: Any
    stored_count: Any

    def stored_row(self, row: KeyedCount) -> dict[str, Any]:
        return {
            "day": row.day,
            "field": row.field,
            self.stored_key.key: row.key,
            self.stored_count.key: row.n,
        }


ATTEMPTS = KeyedSource(
    CallbackAttempt,
    CallbackAttempt.at,
    CallbackAttempt.outcome,
    "last_attempt_id",
    ReportAttemptDay,
    ReportAttemptDay.outcome,
    ReportAttemptDay.attempts,
)
ALERTS = KeyedSource(
    Escalation,
    Escalation.due_at,
    Escalation.level,
    "last_alert_id",
    ReportAlertDay,
    ReportAlertDay.level,
    ReportAlertDay.alerts,
)


def count_keyed_days(
    session: Session,
    source: KeyedSource,
    days: Sequence[date],
    timezone: str,
    field_key: str | None = None,
    *,
    by_field: bool = True,
) -> list[KeyedCount]:
    """`source`'s rows per day x field x key, of `field_key`'s tickets (by_field=False: all fields together,
    field "", which is cheaper)."""
    field_of = _field_of(source.model.ticket_id)
    only_field = [field_of == field_key] if field_key else []
    ticket_field = field_of.label("ticket_field") if by_field else literal_column("''").label("ticket_field")

    def query(start: Any, end: Any) -> RowsQuery:
        group = [ticket_field, source.key] if by_field else [source.key]
        return (
            select(ticket_field, source.key, func.count().label("n"))
            .where(source.at >= start, source.at < end, *only_field)
            .group_by(*group)
        )

    return [KeyedCount(*row) for row in _per_day(session, days, timezone, query)]


# --- which days are dirty ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Watermark:
    timezone: str
    generation: int
    built_from: date
    clean_before: datetime
    last_ticket_id: int
    last_attempt_id: int
    last_alert_id: int

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _watermark(session: Session) -> Watermark | None:
    state = session.get(ReportRollup, STATE_ID, populate_existing=True)
    if state is None or state.built_from is None or state.clean_before is None:
        return None
    return Watermark(
        state.timezone,
        state.generation,
        state.built_from,
        state.clean_before,
        state.last_ticket_id,
        state.last_attempt_id,
        state.last_alert_id,
    )


def _stored_from(mark: Watermark) -> datetime | None:
    """Where the stored days begin; None: from the beginning."""
    return None if mark.built_from == ALL_DAYS else midnight(mark.built_from, mark.zone)


def _local_days(
    session: Session,
    query: RowsQuery,
    zone: ZoneInfo,
    start: datetime | None,
    end: datetime | None,
) -> set[date]:
    """The local days of the moments `query` finds, those in [start, end) only.

    The range is applied here, not in SQL: the moments are few (what changed since the watermark), and a
    range with bound parameters would tempt PostgreSQL, once the statement is prepared, into a generic plan
    that reads the whole range through the created_at index instead of the few changes through theirs.
    """
    return {
        moment.astimezone(zone).date()
        for moment in session.scalars(query)
        if (start is None or moment >= start) and (end is None or moment < end)
    }


def _changed_tickets(mark: Watermark) -> ColumnElement[bool]:
    return Ticket.updated_at > mark.clean_before


def dirty_ticket_days(
    session: Session, mark: Watermark, start: datetime | None, end: datetime | None
) -> set[date]:
    """Days of receipt in [start, end) with a ticket filed or changed since the watermark, in any field (a
    ticket moved to another field leaves its old field's row wrong too)."""
    query = union_all(
        select(Ticket.created_at).where(_changed_tickets(mark)),
        select(Ticket.created_at).where(Ticket.id > mark.last_ticket_id),
    )
    return _local_days(session, select(query.subquery().c.created_at), mark.zone, start, end)


def dirty_keyed_days(
    session: Session, source: KeyedSource, mark: Watermark, start: datetime | None, end: datetime | None
) -> set[date]:
    """Days in [start, end) with a row of `source` added since the watermark, or one of a changed ticket."""
    query = union_all(
        select(source.at.label("at")).where(source.model.id > getattr(mark, source.last_id)),
        select(source.at.label("at"))
        .join(Ticket, Ticket.id == source.model.ticket_id)
        .where(_changed_tickets(mark)),
    )
    return _local_days(session, select(query.subquery().c.at), mark.zone, start, end)


# --- what the reports read ---------------------------------------------------------------------------------


@dataclass
class Tally:
    """Ticket counts that add up (see DayRow)."""

    received: int = 0
    finished: int = 0
    met: int = 0
    breached: int = 0
    notified: int = 0
    called_back: int = 0
    timed_close: int = 0

    def add(self, counts: Sequence[Any]) -> None:
        for name, n in zip(COUNTS, counts, strict=True):
            setattr(self, name, getattr(self, name) + int(n or 0))


@dataclass
class PeriodCounts:
    """A period's ticket counts per local day, and its volume per field x support type (None: none)."""

    days: dict[date, Tally] = field(default_factory=dict)
    # Tickets received per day by support type; None: none, or one not among the support types asked for.
    day_support_types: dict[date, dict[str | None, int]] = field(default_factory=dict)
    split: dict[tuple[str, str | None], int] = field(default_factory=dict)

    def total(self) -> Tally:
        total = Tally()
        for tally in self.days.values():
            total.add([getattr(tally, name) for name in COUNTS])
        return total

    def add_day(self, day: date, counts: Sequence[Any], by_type: dict[str | None, int]) -> None:
        self.days.setdefault(day, Tally()).add(counts)
        split = self.day_support_types.setdefault(day, {})
        for key, n in by_type.items():
            split[key] = split.get(key, 0) + n

    def add_split(self, field_key: str, support_type: str | None, n: int) -> None:
        self.split[(field_key, support_type)] = self.split.get((field_key, support_type), 0) + n


def _stored_and_live_days(
    session: Session,
    period: Period,
    dirty_days: Callable[[Session, Watermark, datetime | None, datetime | None], set[date]],
    read_stored: Callable[[list[date]], list[Any]],
) -> tuple[list[Any], list[date]]:
    """The stored rows read for the period's clean days, and the days to count live (the others).

    Order matters. The watermark is read first, then the days changed since it, then the stored rows of the
    other days: whichever refresh wrote those rows counted every change committed before its snapshot, and
    a change committed after any refresh's snapshot has a stamp or id past that refresh's watermark (see the
    module docstring), so past this one too, and made its day dirty here. Only emptying the tables for a
    rebuild breaks this; then the generation changes and the rows are read again.
    """
    while True:
        mark = _watermark(session)
        if mark is None or mark.timezone != period.timezone:
            return [], period.days()
        unbuilt = [day for day in period.days() if day < mark.built_from]
        stored_from = _stored_from(mark)
        dirty = dirty_days(session, mark, max(period.start, stored_from or period.start), period.end)
        live_days = sorted({*unbuilt, *dirty})
        rows = read_stored(live_days)
        again = _watermark(session)
        if again is not None and again.generation == mark.generation:
            return rows, live_days


def days_counted_live(session: Session, period: Period) -> list[date]:
    """The period's days whose tickets a report counts live: not built yet, or changed since the watermark."""
    return _stored_and_live_days(session, period, dirty_ticket_days, lambda _: [])[1]


def period_counts(session: Session, period: Period, support_types: Sequence[str] = ()) -> PeriodCounts:
    """The period's ticket counts (of its field, if it has one), exact."""
    sums = [func.sum(getattr(ReportDay, name)) for name in COUNTS]
    typed = [func.sum(ReportDay.received).filter(ReportDay.support_type == key) for key in support_types]

    def read_stored(live_days: list[date]) -> list[Any]:
        clean = [ReportDay.day >= period.first, ReportDay.day <= period.last, ReportDay.day.not_in(live_days)]
        if period.field:
            clean.append(ReportDay.field == period.field)
        by_day = select(ReportDay.day, *sums, *typed).where(*clean).group_by(ReportDay.day)
        split = (
            select(ReportDay.field, ReportDay.support_type, func.sum(ReportDay.received))
            .where(*clean)
            .group_by(ReportDay.field, ReportDay.support_type)
        )
        return [session.execute(by_day).all(), session.execute(split).all()]

    stored, live_days = _stored_and_live_days(session, period, dirty_ticket_days, read_stored)
    found = PeriodCounts()
    if stored:
        by_day, split = stored
        for day, *counts in by_day:
            by_type: dict[str | None, int] = {
                key: int(n or 0) for key, n in zip(support_types, counts[len(COUNTS) :], strict=True)
            }
            by_type[None] = int(counts[0]) - sum(by_type.values())
            found.add_day(day, counts[: len(COUNTS)], by_type)
        for field_key, type_key, n in split:
            found.add_split(field_key, type_key or None, int(n))
    for row in count_ticket_days(session, live_days, period.timezone, period.field):
        known = row.support_type if row.support_type in support_types else None
        found.add_day(row.day, [getattr(row, name) for name in COUNTS], {known: row.received})
        found.add_split(row.field, row.support_type, row.received)
    for by_type in found.day_support_types.values():
        for key in (*support_types, None):
            by_type.setdefault(key, 0)
    return found


def _keyed_counts(session: Session, period: Period, source: KeyedSource) -> dict[Any, int]:
    table = source.table

    def dirty_days(s: Session, mark: Watermark, start: datetime | None, end: datetime | None) -> set[date]:
        return dirty_keyed_days(s, source, mark, start, end)

    def read_stored(live_days: list[date]) -> list[Any]:
        clean = [table.day >= period.first, table.day <= period.last, table.day.not_in(live_days)]
        if period.field:
            clean.append(table.field == period.field)
        key = source.stored_key
        return list(session.execute(select(key, func.sum(source.stored_count)).where(*clean).group_by(key)))

    stored, live_days = _stored_and_live_days(session, period, dirty_days, read_stored)
    found: dict[Any, int] = {}
    counted = count_keyed_days(session, source, live_days, period.timezone, period.field, by_field=False)
    live = [(row.key, row.n) for row in counted]
    for key_value, n in [*stored, *live]:
        found[key_value] = found.get(key_value, 0) + int(n)
    return found


def attempts_by_outcome(session: Session, period: Period) -> dict[str, int]:
    """Callback attempts made in the period (to tickets of its field, if it has one), by outcome."""
    return _keyed_counts(session, period, ATTEMPTS)


def alerts_by_level(session: Session, period: Period) -> dict[int, int]:
    """SLA alerts that fell due in the period (on tickets of its field, if it has one), by level."""
    found = _keyed_counts(session, period, ALERTS)
    return {int(level): n for level, n in sorted(found.items())}


# --- the refresh -------------------------------------------------------------------------------------------


def _oldest_other_transaction(session: Session) -> datetime | None:
    """When the oldest other open transaction on this database began (PostgreSQL; None on SQLite).

    PostgreSQL shows the start of another role's session only to members of pg_read_all_stats: the web
    workers and the scheduler run as one role (or that role gets pg_read_all_stats).
    """
    if _dialect(session) != "postgresql":
        return None  # every transaction begins IMMEDIATE: while this one runs, no other is open
    session.execute(text("SELECT pg_stat_clear_snapshot()"))  # the activity view is cached per transaction
    started: datetime | None = session.scalar(
        text(
            "SELECT min(xact_start) FROM pg_stat_activity WHERE datname = current_database()"
            " AND pid <> pg_backend_pid() AND backend_type = 'client backend'"
        )
    )
    return started


def _locked_state(session: Session, timezone: str) -> ReportRollup:
    """The state row, created if missing and locked: two schedulers refresh one after the other."""
    dialect_insert = postgresql.insert if _dialect(session) == "postgresql" else sqlite.insert
    session.execute(
        dialect_insert(ReportRollup)
        .values(
            id=STATE_ID, timezone=timezone, generation=0, last_ticket_id=0, last_attempt_id=0, last_alert_id=0
        )
        .on_conflict_do_nothing()
    )
    return session.get_one(ReportRollup, STATE_ID, with_for_update=True, populate_existing=True)


def _first_and_last_day(session: Session, zone: ZoneInfo) -> tuple[date, date] | None:
    """The earliest and latest local day with a ticket, an attempt or an alert."""
    bounds = session.execute(
        select(
            select(func.min(Ticket.created_at)).scalar_subquery(),
            select(func.max(Ticket.created_at)).scalar_subquery(),
            select(func.min(CallbackAttempt.at)).scalar_subquery(),
            select(func.max(CallbackAttempt.at)).scalar_subquery(),
            select(func.min(Escalation.due_at)).scalar_subquery(),
            select(func.max(Escalation.due_at)).scalar_subquery(),
        )
    ).one()
    days = [moment.astimezone(zone).date() for moment in bounds if moment is not None]
    return (min(days), max(days)) if days else None


@dataclass(frozen=True)
class Refreshed:
    dirty: int  # days counted again because something of theirs changed
    built: int  # days counted for the first time
    complete: bool  # every day is built


def _store(session: Session, days: Sequence[date], timezone: str) -> None:
    """Count `days` from the source tables and replace their stored rows."""
    if not days:
        return
    for table in (ReportDay, ReportAttemptDay, ReportAlertDay):
        session.execute(delete(table).where(table.day.in_(days)))
    tickets = [
        {
            "day": row.day,
            "field": row.field,
            "support_type": row.support_type or NO_SUPPORT_TYPE,
            **{name: getattr(row, name) for name in COUNTS},
        }
        for row in count_ticket_days(session, days, timezone)
    ]
    if tickets:
        session.execute(insert(ReportDay), tickets)
    for source in (ATTEMPTS, ALERTS):
        rows = [source.stored_row(row) for row in count_keyed_days(session, source, days, timezone)]
        if rows:
            session.execute(insert(source.table), rows)


def _build_older_days(
    session: Session, state: ReportRollup, now: datetime, timezone: str, build_days: int
) -> list[date]:
    """Store the next `build_days` days not built yet, newest first; which days."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    first, last = _first_and_last_day(session, zone) or (today, today)
    top = state.built_from - timedelta(days=1) if state.built_from else max(today, last)
    bottom = max(top - timedelta(days=build_days - 1), first)
    days = [bottom + timedelta(days=n) for n in range((top - bottom).days + 1)]
    _store(session, days, timezone)
    # The days before the first one with anything in them are empty: stored as they are.
    state.built_from = bottom if bottom > first else ALL_DAYS
    return days


def refresh(
    session: Session, now: datetime, timezone: str, *, rebuild: bool = False, build_days: int = BUILD_DAYS
) -> Refreshed:
    """Count again the days where something changed since the last refresh, and build `build_days` more
    days (newest first) while the roll-up is incomplete. In the caller's transaction."""
    state = _locked_state(session, timezone)
    # The new watermark is taken before anything is counted: whatever this refresh does not see is newer.
    last_ids = session.execute(
        select(
            select(func.max(Ticket.id)).scalar_subquery(),
            select(func.max(CallbackAttempt.id)).scalar_subquery(),
            select(func.max(Escalation.id)).scalar_subquery(),
        )
    ).one()
    oldest = _oldest_other_transaction(session)
    clean_before = min(now, oldest or now) - CLOCK_MARGIN
    mark = _watermark(session)
    dirty: list[date] = []
    if rebuild or mark is None or mark.timezone != timezone:
        for table in (ReportDay, ReportAttemptDay, ReportAlertDay):
            session.execute(delete(table))
        state.generation += 1
        state.built_from = None
    else:
        start, end = _stored_from(mark), None
        dirty = sorted(
            dirty_ticket_days(session, mark, start, end)
            | dirty_keyed_days(session, ATTEMPTS, mark, start, end)
            | dirty_keyed_days(session, ALERTS, mark, start, end)
        )
        _store(session, dirty, timezone)
    built = (
        _build_older_days(session, state, now, timezone, build_days) if state.built_from != ALL_DAYS else []
    )
    state.timezone, state.clean_before, state.refreshed_at = timezone, clean_before, now
    state.last_ticket_id, state.last_attempt_id, state.last_alert_id = (int(n or 0) for n in last_ids)
    session.flush()
    return Refreshed(len(dirty), len(built), state.built_from == ALL_DAYS)
