"""A ticket's life: `new → assigned → in_progress → waiting → resolved → closed`, and reopen.

Every status change goes through `change_status` (or `assign`/`unassign` for who holds it), which checks the
transition against TRANSITIONS, writes one event (who, when, from, to, why), keeps the SLA pause bookkeeping
(`waiting` stops the clock: an SlaPause row, Ticket.paused_at and paused_seconds) and restamps the
ticket's deadlines (tickets.sla). Callers check permissions; this module checks what is possible at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.orm import Session

from tickets import events, sla
from tickets.models import SlaPause, Status, Ticket, User

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.ASSIGNED}),
    Status.ASSIGNED: frozenset({Status.NEW, Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.NEW, Status.WAITING, Status.RESOLVED}),
    Status.WAITING: frozenset({Status.NEW, Status.IN_PROGRESS, Status.RESOLVED}),
    Status.RESOLVED: frozenset({Status.CLOSED, Status.IN_PROGRESS}),  # in_progress: reopen
    Status.CLOSED: frozenset({Status.IN_PROGRESS}),  # reopen
}
# Statuses with someone holding the ticket.
HELD = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING})
SUMMARY_MAX = 4000


class TransitionError(ValueError):
    """The change is impossible from where the ticket is. `code` is stable for the API."""

    def __init__(self, message: str, code: str = "invalid_transition") -> None:
        super().__init__(message)
        self.code = code


def allowed_next(status: str) -> frozenset[Status]:
    return TRANSITIONS[Status(status)]


def check_transition(ticket: Ticket, to: Status) -> None:
    if to not in allowed_next(ticket.status):
        allowed = ", ".join(sorted(allowed_next(ticket.status))) or "none"
        raise TransitionError(f"a {ticket.status} ticket cannot become {to} (possible: {allowed})")


def _end_pause(session: Session, ticket: Ticket, now: datetime) -> None:
    if ticket.paused_at is None:
        return
    ticket.paused_seconds = (ticket.paused_seconds or 0) + max(
        0, int((now - ticket.paused_at).total_seconds())
    )
    ticket.paused_at = None
    for pause in ticket.pauses:
        if pause.ended_at is None:
            pause.ended_at = now


def _start_pause(session: Session, ticket: Ticket, now: datetime, reason: str | None) -> None:
    ticket.paused_at = now
    ticket.pauses.append(SlaPause(started_at=now, reason=reason))


def _touch(ticket: Ticket, by: User | None, now: datetime) -> None:
    ticket.updated_at = now
    if by is not None and by.id == ticket.assignee_id:
        ticket.acted_at = now


def change_status(
    session: Session,
    ticket: Ticket,
    to: Status | str,
    *,
    by: User | None,
    now: datetime,
    note: str | None = None,
    summary: str | None = None,
    resolution_type: str | None = None,
    resolution_types: Iterable[str] | None = None,
) -> Ticket:
    """Move the ticket to `to`. `new`/`assigned` go through assign/unassign (they change who holds it)."""
    try:
        target = Status(to)
    except ValueError:
        raise TransitionError(f"unknown status {to!r}", code="invalid_status") from None
    if target in (Status.NEW, Status.ASSIGNED):
        raise TransitionError(
            f"use claim, release or assign to make a ticket {target}", code="invalid_status"
        )
    check_transition(ticket, target)
    previous = Status(ticket.status)
    detail: dict[str, object] = {"from": previous.value, "to": target.value}
    if note:
        detail["note"] = note
    if target == Status.RESOLVED:
        summary = (summary or "").strip()
        if not summary or not resolution_type:
            raise TransitionError(
                "resolving needs a summary and a resolution_type (the help given)", code="resolution_required"
            )
        if len(summary) > SUMMARY_MAX:
            raise TransitionError(
                f"the summary is longer than {SUMMARY_MAX} characters", code="invalid_summary"
            )
        if resolution_types is not None and resolution_type not in set(resolution_types):
            raise TransitionError(
                f"unknown resolution_type {resolution_type!r}", code="invalid_resolution_type"
            )
        ticket.resolution_summary = summary
        ticket.resolution_type = resolution_type
        ticket.resolved_at = now
        detail.update(summary=summary, resolution_type=resolution_type)

    if previous == Status.WAITING:
        _end_pause(session, ticket, now)
    if target == Status.WAITING:
        _start_pause(session, ticket, now, note)
    if target == Status.CLOSED:
        ticket.closed_at = now
    reopening = previous in (Status.RESOLVED, Status.CLOSED) and target == Status.IN_PROGRESS
    if reopening:
        ticket.resolved_at = None
        ticket.closed_at = None
        if ticket.assignee is None or not ticket.assignee.active:
            # Nobody to pick it up again: back to the pool of its field.
            ticket.assignee = None
            target = Status.NEW
            detail["to"] = target.value
    ticket.status = target
    _touch(ticket, by, now)
    events.record(session, ticket, "reopened" if reopening else "status_changed", by=by, at=now, **detail)
    sla.stamp(ticket, now)
    session.flush()
    return ticket


def assign(
    session: Session,
    ticket: Ticket,
    user: User,
    *,
    by: User | None,
    now: datetime,
    reason: str,
) -> Ticket:
    """Give the ticket to `user`: a new ticket becomes assigned; a held one keeps its status (reassign).
    Who holds a ticket does not move its SLA clock, so the deadlines stand as stamped."""
    if not ticket.is_open:
        raise TransitionError(f"a {ticket.status} ticket cannot be assigned; reopen it first")
    previous_assignee = ticket.assignee.username if ticket.assignee else None
    if ticket.status == Status.NEW:
        check_transition(ticket, Status.ASSIGNED)
        ticket.status = Status.ASSIGNED
    ticket.assignee = user
    _hold(ticket, user, now)
    user.last_assigned_at = now
    events.record(
        session,
        ticket,
        "assigned" if previous_assignee is None else "reassigned",
        by=by,
        at=now,
        to=user.username,
        **({"from": previous_assignee} if previous_assignee else {}),
        reason=reason,
    )
    session.flush()
    return ticket


def _hold(ticket: Ticket, user: User, now: datetime) -> None:
    ticket.assignee_id = user.id
    ticket.assigned_at = now
    ticket.acted_at = None  # the new holder has not acted yet: the auto-release clock starts now
    ticket.updated_at = now


def unassign(
    session: Session,
    ticket: Ticket,
    *,
    by: User | None,
    now: datetime,
    reason: str,
    event_type: str = "released",
) -> Ticket:
    """Back to the field's pool as `new`, nobody holding it. The SLA clock runs on from where it was."""
    if ticket.status not in HELD:
        raise TransitionError(f"a {ticket.status} ticket is not held by anyone", code="not_assigned")
    check_transition(ticket, Status.NEW)
    previous = ticket.assignee.username if ticket.assignee else None
    if ticket.status == Status.WAITING:
        _end_pause(session, ticket, now)
    ticket.status = Status.NEW
    ticket.assignee = None
    ticket.assignee_id = None
    ticket.assigned_at = None
    ticket.acted_at = None
    ticket.updated_at = now
    events.record(session, ticket, event_type, by=by, at=now, **{"from": previous}, reason=reason)
    sla.stamp(ticket, now)
    session.flush()
    return ticket


def add_note(session: Session, ticket: Ticket, text: str, *, by: User, now: datetime) -> None:
    text = text.strip()
    if not text:
        raise TransitionError("an empty note", code="invalid_note")
    if len(text) > SUMMARY_MAX:
        raise TransitionError(f"a note is at most {SUMMARY_MAX} characters", code="invalid_note")
    _touch(ticket, by, now)
    events.record(session, ticket, "note", by=by, at=now, text=text)
    session.flush()
