"""Silent calls and calls hung up before a field was chosen are missed calls, not requests."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from supervisor.overview import todays_calls
from tests.ivr.conftest import PlaceCall, tickets_of
from tickets import clock
from tickets.models import Ticket

SEOUL = ZoneInfo("Asia/Seoul")


def test_a_silent_caller_is_asked_three_times_then_hears_a_goodbye(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call("")  # silence at every question
    assert result.steps == ["field", "field", "field"] and result.ended_by == "hangup"
    assert result.heard[-1] == "입력이 없어 통화를 마칩니다. 언제든 다시 전화해 주세요."
    assert not any(line.startswith("접수") for line in result.heard)  # no reference, no "filed"
    (ticket,) = tickets_of(session, result)
    assert ticket.incomplete and ticket.missed_call and ticket.support_type is None
    # its own target: called back within one working day, not the 3-day promise
    assert ticket.created_at is not None and ticket.sla_due_at is not None
    assert ticket.created_at.astimezone(SEOUL) == datetime(2026, 11, 27, 9, 30, tzinfo=SEOUL)  # a Friday
    assert ticket.sla_due_at.astimezone(SEOUL) == datetime(2026, 11, 30, 9, 30, tzinfo=SEOUL)  # Monday


def test_a_silent_call_with_a_withheld_number_leaves_no_ticket(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call("", from_number="anonymous")
    assert result.steps == ["field", "field", "field"]
    assert session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_a_hang_up_before_the_field_is_a_missed_call(place_call: PlaceCall, session: Session) -> None:
    result = place_call("field=hangup")
    (ticket,) = tickets_of(session, result)
    assert ticket.incomplete and ticket.missed_call


def test_a_call_that_chose_a_field_but_left_no_message_stays_a_request(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call("field=2,support_type=1,callback=1")  # silent at the beep, twice
    (ticket,) = tickets_of(session, result)
    assert not ticket.missed_call and not ticket.incomplete and ticket.field == "machinery"


def test_a_caller_who_pressed_a_wrong_key_is_not_a_missed_call(
    place_call: PlaceCall, session: Session
) -> None:
    result = place_call("field=7")  # one key, then silence: still a request in the general pool
    (ticket,) = tickets_of(session, result)
    assert not ticket.missed_call and ticket.field == "general"


def test_todays_calls_show_a_missed_call_on_its_own_line_not_as_filed(
    place_call: PlaceCall, session: Session
) -> None:
    place_call("")
    place_call("field=2,support_type=1,callback=1,message=record:20")
    session.expire_all()
    calls = todays_calls(session, clock.now(), "Asia/Seoul")
    assert (calls.total, calls.completed, calls.missed) == (2, 1, 1)
