"""Every report figure equals the same figure computed in plain Python from the fixture's specs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from supervisor import reports
from supervisor.reports import Period
from tests.supervisor import report_fixture as fx

OCTOBER = (date(2026, 10, 1), date(2026, 10, 31))
WHOLE = (date(2026, 9, 25), date(2026, 11, 27))
PERIODS = [
    pytest.param(*OCTOBER, None, id="october"),
    pytest.param(*WHOLE, None, id="everything"),
    pytest.param(date(2026, 11, 1), date(2026, 11, 15), "it", id="first-half-of-november-it"),
    pytest.param(date(2026, 10, 10), date(2026, 10, 10), "general", id="one-day-general-pool"),
]


@pytest.fixture
def specs(session: Session) -> list[fx.Spec]:
    specs = fx.make_specs()
    fx.write(session, specs)
    return specs


@pytest.mark.parametrize(("first", "last", "field_key"), PERIODS)
def test_volume_by_field_and_support_type(
    session: Session, specs: list[fx.Spec], first: date, last: date, field_key: str | None
) -> None:
    expected = Counter((s.field, s.support_type) for s in fx.in_period(specs, first, last, field_key))
    got = reports.volume_by_field_and_support_type(session, Period(first, last, field_key))
    assert got == dict(expected)


@pytest.mark.parametrize(("first", "last", "field_key"), PERIODS)
def test_sla_compliance_counts_only_decided_tickets(
    session: Session, specs: list[fx.Spec], first: date, last: date, field_key: str | None
) -> None:
    chosen = fx.in_period(specs, first, last, field_key)
    got = reports.sla_compliance(session, Period(first, last, field_key), fx.NOW)
    met = sum(fx.met(s) for s in chosen)
    breached = sum(fx.breached(s) for s in chosen)
    assert (got.met, got.breached) == (met, breached)
    assert got.percent == (round(100 * met / (met + breached), 1) if met + breached else None)


@pytest.mark.parametrize(("first", "last", "field_key"), PERIODS)
def test_median_and_p90_times(
    session: Session, specs: list[fx.Spec], first: date, last: date, field_key: str | None
) -> None:
    chosen = fx.in_period(specs, first, last, field_key)
    period = Period(first, last, field_key)
    first_callback = [
        (s.first_attempt_at - s.created_at).total_seconds() for s in chosen if s.first_attempt_at
    ]
    close = [(s.finished_at - s.created_at).total_seconds() for s in chosen if s.finished and s.finished_at]
    for got, values in (
        (reports.time_to_first_callback(session, period), first_callback),
        (reports.time_to_close(session, period), close),
    ):
        assert got.count == len(values)
        for measured, expected in ((got.median, fx.median(values)), (got.p90, fx.percentile(values, 0.9))):
            if expected is None:
                assert measured is None
            else:
                assert measured == pytest.approx(expected, abs=0.2)


def test_percentiles_of_a_tiny_period_are_exact(session: Session, specs: list[fx.Spec]) -> None:
    # Two tickets on one day: the median is their mean, the p90 sits 90% of the way up.
    day = date(2026, 11, 20)
    chosen = [s for s in fx.in_period(specs, day, day) if s.first_attempt_at]
    values = sorted((s.first_attempt_at - s.created_at).total_seconds() for s in chosen)  # type: ignore[operator]
    got = reports.time_to_first_callback(session, Period(day, day))
    assert got.count == len(values) and len(values) >= 2
    assert got.median == pytest.approx(fx.percentile(values, 0.5), abs=0.2)
    assert got.p90 == pytest.approx(fx.percentile(values, 0.9), abs=0.2)


@pytest.mark.parametrize(("first", "last", "field_key"), PERIODS)
def test_escalations_per_level_by_the_day_they_fell_due(
    session: Session, specs: list[fx.Spec], first: date, last: date, field_key: str | None
) -> None:
    expected = Counter(
        level
        for s in specs
        if field_key is None or s.field == field_key
        for level, due in s.escalations
        if first <= due.astimezone(fx.SEOUL).date() <= last
    )
    assert reports.escalations_by_level(session, Period(first, last, field_key)) == dict(expected)


@pytest.mark.parametrize(("first", "last", "field_key"), PERIODS)
def test_unreached_callbacks(
    session: Session, specs: list[fx.Spec], first: date, last: date, field_key: str | None
) -> None:
    attempts = Counter(
        outcome
        for s in specs
        if field_key is None or s.field == field_key
        for outcome, at in s.attempts
        if first <= at.astimezone(fx.SEOUL).date() <= last
    )
    got = reports.unreached_callbacks(session, Period(first, last, field_key))
    assert got.attempts_by_outcome == dict(attempts)
    assert got.unreached_attempts == sum(n for outcome, n in attempts.items() if outcome != "reached")
    assert got.tickets_notified == sum(
        s.unreached_notified for s in fx.in_period(specs, first, last, field_key)
    )


def test_daily_figures_use_the_seoul_calendar_and_list_every_day(
    session: Session, specs: list[fx.Spec]
) -> None:
    first, last = OCTOBER
    days = reports.daily(session, Period(first, last), fx.NOW)
    assert [d.day for d in days] == [f"2026-10-{n:02d}" for n in range(1, 32)]
    for figures in days:
        day = date.fromisoformat(figures.day)
        chosen = fx.in_period(specs, day, day)
        assert figures.received == len(chosen), figures.day
        assert figures.met == sum(fx.met(s) for s in chosen)
        assert figures.breached == sum(fx.breached(s) for s in chosen)
    # Tickets received at 00:30 in Seoul are still the previous day in UTC: the fixture has some.
    assert any(s.local_day != s.created_at.date() for s in specs)


def test_a_ticket_received_at_local_midnight_counts_on_the_day_it_opens(session: Session) -> None:
    def midnight(day: int) -> datetime:
        return datetime(2026, 10, day, tzinfo=fx.SEOUL).astimezone(UTC)

    moment = timedelta(microseconds=1)
    received = [
        (midnight(10), "2026-10-10"),  # the period's first instant
        (midnight(11) - moment, "2026-10-10"),
        (midnight(11), "2026-10-11"),
        (midnight(11), "2026-10-11"),
        (midnight(12), None),  # the next period's first instant
    ]
    fx.write(session, [fx.Spec(f"{n:04d}-0024", "it", None, "new", at) for n, (at, _) in enumerate(received)])
    days = reports.daily(session, Period(date(2026, 10, 10), date(2026, 10, 11)), fx.NOW)
    assert {d.day: d.received for d in days} == Counter(day for _, day in received if day)


def test_monthly_report_splits_support_types(session: Session, specs: list[fx.Spec]) -> None:
    first, last = WHOLE
    months = reports.monthly(session, Period(first, last), fx.NOW, fx.SUPPORT_TYPES)
    assert [m.month for m in months] == ["2026-09", "2026-10", "2026-11"]
    for figures in months:
        chosen = [s for s in fx.in_period(specs, first, last) if f"{s.local_day:%Y-%m}" == figures.month]
        assert figures.received == len(chosen)
        split = Counter(s.support_type for s in chosen)
        assert figures.by_support_type == {**dict.fromkeys(fx.SUPPORT_TYPES, 0), None: 0, **split}
        assert figures.finished == sum(s.finished for s in chosen)
        assert (figures.met, figures.breached) == (sum(map(fx.met, chosen)), sum(map(fx.breached, chosen)))
    assert months[0].received == 0  # September is in the period but had no calls


@pytest.mark.parametrize(("first", "last", "field_key"), PERIODS)
def test_the_whole_report_equals_the_figures_computed_in_python(
    session: Session, specs: list[fx.Spec], first: date, last: date, field_key: str | None
) -> None:
    # build_report shares its passes between figures (days -> months, totals, notices; both durations in
    # one query): each figure must still be the one computed from the specs.
    period = Period(first, last, field_key)
    report = reports.build_report(session, period, fx.NOW, fx.SUPPORT_TYPES)
    chosen = fx.in_period(specs, first, last, field_key)
    assert report.received == len(chosen) == sum(d.received for d in report.days)
    assert report.by_field_and_support_type == dict(Counter((s.field, s.support_type) for s in chosen))
    assert (report.compliance.met, report.compliance.breached) == (
        sum(map(fx.met, chosen)),
        sum(map(fx.breached, chosen)),
    )
    for figures in report.days:
        on_day = [s for s in chosen if f"{s.local_day}" == figures.day]
        assert (figures.received, figures.met, figures.breached) == (
            len(on_day),
            sum(map(fx.met, on_day)),
            sum(map(fx.breached, on_day)),
        ), figures.day
    for month in report.months:
        in_month = [s for s in chosen if f"{s.local_day:%Y-%m}" == month.month]
        split = Counter(s.support_type for s in in_month)
        assert month.by_support_type == {**dict.fromkeys(fx.SUPPORT_TYPES, 0), None: 0, **split}
        assert (month.received, month.finished) == (len(in_month), sum(s.finished for s in in_month))
    first_callback = [
        (s.first_attempt_at - s.created_at).total_seconds() for s in chosen if s.first_attempt_at
    ]
    close = [(s.finished_at - s.created_at).total_seconds() for s in chosen if s.finished and s.finished_at]
    for got, values in ((report.first_callback, first_callback), (report.close, close)):
        assert got.count == len(values)
        for measured, expected in ((got.median, fx.median(values)), (got.p90, fx.percentile(values, 0.9))):
            assert measured == (None if expected is None else pytest.approx(expected, abs=0.2))
    assert report.unreached.tickets_notified == sum(s.unreached_notified for s in chosen)
    assert report.unreached == reports.unreached_callbacks(session, period)
    assert report.escalations == reports.escalations_by_level(session, period)


def test_a_period_may_not_end_before_it_starts() -> None:
    with pytest.raises(ValueError, match="before it starts"):
        Period(date(2026, 11, 2), date(2026, 11, 1))
