"""The escalation sweep with an injected clock: boundaries, order, recipients, reruns, catch-up."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.sweep import AlertSettings
from tests.scheduler.sla_helpers import (
    DUE,
    T0,
    escalations,
    outbox,
    people,
    run,
    settings,
    sla_messages,
    ticket_at,
)
from tickets.lifecycle import change_status
from tickets.models import Escalation, Status, Ticket, TicketEvent, User
from tickets.serialize import ticket_json

SECOND = timedelta(seconds=1)


def fresh(session: Session, ticket: Ticket) -> Ticket:
    session.expire_all()
    found = session.get(Ticket, ticket.id)
    assert found is not None
    return found


def test_the_breach_comes_exactly_at_72_hours(session: Session, config: Any) -> None:
    s = settings(config)
    ticket = ticket_at(session, s, T0, assignee=people(session)["consultant"])
    assert [r.level for r in run(s, DUE - timedelta(hours=24))] == [0]  # the warning
    assert run(s, DUE - SECOND) == []
    assert ticket_json(fresh(session, ticket))["escalation_level"] == 0
    assert [r.level for r in run(s, DUE + SECOND)] == [1]
    assert ticket_json(fresh(session, ticket))["escalation_level"] == 1


def test_warning_then_breach_then_level_two_each_to_its_people(session: Session, config: Any) -> None:
    s = settings(config)
    who = people(session)
    ticket = ticket_at(session, s, T0, assignee=who["consultant"])
    other_field = ticket_at(session, s, T0 + timedelta(hours=1), field="bio")

    run(s, DUE - timedelta(hours=24))
    assert outbox(session, ticket) == [("sms", "+821055550101"), ("console", "it-kim")]  # e-mail is off
    run(s, DUE)
    assert outbox(session, ticket)[2:] == [("sms", "+821055550002"), ("console", "it-boss")]  # not bio-boss
    run(s, DUE + timedelta(hours=24))
    assert outbox(session, ticket)[4:] == [("sms", "+821055550002"), ("console", "it-boss")]  # config.yaml
    assert escalations(session, ticket) == [(0, 0), (0, 1), (0, 2)]

    events = session.scalars(select(TicketEvent.type).where(TicketEvent.ticket_id == ticket.id)).all()
    assert [e for e in events if e in ("sla_warning", "escalated")] == [
        "sla_warning",
        "escalated",
        "escalated",
    ]
    t = fresh(session, ticket)
    assert (t.escalation_level, t.next_escalation_at) == (2, None)
    # The unassigned bio ticket warned its field's supervisor instead of nobody.
    assert ("console", "bio-boss") in outbox(session, other_field)


def test_messages_name_the_ticket_field_time_and_link(session: Session, config: Any) -> None:
    s = settings(config)
    people(session)
    korean = ticket_at(session, s, T0)
    english = ticket_at(session, s, T0, language="en")
    run(s, DUE + timedelta(hours=3))
    texts = {m.ticket_id: m.payload["text"] for m in sla_messages(session) if m.channel == "sms"}
    assert korean.reference in texts[korean.id] and "IT" in texts[korean.id]
    assert "3시간 넘겼습니다" in texts[korean.id]
    assert f"/console/tickets/{korean.reference}" in texts[korean.id]
    assert "is 3 h overdue" in texts[english.id] and english.reference in texts[english.id]


def test_running_the_sweep_again_changes_nothing(session: Session, config: Any) -> None:
    s = settings(config)
    people(session)
    tickets = [ticket_at(session, s, T0 + timedelta(minutes=i)) for i in range(5)]
    now = DUE + timedelta(hours=1)
    assert len(run(s, now, batch_size=2)) == 5
    before = (session.scalars(select(Escalation.id)).all(), [m.id for m in sla_messages(session)])
    assert run(s, now) == []
    assert run(s, now + timedelta(minutes=1)) == []
    after = (session.scalars(select(Escalation.id)).all(), [m.id for m in sla_messages(session)])
    assert before == after
    assert all(escalations(session, t) == [(0, 1)] for t in tickets)


def test_two_days_of_downtime_give_one_catch_up_at_the_highest_level(session: Session, config: Any) -> None:
    s = settings(config)
    people(session)
    breached_long_ago = ticket_at(session, s, T0)
    just_breached = ticket_at(session, s, T0 + timedelta(hours=40))
    nearly_due = ticket_at(session, s, T0 + timedelta(hours=60))
    not_due = ticket_at(session, s, T0 + timedelta(hours=90))
    run(s, T0 + timedelta(hours=20))  # the last run before the scheduler went down: nothing due
    back = T0 + timedelta(hours=20 + 48 + 45)  # two days later, one run
    swept = {r.reference: r.level for r in run(s, back)}
    assert swept == {breached_long_ago.reference: 2, just_breached.reference: 1, nearly_due.reference: 0}
    assert escalations(session, breached_long_ago) == [(0, 2)]  # no warning, no level 1 first
    assert escalations(session, not_due) == []
    assert run(s, back + timedelta(minutes=1)) == []


def test_a_closed_ticket_never_escalates(session: Session, config: Any) -> None:
    s = settings(config)
    who = people(session)
    ticket = ticket_at(session, s, T0, assignee=who["consultant"])
    change_status(session, ticket, Status.IN_PROGRESS, by=who["consultant"], now=T0 + timedelta(hours=1))
    change_status(
        session,
        ticket,
        Status.RESOLVED,
        by=who["consultant"],
        now=T0 + timedelta(hours=2),
        summary="설비 사용법 안내",
        resolution_type="advice",
    )
    change_status(session, ticket, Status.CLOSED, by=who["consultant"], now=T0 + timedelta(hours=3))
    assert run(s, DUE + timedelta(days=30)) == []
    assert escalations(session, ticket) == []


def test_a_reopened_ticket_escalates_again_against_its_fresh_deadline(session: Session, config: Any) -> None:
    s = settings(config)
    who = people(session)
    ticket = ticket_at(session, s, T0, assignee=who["consultant"])
    run(s, DUE + timedelta(hours=1))
    assert escalations(session, ticket) == [(0, 1)]
    ticket = fresh(session, ticket)
    by = session.get(User, who["consultant"].id)
    change_status(session, ticket, Status.IN_PROGRESS, by=by, now=DUE + timedelta(hours=2))
    change_status(
        session,
        ticket,
        Status.RESOLVED,
        by=by,
        now=DUE + timedelta(hours=3),
        summary="해결",
        resolution_type="advice",
    )
    reopened = DUE + timedelta(hours=10)
    change_status(session, ticket, Status.IN_PROGRESS, by=by, now=reopened)
    assert ticket.sla_due_at == reopened + timedelta(hours=72)
    assert ticket_json(ticket)["escalation_level"] == 0
    assert [r.level for r in run(s, reopened + timedelta(hours=72) - SECOND)] == [0]
    assert [r.level for r in run(s, reopened + timedelta(hours=72) + SECOND)] == [1]
    assert escalations(session, ticket) == [(0, 1), (1, 0), (1, 1)]


def test_a_waiting_ticket_does_not_escalate_and_its_deadline_moves(session: Session, config: Any) -> None:
    s = settings(config)
    who = people(session)
    by = who["consultant"]
    ticket = ticket_at(session, s, T0, assignee=by)
    change_status(session, ticket, Status.IN_PROGRESS, by=by, now=T0 + timedelta(hours=1))
    change_status(session, ticket, Status.WAITING, by=by, now=T0 + timedelta(hours=2))
    assert run(s, DUE + timedelta(hours=10)) == []
    change_status(session, ticket, Status.IN_PROGRESS, by=by, now=T0 + timedelta(hours=12))
    assert ticket.sla_due_at == DUE + timedelta(hours=10)
    assert [r.level for r in run(s, DUE + timedelta(hours=10) - SECOND)] == [0]
    assert [r.level for r in run(s, DUE + timedelta(hours=10) + SECOND)] == [1]


def test_a_dry_run_lists_what_would_escalate_and_changes_nothing(session: Session, config: Any) -> None:
    s = settings(config)
    people(session)
    ticket = ticket_at(session, s, T0)
    planned = run(s, DUE, dry_run=True)
    assert [(r.reference, r.level) for r in planned] == [(ticket.reference, 1)]
    assert escalations(session, ticket) == [] and outbox(session, ticket) == []
    assert [(r.reference, r.level) for r in run(s, DUE)] == [(ticket.reference, 1)]


def test_a_stale_next_escalation_time_is_corrected_without_an_alert(session: Session, config: Any) -> None:
    s: AlertSettings = settings(config)
    people(session)
    ticket = ticket_at(session, s, T0)
    run(s, DUE - timedelta(hours=1))  # warned
    ticket = fresh(session, ticket)
    ticket.next_escalation_at = T0  # as a ticket service stamping from an older read might leave it
    session.flush()
    assert run(s, DUE - timedelta(minutes=30)) == []
    assert fresh(session, ticket).next_escalation_at == DUE
