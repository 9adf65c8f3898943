"""SLA alerts as supervisors see them: which still wait, who may see which, and acknowledging one.

An alert is an escalation row (level 0 is the warning, 1 the breach, 2 and up follow). Both the API
(`supervisor.alerts_api`) and the dashboard (`supervisor.dashboard`) list and acknowledge alerts through
these functions, so they show the same alerts to the same person and record the same audit event.

Scope: a supervisor sees the alerts of the fields they oversee (all of them when they oversee none);
an admin sees everything.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from tickets.events import record
from tickets.models import OPEN_STATUSES, Escalation, Role, Ticket, User

ACKNOWLEDGED_EVENT = "sla_alert_acknowledged"


class AlertNotFound(LookupError):
    """No such alert, or not one this user may see (the same answer, so scope does not leak ids)."""


def visible_to(user: User) -> ColumnElement[bool]:
    """A condition on Ticket: the tickets whose alerts `user` sees."""
    if user.role == Role.SUPERVISOR and user.fields:
        return Ticket.field.in_(user.fields)
    return true()


def waiting() -> ColumnElement[bool]:
    """A condition on Escalation joined to its Ticket: the alerts still to act on (not acknowledged, the
    ticket still open). What the dashboard lists and the API lists by default."""
    return and_(Escalation.acknowledged_at.is_(None), Ticket.status.in_(OPEN_STATUSES))


def find(session: Session, escalation_id: int, user: User) -> Escalation:
    escalation = session.scalar(
        select(Escalation)
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .where(Escalation.id == escalation_id, visible_to(user))
    )
    if escalation is None:
        raise AlertNotFound(escalation_id)
    return escalation


def acknowledge(session: Session, escalation_id: int, user: User, now: datetime) -> Escalation:
    """Mark the alert seen by `user`; again is harmless (the first acknowledgement stands).

    Raises AlertNotFound for an alert that does not exist or lies outside the user's fields. Flushes; the
    request wrapper commits.
    """
    escalation = find(session, escalation_id, user)
    if escalation.acknowledged_at is None:
        escalation.acknowledged_at = now
        escalation.acknowledged_by_id = user.id
        record(session, escalation.ticket, ACKNOWLEDGED_EVENT, by=user, at=now, level=escalation.level)
        session.flush()
    return escalation
