"""Supervisors' SLA alerts: `GET /api/v1/sla/alerts` and `POST /api/v1/sla/alerts/<id>/ack`.

An alert is an escalation row (level 0 is the warning, 1 the breach, 2 and up follow). The list shows the
unacknowledged alerts of open tickets by default (`?all=1`: every alert, newest first) and the outbox
messages that could not be delivered (`dead_messages`), so a supervisor learns that a notification failed.
Who sees which alerts, and what acknowledging does, is `scheduler.alerts` (shared with the dashboard).
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, jsonify, request
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import alerts
from scheduler.delivery import dead_messages
from supervisor import alerts_openapi
from tickets import clock, openapi
from tickets.auth import api_auth, current_user, json_error
from tickets.db import db
from tickets.models import Escalation, Ticket, User
from tickets.serialize import iso

bp = Blueprint("sla_alerts", __name__, url_prefix="/api/v1/sla")
ROLES = ("supervisor", "admin")
ACKNOWLEDGERS = ("supervisor",)  # admins look but do not work tickets (tickets.ticket_actions)
LIMIT = 200


def alert_json(escalation: Escalation, session: Session) -> dict[str, Any]:
    ticket = escalation.ticket
    by = session.get(User, escalation.acknowledged_by_id) if escalation.acknowledged_by_id else None
    return {
        "id": escalation.id,
        "reference": ticket.reference,
        "field": ticket.field,
        "status": ticket.status,
        "assignee": ticket.assignee.username if ticket.assignee else None,
        "level": escalation.level,
        "kind": "warning" if escalation.level == 0 else "escalation",
        "due_at": iso(escalation.due_at),
        "created_at": iso(escalation.created_at),
        "sla_due_at": iso(ticket.sla_due_at),
        "acknowledged_at": iso(escalation.acknowledged_at),
        "acknowledged_by": by.username if by else None,
    }


@bp.get("/alerts")
@api_auth(roles=ROLES)
def list_alerts() -> Any:
    user = current_user()
    assert user is not None
    session = db.session()
    query = (
        select(Escalation)
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .where(alerts.visible_to(user))
        .order_by(Escalation.created_at.desc(), Escalation.id.desc())
        .limit(LIMIT)
    )
    if request.args.get("all") not in ("1", "true"):
        query = query.where(alerts.waiting())
    listed = [alert_json(e, session) for e in session.scalars(query)]
    dead = [
        {
            "id": m.id,
            "channel": m.channel,
            "recipient": m.recipient,
            "reference": (m.payload or {}).get("reference"),
            "tries": m.tries,
            "last_error": m.last_error,
            "created_at": iso(m.created_at),
        }
        for m in dead_messages(session, LIMIT)
    ]
    return jsonify(alerts=listed, dead_messages=dead)


@bp.post("/alerts/<int:alert_id>/ack")
@api_auth(roles=ACKNOWLEDGERS)
def acknowledge(alert_id: int) -> Any:
    """Acknowledge an alert; again is harmless (the first acknowledgement stands)."""
    user = current_user()
    assert user is not None
    session = db.session()
    try:
        escalation = alerts.acknowledge(session, alert_id, user, clock.now())
    except alerts.AlertNotFound:
        return json_error(404, "not_found", f"No SLA alert {alert_id}.")
    return jsonify(alert=alert_json(escalation, session))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    openapi.extend(app, alerts_openapi.PATHS, alerts_openapi.SCHEMAS)
