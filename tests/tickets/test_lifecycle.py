"""Every status change a ticket can make, every one it cannot, and the SLA pause while waiting."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.tickets.conftest import NOW
from tickets import lifecycle, queue
from tickets.lifecycle import TRANSITIONS, TransitionError
from tickets.models import Status

PATHS = {
    Status.NEW: [],
    Status.ASSIGNED: ["claim"],
    Status.IN_PROGRESS: ["claim", Status.IN_PROGRESS],
    Status.WAITING: ["claim", Status.IN_PROGRESS, Status.WAITING],
    Status.RESOLVED: ["claim", Status.IN_PROGRESS, Status.RESOLVED],
    Status.CLOSED: ["claim", Status.IN_PROGRESS, Status.RESOLVED, Status.CLOSED],
}
RESOLUTION = {"summary": "장비 추천", "resolution_type": "advice"}


@pytest.fixture
def kim(make_user):
    make_user("it-off", on_duty=False)  # routing finds nobody: tickets start in the pool
    return make_user("it-kim", on_duty=False)


@pytest.fixture
def ticket_in(make_ticket, session, kim):
    def bring(status: Status):
        ticket = make_ticket()
        for step in PATHS[status]:
            if step == "claim":
                queue.claim(session, ticket, kim, now=NOW)
            else:
                lifecycle.change_status(session, ticket, step, by=kim, now=NOW, **RESOLUTION)
        assert ticket.status == status
        return ticket

    return bring


def _move(session, ticket, to, kim):
    if to == Status.NEW:
        lifecycle.unassign(session, ticket, by=kim, now=NOW, reason="test")
    elif to == Status.ASSIGNED:  # from the pool only: claim (routing and supervisors assign the same way)
        queue.claim(session, ticket, kim, now=NOW)
    else:
        lifecycle.change_status(session, ticket, to, by=kim, now=NOW + timedelta(hours=1), **RESOLUTION)


ALL_PAIRS = [(a, b) for a in Status for b in Status if a != b]


@pytest.mark.parametrize(("start", "to"), ALL_PAIRS, ids=[f"{a}->{b}" for a, b in ALL_PAIRS])
def test_every_transition_is_allowed_or_refused_as_the_table_says(ticket_in, session, kim, start, to) -> None:
    ticket = ticket_in(start)
    events_before = len(ticket.events)
    if to in TRANSITIONS[start]:
        _move(session, ticket, to, kim)
        assert ticket.status == to
        assert len(ticket.events) == events_before + 1
        last = ticket.events[-1]
        assert last.actor == kim and last.at is not None
        reopen = start in (Status.RESOLVED, Status.CLOSED) and to == Status.IN_PROGRESS
        assert (last.type == "reopened") == reopen
    else:
        with pytest.raises((TransitionError, queue.ClaimConflict)):
            _move(session, ticket, to, kim)
        assert ticket.status == start
        assert len(ticket.events) == events_before


def test_the_table_is_the_lifecycle_of_the_issue() -> None:
    assert TRANSITIONS[Status.NEW] == {Status.ASSIGNED}
    assert Status.IN_PROGRESS in TRANSITIONS[Status.CLOSED]  # reopen
    assert Status.CLOSED not in TRANSITIONS[Status.IN_PROGRESS]  # closing needs a resolution first


def test_resolving_needs_a_summary_and_the_help_given(ticket_in, session, kim) -> None:
    ticket = ticket_in(Status.IN_PROGRESS)
    for bad in ({}, {"summary": "  ", "resolution_type": "advice"}, {"summary": "ok"}):
        with pytest.raises(TransitionError) as error:
            lifecycle.change_status(session, ticket, "resolved", by=kim, now=NOW, **bad)
        assert error.value.code == "resolution_required"
    with pytest.raises(TransitionError, match="unknown resolution_type"):
        lifecycle.change_status(
            session,
            ticket,
            "resolved",
            by=kim,
            now=NOW,
            summary="ok",
            resolution_type="magic",
            resolution_types=("advice",),
        )
    lifecycle.change_status(session, ticket, "resolved", by=kim, now=NOW, **RESOLUTION)
    assert (ticket.resolution_summary, ticket.resolution_type, ticket.resolved_at) == (
        "장비 추천",
        "advice",
        NOW,
    )
    assert ticket.events[-1].detail == {"from": "in_progress", "to": "resolved", **RESOLUTION}


def test_waiting_stops_the_sla_clock_and_records_the_pause(ticket_in, session, kim) -> None:
    ticket = ticket_in(Status.IN_PROGRESS)
    due = ticket.sla_due_at
    lifecycle.change_status(session, ticket, "waiting", by=kim, now=NOW, note="서류 송부 대기")
    assert ticket.paused_at == NOW and ticket.next_escalation_at is None
    lifecycle.change_status(session, ticket, "in_progress", by=kim, now=NOW + timedelta(hours=5))
    assert ticket.paused_at is None and ticket.paused_seconds == 5 * 3600
    [pause] = ticket.pauses
    assert (pause.started_at, pause.ended_at, pause.reason) == (
        NOW,
        NOW + timedelta(hours=5),
        "서류 송부 대기",
    )
    assert ticket.sla_due_at == due + timedelta(hours=5)
    assert ticket.next_escalation_at is not None


def test_releasing_a_waiting_ticket_ends_its_pause(ticket_in, session, kim) -> None:
    ticket = ticket_in(Status.WAITING)
    lifecycle.unassign(session, ticket, by=kim, now=NOW + timedelta(hours=2), reason="test")
    assert ticket.paused_at is None and ticket.paused_seconds == 2 * 3600
    assert ticket.pauses[0].ended_at == NOW + timedelta(hours=2)


def test_reopen_goes_back_to_the_consultant_or_to_the_pool(ticket_in, session, kim) -> None:
    ticket = ticket_in(Status.CLOSED)
    assert ticket.closed_at is not None and ticket.next_escalation_at is None
    lifecycle.change_status(session, ticket, "in_progress", by=kim, now=NOW + timedelta(days=1))
    assert (ticket.status, ticket.assignee, ticket.closed_at, ticket.resolved_at) == (
        Status.IN_PROGRESS,
        kim,
        None,
        None,
    )
    assert ticket.events[-1].type == "reopened"
    assert ticket.sla_due_at > NOW + timedelta(days=1)  # a fresh round of the clock

    other = ticket_in(Status.RESOLVED)
    kim.active = False
    lifecycle.change_status(session, other, "in_progress", by=None, now=NOW + timedelta(days=1))
    assert (other.status, other.assignee) == (Status.NEW, None)


def test_notes_are_events_and_count_as_acting(ticket_in, session, kim) -> None:
    ticket = ticket_in(Status.ASSIGNED)
    lifecycle.add_note(session, ticket, "오후 3시 이후 통화 희망", by=kim, now=NOW + timedelta(hours=1))
    assert ticket.events[-1].detail == {"text": "오후 3시 이후 통화 희망"}
    assert ticket.acted_at == NOW + timedelta(hours=1)
    with pytest.raises(TransitionError):
        lifecycle.add_note(session, ticket, "   ", by=kim, now=NOW)
