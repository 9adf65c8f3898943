"""The callback queue: claim from the pool, release, reassign, callback attempts, and the auto-release.

A claim is one conditional UPDATE (`... WHERE status = 'new' AND assignee_id IS NULL`): the database
decides, so of eight consultants claiming the same ticket at once exactly one changes a row and the others
get ClaimConflict (409 in the API), on SQLite and PostgreSQL alike, with no lock held across a round trip.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from callflows.phones import is_mobile
from tickets import events, lifecycle, outbox, sla
from tickets.labels import SMS_PREFIX
from tickets.models import CallbackAttempt, Outcome, Status, Ticket, User

UNREACHED = frozenset(Outcome) - {Outcome.REACHED}


class ClaimConflict(Exception):
    """Someone else holds the ticket already (or it left the pool)."""


def claim(session: Session, ticket: Ticket, user: User, *, now: datetime) -> Ticket:
    result = session.execute(
        update(Ticket)
        .where(Ticket.id == ticket.id, Ticket.status == Status.NEW, Ticket.assignee_id.is_(None))
        .values(status=Status.ASSIGNED, assignee_id=user.id, assigned_at=now, acted_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ClaimConflict(f"ticket {ticket.reference} is not in the pool any more")
    session.refresh(ticket)
    user.last_assigned_at = now
    events.record(session, ticket, "claimed", by=user, at=now, to=user.username)
    sla.stamp(ticket, now)
    session.flush()
    return ticket


def release(session: Session, ticket: Ticket, *, by: User, now: datetime) -> Ticket:
    return lifecycle.unassign(session, ticket, by=by, now=now, reason="released")


def hand_back_unworkable(session: Session, user: User, *, by: User, now: datetime) -> list[Ticket]:
    """After an account change: the open tickets `user` can no longer work (deactivated, or the field taken
    away) go back to their pool instead of waiting on someone who will never call."""
    held = session.scalars(
        select(Ticket).where(Ticket.assignee_id == user.id, Ticket.status.in_(lifecycle.HELD))
    ).all()
    returned = []
    for ticket in held:
        if user.active and ticket.field in user.fields:
            continue
        lifecycle.unassign(session, ticket, by=by, now=now, reason="assignee_unavailable")
        returned.append(ticket)
    return returned


def reassign(session: Session, ticket: Ticket, user: User, *, by: User, now: datetime) -> Ticket:
    if not user.active:
        raise lifecycle.TransitionError(f"{user.username} is not active", code="invalid_assignee")
    if ticket.field not in user.fields:
        raise lifecycle.TransitionError(
            f"{user.username} does not cover the field {ticket.field}", code="invalid_assignee"
        )
    if ticket.assignee_id == user.id:
        raise lifecycle.TransitionError(f"{user.username} holds the ticket already", code="invalid_assignee")
    return lifecycle.assign(session, ticket, user, by=by, now=now, reason="supervisor")


def log_attempt(
    session: Session,
    ticket: Ticket,
    *,
    by: User | None,
    outcome: Outcome | str,
    now: datetime,
    duration: int | None = None,
    note: str | None = None,
    call_sid: str | None = None,
    sms_after: int = 3,
    hotline_number: str = "1379",
) -> CallbackAttempt:
    """One callback attempt. Idempotent per call_sid (Twilio's status callback may be replayed).

    The first attempt on an assigned ticket starts the work (`in_progress`). After `sms_after` unreached
    attempts the company gets one SMS (through the outbox) saying we tried and how to reach us.
    """
    try:
        result = Outcome(outcome)
    except ValueError:
        raise lifecycle.TransitionError(f"unknown outcome {outcome!r}", code="invalid_outcome") from None
    if call_sid:
        existing = session.scalar(select(CallbackAttempt).where(CallbackAttempt.call_sid == call_sid))
        if existing is not None:
            return existing
    if not ticket.is_open:
        raise lifecycle.TransitionError(f"a {ticket.status} ticket takes no callback attempts")
    if duration is not None and not 0 <= duration <= 24 * 3600:
        raise lifecycle.TransitionError(
            "duration must be between 0 and 86400 seconds", code="invalid_duration"
        )
    attempt = CallbackAttempt(
        ticket=ticket, user=by, outcome=result, at=now, duration=duration, note=note, call_sid=call_sid
    )
    session.add(attempt)
    ticket.first_attempt_at = ticket.first_attempt_at or now
    events.record(
        session,
        ticket,
        "attempt",
        by=by,
        at=now,
        outcome=result.value,
        **({"duration": duration} if duration is not None else {}),
        **({"call_sid": call_sid} if call_sid else {}),
    )
    if ticket.status == Status.ASSIGNED:
        lifecycle.change_status(session, ticket, Status.IN_PROGRESS, by=by, now=now, note="callback")
    else:
        if by is not None and by.id == ticket.assignee_id:
            ticket.acted_at = now
        ticket.updated_at = now
        sla.stamp(ticket, now)
    session.flush()
    if result in UNREACHED:
        _tell_company_we_tried(session, ticket, now=now, threshold=sms_after, hotline_number=hotline_number)
    return attempt


def unreached_attempts(session: Session, ticket: Ticket) -> int:
    return (
        session.scalar(
            select(func.count(CallbackAttempt.id)).where(
                CallbackAttempt.ticket_id == ticket.id, CallbackAttempt.outcome.in_(list(UNREACHED))
            )
        )
        or 0
    )


def unreached_sms_text(ticket: Ticket, tries: int, hotline_number: str) -> str:
    if ticket.language == "en":
        return (
            f"{SMS_PREFIX['en']} Our expert tried to call you back {tries} times about request "
            f"{ticket.reference} but could not reach you. Please call {hotline_number} and give this "
            "reference, or reply with a good time to call."
        )
    return (
        f"{SMS_PREFIX['ko']} 접수번호 {ticket.reference} 건으로 전문위원이 {tries}차례 전화드렸으나 "
        f"연결되지 않았습니다. {hotline_number}(으)로 전화 주셔서 접수번호를 말씀해 주시거나, "
        "통화 가능한 시간을 회신해 주세요."
    )


def _tell_company_we_tried(
    session: Session, ticket: Ticket, *, now: datetime, threshold: int, hotline_number: str
) -> None:
    if ticket.unreached_notified_at is not None:
        return
    tries = unreached_attempts(session, ticket)
    if tries < threshold:
        return
    if not ticket.callback_number or not is_mobile(ticket.callback_number):
        # An office landline cannot take the SMS: it would only fail, try after try, into the dead letters.
        reason = "no_number" if not ticket.callback_number else "not_mobile"
        events.record(session, ticket, "unreached_sms_skipped", at=now, attempts=tries, reason=reason)
        ticket.unreached_notified_at = now
        return
    outbox.add_message_once(
        session,
        key=f"unreached-sms:{ticket.id}:{ticket.sla_round or 0}",
        channel="sms",
        recipient=ticket.callback_number,
        payload={
            "kind": "unreached_callback",
            "reference": ticket.reference,
            "body": unreached_sms_text(ticket, tries, hotline_number),
        },
        ticket_id=ticket.id,
        now=now,
    )
    ticket.unreached_notified_at = now
    events.record(session, ticket, "unreached_sms", at=now, attempts=tries)
    session.flush()


def release_stale_assignments(
    session: Session,
    now: datetime,
    *,
    assigned_before: datetime,
    limit: int = 500,
) -> list[Ticket]:
    """Tickets assigned before `assigned_before` whose holder never acted go back to their pool.

    `assigned_before` is "now minus one working day" from the scheduler's business calendar (tickets may not
    import it). The release is a conditional UPDATE per ticket, so a consultant acting at the same moment
    wins (their ticket is no longer `assigned`) and two sweeps never release twice. The SLA clock does not
    restart: only who holds the ticket changes.
    """
    candidates = session.scalars(
        select(Ticket)
        .where(
            Ticket.status == Status.ASSIGNED,
            Ticket.assigned_at < assigned_before,
            func.coalesce(Ticket.acted_at, Ticket.assigned_at) < assigned_before,
        )
        .order_by(Ticket.assigned_at)
        .limit(limit)
    ).all()
    released = []
    for ticket in candidates:
        holder = ticket.assignee.username if ticket.assignee else None
        changed = session.execute(
            update(Ticket)
            .where(
                Ticket.id == ticket.id,
                Ticket.status == Status.ASSIGNED,
                Ticket.assignee_id == ticket.assignee_id,
                func.coalesce(Ticket.acted_at, Ticket.assigned_at) < assigned_before,
            )
            .values(status=Status.NEW, assignee_id=None, assigned_at=None, acted_at=None, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        session.refresh(ticket)
        detail: dict[str, Any] = {"from": holder, "reason": "no_action"}
        events.record(session, ticket, "auto_released", at=now, **detail)
        sla.stamp(ticket, now)
        released.append(ticket)
    session.flush()
    return released
