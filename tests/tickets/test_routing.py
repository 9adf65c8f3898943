"""Routing: who gets a new ticket, the pools, and repeat callers."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import select

from tests.tickets.conftest import NOW
from tickets import lifecycle, routing
from tickets.models import Call, OutboxMessage, Status


def test_tickets_are_dealt_evenly_across_the_field(make_user, make_ticket) -> None:
    kim, lee, park = make_user("it-kim"), make_user("it-lee"), make_user("it-park")
    make_user("bio-choi", fields=("bio",))
    holders = [make_ticket(now=NOW + timedelta(minutes=i)).assignee for i in range(300)]
    assert Counter(h.username for h in holders) == {"it-kim": 100, "it-lee": 100, "it-park": 100}
    # Ties go to whoever waited longest, so the deal is a strict rotation.
    assert [h.username for h in holders[:6]] == [h.username for h in holders[3:9]]
    assert {kim, lee, park} == set(holders[:3])


def test_the_least_loaded_consultant_comes_first(make_user, make_ticket, session) -> None:
    kim = make_user("it-kim")
    busy = [make_ticket(now=NOW + timedelta(minutes=i)) for i in range(4)]
    assert {t.assignee for t in busy} == {kim}
    lee = make_user("it-lee")
    # A resolved ticket no longer counts as load.
    for ticket in busy[:3]:
        lifecycle.change_status(session, ticket, "in_progress", by=kim, now=NOW)
        lifecycle.change_status(
            session, ticket, "resolved", by=kim, now=NOW, summary="done", resolution_type="advice"
        )
    later = [make_ticket(now=NOW + timedelta(hours=1, minutes=i)).assignee for i in range(3)]
    # kim holds 1 open, lee 0: lee first, then the tie goes to the one assigned least recently.
    assert [u.username for u in later] == ["it-lee", "it-kim", "it-lee"]
    assert lee in later


def test_off_duty_inactive_away_and_other_roles_are_skipped(make_user, make_ticket) -> None:
    today = date(2026, 11, 27)  # NOW in Seoul
    make_user("it-off", on_duty=False)
    make_user("it-gone", active=False)
    make_user("it-away", away_from=today - timedelta(days=2), away_until=today)
    make_user("it-away-open-ended", away_from=today - timedelta(days=1))
    make_user("it-boss", role="supervisor")
    make_user("bio-kim", fields=("bio",))
    back = make_user("it-back", away_from=today - timedelta(days=5), away_until=today - timedelta(days=1))
    leaving = make_user(
        "it-leaving", away_from=today + timedelta(days=1), away_until=today + timedelta(days=3)
    )
    holders = {make_ticket(now=NOW + timedelta(minutes=i)).assignee for i in range(6)}
    assert holders == {back, leaving}


def test_the_pages_tell_who_is_away_by_the_rule_routing_applies(make_user, session) -> None:
    today, day = date(2026, 11, 27), timedelta(days=1)
    ranges = [
        (None, None), (today, today), (today - day, None), (None, today + day), (today + day, None),
        (None, today - day), (today - 2 * day, today - day), (today + day, today + 2 * day),
    ]  # fmt: skip
    answers = {}
    for i, (away_from, away_until) in enumerate(ranges):
        user = make_user(f"it-{i}", away_from=away_from, away_until=away_until)
        routed = routing.pick_consultant(session, "it", today) == user
        answers[(away_from, away_until)] = (routing.is_away(user, today), routed)
        user.active = False  # out of the way of the next range
        session.flush()
    assert all(away != routed for away, routed in answers.values()), answers
    assert [away for away, _ in answers.values()] == [False, True, True, True, False, False, False, False]


def test_away_uses_the_date_in_seoul(make_user, make_ticket) -> None:
    # 2026-11-27 16:00 UTC is already the 28th in Seoul.
    make_user("it-kim", away_from=date(2026, 11, 28), away_until=date(2026, 11, 28))
    ticket = make_ticket(now=NOW.replace(hour=16))
    assert ticket.status == Status.NEW and ticket.assignee is None


def test_with_nobody_available_the_ticket_waits_in_the_pool(make_user, make_ticket) -> None:
    make_user("it-kim", on_duty=False)
    ticket = make_ticket()
    assert (ticket.status, ticket.assignee) == (Status.NEW, None)
    assert [e.type for e in ticket.events] == ["created", "pooled"]
    assert ticket.events[-1].detail == {"pool": "it", "reason": "nobody_available"}


def test_not_sure_tickets_wait_for_a_supervisor_who_sets_the_field(make_user, make_ticket, session) -> None:
    kim = make_user("it-kim")
    boss = make_user("boss", role="supervisor", fields=("it", "general"))
    ticket = make_ticket("general")
    assert (ticket.status, ticket.assignee) == (Status.NEW, None)
    assert ticket.events[-1].detail["pool"] == "general"
    assert routing.set_field(session, ticket, "it", by=boss, now=NOW, known_fields=("it", "bio")) == kim
    assert (ticket.field, ticket.status, ticket.assignee) == ("it", Status.ASSIGNED, kim)
    assert [e.type for e in ticket.events][-2:] == ["field_changed", "assigned"]


def test_a_repeat_call_is_linked_to_the_open_ticket_and_the_consultant_is_told(
    make_user, make_ticket, session
) -> None:
    kim = make_user("it-kim", phone="010-5555-0101")
    first = make_ticket(callback_number="+821020001001")
    call = Call(
        call_sid="CA" + "7" * 32,
        recording_sid="RE1",
        recording_url="https://api.twilio.com/r/RE1",
        recording_duration=42,
    )
    session.add(call)
    again = make_ticket(
        callback_number="+821020001001", call=call, now=NOW + timedelta(hours=2), join_open_ticket=True
    )
    assert again is first
    event, added = first.events[-2:]
    assert event.type == "repeat_call"
    assert event.detail["call_sid"] == call.call_sid and event.detail["recording_url"].endswith("RE1")
    assert first.recording_url == "https://api.twilio.com/r/RE1"  # it had none: the new one plays
    assert (added.type, added.detail["call_sid"]) == ("recording_added", call.call_sid)
    [message] = session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == first.id)).all()
    assert (message.channel, message.recipient) == ("sms", kim.phone)
    assert first.reference in message.payload["body"]


def test_a_call_about_another_field_or_a_closed_ticket_opens_a_new_one(
    make_user, make_ticket, session
) -> None:
    kim = make_user("it-kim")
    first = make_ticket(callback_number="+821020001001")
    assert make_ticket("bio", callback_number="+821020001001") is not first
    lifecycle.change_status(session, first, "in_progress", by=kim, now=NOW)
    lifecycle.change_status(session, first, "resolved", by=kim, now=NOW, summary="s", resolution_type="x")
    assert make_ticket(callback_number="+821020001001") is not first
