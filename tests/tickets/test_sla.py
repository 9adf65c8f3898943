"""Deadline arithmetic with an injected clock: calendar and working days, holidays, pauses, rounds."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from tickets.business_hours import HOLIDAY_YEARS, BusinessHours, HolidaysUnknown
from tickets.models import SlaPause, Status, Ticket
from tickets.sla import SlaDeadlines
from tickets.ticket_config import EscalationLevel, EscalationRecipient, SlaPolicy

SEOUL = ZoneInfo("Asia/Seoul")


def kst(*args: int) -> datetime:
    return datetime(*args, tzinfo=SEOUL)  # type: ignore[misc]


LEVELS = (
    EscalationLevel(1, 0, (EscalationRecipient("supervisor", ("console",)),)),
    EscalationLevel(2, 24, (EscalationRecipient("head", ("console",)),)),
)
CALENDAR = SlaDeadlines(SlaPolicy(levels=LEVELS))
WORKING = SlaDeadlines(SlaPolicy(mode="working_days", levels=LEVELS))


def new_ticket(created: datetime, policy: SlaDeadlines = CALENDAR) -> Ticket:
    ticket = Ticket(
        reference="1000-0001", field="it", status=Status.NEW, created_at=created, escalation_level=0
    )
    ticket.paused_seconds = 0
    ticket.sla_round = 0
    policy.stamp(ticket, created)
    return ticket


def test_calendar_deadline_is_72_hours_after_creation() -> None:
    ticket = new_ticket(kst(2026, 11, 27, 16, 0))
    assert ticket.sla_due_at == kst(2026, 11, 30, 16, 0)
    assert ticket.sla_due_at.tzinfo is not None
    # The warning comes first, 24 hours before the deadline.
    assert ticket.next_escalation_at == kst(2026, 11, 29, 16, 0)


def test_working_days_skip_the_weekend() -> None:
    # Friday 16:00: 2 h on Friday, 9 h Monday, 9 h Tuesday, the last 7 h on Wednesday.
    ticket = new_ticket(kst(2026, 11, 27, 16, 0), WORKING)
    assert ticket.sla_due_at == kst(2026, 12, 2, 16, 0)


def test_a_call_on_saturday_starts_the_clock_on_monday_morning() -> None:
    ticket = new_ticket(kst(2026, 11, 28, 11, 30), WORKING)
    assert ticket.sla_due_at == kst(2026, 12, 2, 18, 0)  # three whole days, ending at closing time


def test_chuseok_2026_is_not_working_time() -> None:
    korean = holidays.country_holidays("KR", years=2026)
    assert {date(2026, 9, 24), date(2026, 9, 25), date(2026, 9, 26)} <= set(korean)
    # Wednesday 10:00 before Chuseok: 8 h that day, Thu–Sun off, 9 h Monday, 9 h Tuesday, 1 h Wednesday.
    ticket = new_ticket(kst(2026, 9, 23, 10, 0), WORKING)
    assert ticket.sla_due_at == kst(2026, 9, 30, 10, 0)


def test_a_substitute_holiday_is_not_working_time() -> None:
    # National Foundation Day falls on Saturday 3 October 2026: Monday the 5th is its substitute.
    assert "Alternative" in (holidays.country_holidays("KR", years=2026).get(date(2026, 10, 5)) or "")
    ticket = new_ticket(kst(2026, 10, 2, 9, 0), WORKING)
    assert ticket.sla_due_at == kst(2026, 10, 7, 18, 0)  # Fri, (Mon off), Tue, Wed


def test_closed_days_from_config_are_not_working_time() -> None:
    policy = SlaDeadlines(SlaPolicy(mode="working_days", closed_days=(date(2026, 12, 1),)))
    ticket = new_ticket(kst(2026, 11, 27, 16, 0), policy)
    assert ticket.sla_due_at == kst(2026, 12, 3, 16, 0)  # one day later than without the closed Tuesday


def test_closing_time_is_a_deadline_not_the_next_morning() -> None:
    hours = BusinessHours()
    assert hours.add(kst(2026, 11, 27, 9, 0), 9 * 3600) == kst(2026, 11, 27, 18, 0)
    assert hours.add(kst(2026, 11, 27, 9, 0), 9 * 3600 + 1) == kst(2026, 11, 30, 9, 0, 1)
    assert hours.between(kst(2026, 11, 27, 17, 0), kst(2026, 11, 30, 10, 0)) == 2 * 3600


def test_waiting_time_does_not_count() -> None:
    created = datetime(2026, 11, 2, 0, 0, tzinfo=UTC)
    ticket = new_ticket(created)
    ticket.pauses.append(
        SlaPause(started_at=created + timedelta(hours=10), ended_at=created + timedelta(hours=30))
    )
    CALENDAR.stamp(ticket, created + timedelta(hours=30))
    assert ticket.sla_due_at == created + timedelta(hours=92)


def test_waiting_time_outside_working_hours_costs_nothing_extra() -> None:
    created = kst(2026, 11, 23, 9, 0)  # Monday
    ticket = new_ticket(created, WORKING)
    # Waiting from Monday 17:00 to Tuesday 10:00 stops one working hour on Monday and one on Tuesday.
    ticket.pauses.append(SlaPause(started_at=kst(2026, 11, 23, 17, 0), ended_at=kst(2026, 11, 24, 10, 0)))
    WORKING.stamp(ticket, kst(2026, 11, 24, 10, 0))
    assert ticket.sla_due_at == kst(2026, 11, 26, 11, 0)  # Wednesday 18:00 + 2 working hours


def test_a_waiting_ticket_is_not_escalated_until_it_resumes() -> None:
    created = datetime(2026, 11, 2, tzinfo=UTC)
    ticket = new_ticket(created)
    ticket.status = Status.WAITING
    ticket.paused_at = created + timedelta(hours=5)
    ticket.pauses.append(SlaPause(started_at=ticket.paused_at))
    CALENDAR.stamp(ticket, created + timedelta(hours=50))
    assert ticket.next_escalation_at is None
    assert ticket.sla_due_at == created + timedelta(hours=72 + 45)  # provisional: as if it resumed now


def test_a_closed_ticket_has_no_next_escalation() -> None:
    ticket = new_ticket(datetime(2026, 11, 2, tzinfo=UTC))
    ticket.status = Status.CLOSED
    CALENDAR.stamp(ticket, datetime(2026, 11, 3, tzinfo=UTC))
    assert ticket.next_escalation_at is None


def test_a_reopened_ticket_gets_a_fresh_deadline_and_a_new_round() -> None:
    created = datetime(2026, 11, 2, tzinfo=UTC)
    ticket = new_ticket(created)
    ticket.escalation_level = 2
    ticket.status = Status.CLOSED
    CALENDAR.stamp(ticket, created + timedelta(days=5))
    reopened = created + timedelta(days=6)
    ticket.status = Status.IN_PROGRESS
    CALENDAR.stamp(ticket, reopened)
    assert ticket.sla_due_at == reopened + timedelta(hours=72)
    assert (ticket.sla_round, ticket.escalation_level, ticket.warned_at) == (1, 0, None)
    assert ticket.next_escalation_at == reopened + timedelta(hours=48)
    # Later changes in the same round keep that deadline.
    CALENDAR.stamp(ticket, reopened + timedelta(hours=3))
    assert ticket.sla_due_at == reopened + timedelta(hours=72)


def test_after_the_warning_the_next_escalation_is_the_breach() -> None:
    created = datetime(2026, 11, 2, tzinfo=UTC)
    ticket = new_ticket(created)
    ticket.warned_at = created + timedelta(hours=48)
    CALENDAR.stamp(ticket, created + timedelta(hours=48))
    assert ticket.next_escalation_at == created + timedelta(hours=72)


@pytest.mark.parametrize(("hours", "expected"), [(4, kst(2026, 11, 30, 11, 0)), (None, None)])
def test_first_callback_target_in_working_hours(hours: float | None, expected: datetime | None) -> None:
    policy = SlaDeadlines(replace(SlaPolicy(), first_callback_within_working_hours=hours))
    ticket = new_ticket(kst(2026, 11, 27, 16, 0), policy)  # Friday 16:00 + 4 working hours
    assert ticket.first_callback_due_at == expected


def test_a_date_whose_holidays_are_unknown_raises_instead_of_counting_it_as_a_working_day() -> None:
    hours = BusinessHours()
    last_known = date(HOLIDAY_YEARS.stop - 1, 12, 30)
    assert hours.is_working_day(last_known) == (last_known.weekday() < 5)
    with pytest.raises(HolidaysUnknown, match=str(HOLIDAY_YEARS.stop)):
        new_ticket(kst(HOLIDAY_YEARS.stop, 1, 2, 10), WORKING)
