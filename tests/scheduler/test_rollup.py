"""The report roll-up: stored days plus live days give exactly the figures of the data, after any change.

Every check compares a report built through the roll-up with the figures computed in plain Python from the
rows in the database, and with the same report counted straight from the source tables (no roll-up).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

import pytest
from flask import Flask
from sqlalchemy import Table, delete, select, text, update
from sqlalchemy.orm import Session

from scheduler import reports, rollup
from scheduler.reports import Period
from scheduler.sweep import AlertSettings, escalate_due_tickets
from tests.scheduler import report_fixture as fx
from tests.scheduler.sla_helpers import people, settings, ticket_at
from tickets import accounts, clock, lifecycle, queue, routing
from tickets.clock import FrozenClock
from tickets.models import (
    OPEN_STATUSES,
    CallbackAttempt,
    Escalation,
    ReportAlertDay,
    ReportAttemptDay,
    ReportDay,
    ReportRollup,
    Status,
    Ticket,
    User,
)

TZ = "Asia/Seoul"
PERIODS = [
    Period(date(2026, 9, 25), date(2026, 11, 30)),  # everything, and days to come
    Period(date(2026, 10, 1), date(2026, 10, 31)),
    Period(date(2026, 11, 1), date(2026, 11, 27), "it"),
    Period(date(2026, 10, 1), date(2026, 11, 30), "bio"),
    Period(date(2026, 10, 1), date(2026, 11, 30), "general"),
    Period(date(2026, 11, 26), date(2026, 11, 27)),  # yesterday and today in Seoul
]


def refresh_clock(now: datetime = fx.NOW) -> datetime:
    """The refresh's clock in these tests.

    Services given a `now` stamp updated_at with the test's clock; the ORM stamps what a service leaves
    alone (the sweep's changes) with the real one. Production has one clock; here the watermark must be
    behind both, as it is behind every writer in production.
    """
    return min(now, clock.now())


@pytest.fixture
def specs(session: Session) -> list[fx.Spec]:
    specs = fx.make_specs()
    fx.write(session, specs)
    return specs


@pytest.fixture
def alert_settings(config: Any) -> AlertSettings:
    return settings(config)


@pytest.fixture
def staff(session: Session) -> dict[str, User]:
    return people(session)


# --- the figures, computed in Python from the rows ----------------------------------------------------------


def _local(moment: datetime) -> date:
    return moment.astimezone(fx.SEOUL).date()


def expected(session: Session, period: Period, now: datetime) -> dict[str, Any]:
    """Every count of a report over `period`, from the ORM rows, by hand."""
    session.flush()
    session.expire_all()
    tickets = [
        t
        for t in session.scalars(select(Ticket))
        if period.first <= _local(t.created_at) <= period.last and period.field in (None, t.field)
    ]
    in_field = {t.id for t in session.scalars(select(Ticket)) if period.field in (None, t.field)}

    def finish(t: Ticket) -> datetime | None:
        return t.resolved_at or t.closed_at

    def finished(t: Ticket) -> bool:
        return t.status in (Status.RESOLVED, Status.CLOSED)

    def met(t: Ticket) -> bool:
        end = finish(t)
        return finished(t) and end is not None and t.sla_due_at is not None and end <= t.sla_due_at

    def breached(t: Ticket) -> bool:
        if finished(t):
            end = finish(t)
            return end is not None and t.sla_due_at is not None and end > t.sla_due_at
        return t.status in OPEN_STATUSES and t.sla_due_at is not None and t.sla_due_at <= now

    days = {
        f"{day:%Y-%m-%d}": (
            sum(_local(t.created_at) == day for t in tickets),
            sum(_local(t.created_at) == day and met(t) for t in tickets),
            sum(_local(t.created_at) == day and breached(t) for t in tickets),
        )
        for day in period.days()
    }
    months = {}
    for month in period.months():
        chosen = [t for t in tickets if f"{_local(t.created_at):%Y-%m}" == month]
        by_type: dict[str | None, int] = {**dict.fromkeys(fx.SUPPORT_TYPES, 0), None: 0}
        for t in chosen:
            by_type[t.support_type if t.support_type in fx.SUPPORT_TYPES else None] += 1
        months[month] = (
            len(chosen),
            by_type,
            sum(map(finished, chosen)),
            sum(map(met, chosen)),
            sum(map(breached, chosen)),
        )
    attempts = Counter(
        a.outcome
        for a in session.scalars(select(CallbackAttempt))
        if period.first <= _local(a.at) <= period.last and a.ticket_id in in_field
    )
    alerts = Counter(
        e.level
        for e in session.scalars(select(Escalation))
        if period.first <= _local(e.due_at) <= period.last and e.ticket_id in in_field
    )
    return {
        "received": len(tickets),
        "split": dict(Counter((t.field, t.support_type) for t in tickets)),
        "compliance": (sum(map(met, tickets)), sum(map(breached, tickets))),
        "days": days,
        "months": months,
        "notified": sum(t.unreached_notified_at is not None for t in tickets),
        "attempts": dict(attempts),
        "alerts": dict(sorted(alerts.items())),
        "called_back": sum(t.first_attempt_at is not None for t in tickets),
        "timed_close": sum(finished(t) and finish(t) is not None for t in tickets),
    }


def figures(report: reports.Report) -> dict[str, Any]:
    return {
        "received": report.received,
        "split": report.by_field_and_support_type,
        "compliance": (report.compliance.met, report.compliance.breached),
        "days": {d.day: (d.received, d.met, d.breached) for d in report.days},
        "months": {
            m.month: (m.received, m.by_support_type, m.finished, m.met, m.breached) for m in report.months
        },
        "notified": report.unreached.tickets_notified,
        "attempts": report.unreached.attempts_by_outcome,
        "alerts": report.escalations,
        "called_back": report.first_callback.count,
        "timed_close": report.close.count,
    }


def counted_straight(session: Session, period: Period, now: datetime) -> reports.Report:
    """The same report with no roll-up at all: every day counted from the source tables."""
    with session.begin_nested() as without_rollup:
        session.execute(delete(ReportRollup))
        report = reports.build_report(session, period, now, fx.SUPPORT_TYPES)
        without_rollup.rollback()
    return report


def check(session: Session, now: datetime, periods: list[Period] = PERIODS) -> None:
    """Every period's report through the roll-up equals the data, and the report counted straight."""
    assert session.get(ReportRollup, rollup.STATE_ID) is not None, "the roll-up was never refreshed"
    for period in periods:
        report = reports.build_report(session, period, now, fx.SUPPORT_TYPES)
        assert figures(report) == expected(session, period, now), period
        assert report == counted_straight(session, period, now), period


# --- the tests ----------------------------------------------------------------------------------------------


def test_a_refresh_stores_what_the_tables_hold(session: Session, specs: list[fx.Spec]) -> None:
    done = rollup.refresh(session, refresh_clock(), TZ)
    assert done.complete and done.built >= 57 and done.dirty == 0
    days = Period(date(2026, 9, 1), date(2026, 12, 31)).days()
    stored = {
        (r.day, r.field, r.support_type or None): tuple(getattr(r, name) for name in rollup.COUNTS)
        for r in session.scalars(select(ReportDay))
    }
    counted = {
        (r.day, r.field, r.support_type): tuple(getattr(r, name) for name in rollup.COUNTS)
        for r in rollup.count_ticket_days(session, days, TZ)
    }
    assert stored == counted and sum(n[0] for n in stored.values()) == len(specs)
    attempts = {(r.day, r.field, r.outcome): r.attempts for r in session.scalars(select(ReportAttemptDay))}
    assert attempts == {
        (r.day, r.field, r.key): r.n for r in rollup.count_keyed_days(session, rollup.ATTEMPTS, days, TZ)
    }
    assert sum(attempts.values()) == sum(len(s.attempts) for s in specs)
    alerts = {(r.day, r.field, r.level): r.alerts for r in session.scalars(select(ReportAlertDay))}
    assert alerts == {
        (r.day, r.field, r.key): r.n for r in rollup.count_keyed_days(session, rollup.ALERTS, days, TZ)
    }
    assert sum(alerts.values()) == sum(len(s.escalations) for s in specs)
    # Nothing changed since: every day of a period comes from the stored rows, and the figures are right.
    assert rollup.days_counted_live(session, PERIODS[0]) == []
    check(session, fx.NOW)
    # Again: nothing to do.
    assert rollup.refresh(session, refresh_clock(), TZ) == rollup.Refreshed(dirty=0, built=0, complete=True)


def test_percentiles_come_from_the_rows_even_when_a_row_changed_behind_the_roll_up(
    session: Session, specs: list[fx.Spec]
) -> None:
    """A row edited outside the app (updated_at untouched) leaves the stored counts stale until a rebuild;
    the median and 90th percentile are still those of the rows, and the page does not fail."""
    rollup.refresh(session, refresh_clock(), TZ)
    tickets = cast(Table, Ticket.__table__)
    held = session.scalars(select(Ticket.id).where(Ticket.first_attempt_at.is_not(None))).all()
    assert len(held) >= 4
    session.execute(
        update(tickets)
        .where(tickets.c.id.in_(held[: len(held) // 2]))
        .values(first_attempt_at=None, updated_at=tickets.c.updated_at)
    )
    report = reports.build_report(session, PERIODS[0], fx.NOW, fx.SUPPORT_TYPES)
    straight = counted_straight(session, PERIODS[0], fx.NOW)
    assert report.first_callback.count > straight.first_callback.count  # the stale count, as documented
    assert (report.first_callback.median, report.first_callback.p90) == (
        straight.first_callback.median,
        straight.first_callback.p90,
    )


def test_every_change_shows_at_once_and_a_refresh_stores_it(
    session: Session, specs: list[fx.Spec], alert_settings: AlertSettings, staff: dict[str, User]
) -> None:
    rollup.refresh(session, refresh_clock(), TZ)
    policy = alert_settings.deadlines
    supervisor = staff["it_supervisor"]
    now = fx.NOW

    def by_reference(status: str, **where: Any) -> Ticket:
        query = select(Ticket).where(Ticket.status == status, Ticket.call_id.is_(None)).order_by(Ticket.id)
        for column, value in where.items():
            query = query.where(getattr(Ticket, column) == value)
        ticket = session.scalars(query).first()
        assert ticket is not None
        return ticket

    # A call files a ticket today (intake stamps it); a ticket of October is imported with an old stamp,
    # which only its id gives away.
    filed = ticket_at(session, alert_settings, now + timedelta(minutes=10), field="it")
    session.add(
        Ticket(
            reference="0999-0001",
            field="machinery",
            support_type="rnd",
            status="closed",
            created_at=datetime(2026, 10, 15, 2, 0, tzinfo=UTC),
            updated_at=datetime(2026, 10, 18, 2, 0, tzinfo=UTC),
            sla_due_at=datetime(2026, 10, 18, 2, 0, tzinfo=UTC),
            closed_at=datetime(2026, 10, 19, 2, 0, tzinfo=UTC),
        )
    )
    session.flush()
    assert {date(2026, 10, 15), _local(filed.created_at)} <= set(
        rollup.days_counted_live(session, PERIODS[0])
    )
    check(session, now)

    # An open ticket of October is resolved, a closed one reopened, a pooled one triaged into bio.
    now += timedelta(hours=2)
    working = by_reference("in_progress")
    lifecycle.change_status(
        session, policy, working, Status.RESOLVED, by=None, now=now, summary="done", resolution_type="advice"
    )
    lifecycle.change_status(session, policy, by_reference("closed"), Status.IN_PROGRESS, by=None, now=now)
    pooled = by_reference("new", field="general")
    routing.set_field(session, pooled, "bio", by=supervisor, now=now, known_fields=("it", "bio"), timezone=TZ)
    check(session, now)

    # A refresh stores all that, and the figures stay.
    done = rollup.refresh(session, refresh_clock(now), TZ)
    assert done.dirty >= 4
    check(session, now)

    # Callback attempts (three unreached ones tell the company) and, three days on, the sweep's alerts.
    now += timedelta(hours=1)
    waiting = by_reference("in_progress")
    for minutes in (0, 20, 40):
        queue.log_attempt(
            session, policy, waiting, by=None, outcome="no_answer", now=now + timedelta(minutes=minutes)
        )
    queue.log_attempt(session, policy, filed, by=None, outcome="busy", now=now)
    check(session, now)
    later = now + timedelta(days=3)
    swept = escalate_due_tickets(session, alert_settings, later)
    assert swept.swept, "the sweep raised no alert: nothing would test it"
    check(session, later)
    rollup.refresh(session, refresh_clock(later), TZ)
    check(session, later)


def test_tickets_either_side_of_midnight_in_seoul(session: Session, specs: list[fx.Spec]) -> None:
    rollup.refresh(session, refresh_clock(), TZ)
    midnight = datetime(2026, 11, 27, 0, 0, tzinfo=fx.SEOUL)  # 15:00 UTC the day before
    for reference, created in (("0998-0001", midnight - timedelta(microseconds=1)), ("0998-0002", midnight)):
        session.add(
            Ticket(
                reference=reference,
                field="it",
                status="new",
                created_at=created,
                updated_at=created,  # imported: only the new ids tell
                sla_due_at=created + timedelta(hours=2),
            )
        )
    session.flush()
    days = [Period(date(2026, 11, 26), date(2026, 11, 26)), Period(date(2026, 11, 27), date(2026, 11, 27))]
    assert [rollup.days_counted_live(session, day) for day in days] == [
        [date(2026, 11, 26)],
        [date(2026, 11, 27)],
    ]
    check(session, fx.NOW, days)
    rollup.refresh(session, refresh_clock(), TZ)
    assert [rollup.days_counted_live(session, day) for day in days] == [[], []]
    check(session, fx.NOW, days)
    # Open and past the deadline is breached from the deadline on, whichever side of midnight it falls.
    for now in (midnight + timedelta(hours=2) - timedelta(microseconds=1), midnight + timedelta(hours=2)):
        check(session, now, days)


def test_a_roll_up_being_built_is_exact_at_every_step(session: Session, specs: list[fx.Spec]) -> None:
    steps = []
    while not (done := rollup.refresh(session, refresh_clock(), TZ, build_days=20)).complete:
        steps.append(done)
        state = session.get_one(ReportRollup, rollup.STATE_ID)
        assert state.built_from is not None
        assert rollup.days_counted_live(session, PERIODS[1]) == [
            d for d in PERIODS[1].days() if d < state.built_from
        ]
        check(session, fx.NOW, PERIODS[:3])
    # Newest first, from today or the last day with anything in it, down to the first such day.
    moments = [fx.NOW] + [
        moment
        for s in specs
        for moment in (s.created_at, *(at for _, at in s.attempts), *(d for _, d in s.escalations))
    ]
    first, last = min(map(_local, moments)), max(map(_local, moments))
    assert [s.built for s in steps] == [20] * len(steps) and len(steps) >= 2
    assert sum(s.built for s in steps) + done.built == (last - first).days + 1
    assert rollup.days_counted_live(session, PERIODS[0]) == []
    check(session, fx.NOW)


def test_a_rebuild_during_a_read_makes_it_read_again(session: Session, specs: list[fx.Spec]) -> None:
    rollup.refresh(session, refresh_clock(), TZ)
    reads = []

    def read_stored(days: list[date]) -> list[Any]:
        reads.append(days)
        if len(reads) == 1:
            rollup.refresh(session, refresh_clock(), TZ, rebuild=True, build_days=10)
        return [len(reads)]

    rows, days = rollup._stored_and_live_days(session, PERIODS[1], rollup.dirty_ticket_days, read_stored)
    assert rows == [2] and len(reads) == 2
    assert days == PERIODS[1].days()  # October is older than the ten days rebuilt so far
    check(session, fx.NOW)


def test_a_roll_up_of_another_calendar_is_not_used_and_is_rebuilt(
    session: Session, specs: list[fx.Spec]
) -> None:
    rollup.refresh(session, refresh_clock(), "UTC")
    assert rollup.days_counted_live(session, PERIODS[1]) == PERIODS[1].days()  # periods are in Seoul days
    check(session, fx.NOW)
    state = session.get_one(ReportRollup, rollup.STATE_ID)
    generation = state.generation
    rollup.refresh(session, refresh_clock(), TZ)
    assert (state.timezone, state.generation) == (TZ, generation + 1)
    assert rollup.days_counted_live(session, PERIODS[1]) == []
    check(session, fx.NOW)


def test_the_watermark_stays_behind_transactions_still_open(session: Session, engine: Any) -> None:
    """A transaction open during a refresh may commit changes stamped before the refresh's clock."""
    far_ahead = datetime(2030, 1, 1, tzinfo=UTC)
    if engine.dialect.name == "sqlite":
        # Every transaction begins IMMEDIATE: while the refresh's runs, no other is open.
        assert rollup._oldest_other_transaction(session) is None
        rollup.refresh(session, far_ahead, TZ)
        assert session.get_one(ReportRollup, rollup.STATE_ID).clean_before == far_ahead - rollup.CLOCK_MARGIN
        return
    with engine.connect() as other:
        started = other.scalar(text("SELECT xact_start FROM pg_stat_activity WHERE pid = pg_backend_pid()"))
        rollup.refresh(session, far_ahead, TZ)
        assert session.get_one(ReportRollup, rollup.STATE_ID).clean_before == started - rollup.CLOCK_MARGIN
        other.rollback()
    rollup.refresh(session, far_ahead, TZ)
    assert session.get_one(ReportRollup, rollup.STATE_ID).clean_before == far_ahead - rollup.CLOCK_MARGIN


def test_the_scheduler_refreshes_the_roll_up(session: Session, specs: list[fx.Spec], app: Flask) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from scheduler import runner

    scheduler = BackgroundScheduler(timezone="UTC")
    runner.configure(scheduler, app)
    job = scheduler.get_job("report_rollup")
    assert job is not None and job.trigger.interval == timedelta(seconds=runner.ROLLUP_SECONDS)
    job.func()
    state = session.get(ReportRollup, rollup.STATE_ID)
    assert state is not None and state.timezone == app.config["HOTLINE"].timezone
    assert rollup.days_counted_live(session, PERIODS[1]) == []


def test_the_report_page_shows_a_triage_made_a_moment_ago(
    session: Session, client: Any, app: Flask, specs: list[fx.Spec], clock: FrozenClock
) -> None:
    clock.move_to(fx.NOW)
    supervisor = accounts.add_user(session, "boss", "supervisor", display_name="감독자")
    rollup.refresh(session, refresh_clock(), TZ)
    session.commit()  # to the test's savepoint, like the scheduler's job
    with client.session_transaction() as cookie:
        cookie["user_id"], cookie["csrf"] = supervisor.id, "test-csrf-token"
    bio = Period(date(2026, 10, 1), date(2026, 11, 27), "bio")
    query = f"first={bio.first}&last={bio.last}&field=bio"
    before = client.get(f"/supervisor/reports.json?{query}").get_json()
    pooled = next(s for s in specs if s.field == "general" and s.status == "new" and s.escalations)
    response = client.post(
        f"/supervisor/tickets/{pooled.reference}/field",
        data={"csrf_token": "test-csrf-token", "field": "bio"},
    )
    assert response.status_code == 302
    after = client.get(f"/supervisor/reports.json?{query}").get_json()
    assert after["received"] == before["received"] + 1
    assert sum(after["escalations_by_level"].values()) == sum(before["escalations_by_level"].values()) + len(
        pooled.escalations
    )
    figures = expected(session, bio, fx.NOW)
    assert (after["received"], after["by_field"]) == (figures["received"], {"bio": figures["received"]})
    assert (after["sla_compliance"]["met"], after["sla_compliance"]["breached"]) == figures["compliance"]
    assert after["escalations_by_level"] == {str(level): n for level, n in figures["alerts"].items()}
    assert after["unreached"]["attempts_by_outcome"] == figures["attempts"]
    assert [(d["day"], d["received"], d["met"], d["breached"]) for d in after["daily"]] == [
        (day, *counts) for day, counts in figures["days"].items()
    ]
