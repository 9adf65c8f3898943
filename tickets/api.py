"""The consultant JSON API under /api/v1 (Authorization: Bearer <token>). Its document: /api/v1/openapi.json.

Views parse and answer; tickets.ticket_actions decides who may do what; the request wrapper commits. Errors
are `{"error": {"code", "message"}}` with the HTTP status.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, Flask, Response, current_app, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from tickets import access_log, clock, openapi, recordings, ticket_actions
from tickets.auth import api_auth, current_user, json_error
from tickets.db import db
from tickets.models import OPEN_STATUSES, Status, Ticket, User
from tickets.serialize import iso, ticket_json
from tickets.ticket_actions import ActionError, Context

bp = Blueprint("api", __name__, url_prefix="/api/v1")
DEFAULT_PAGE = 50
# A larger limit is refused, not quietly cut: there is no cursor, so a cut list would look complete.
MAX_PAGE = 200
OUTBOUND_PATH = "/ivr/outbound/{reference}"  # ivr.outbound serves the consultant's leg of click-to-call
OUTBOUND_STATUS_PATH = "/ivr/outbound/{reference}/status"


def _me() -> User:
    user = current_user()
    assert user is not None  # api_auth let the request in
    return user


def _ctx() -> Context:
    return Context.current(db.session(), clock.now())


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ActionError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _log_view(tickets: Any) -> None:
    """Ticket JSON carries the callers' numbers: every answer that holds some is an access-log row."""
    references = [t.reference for t in tickets]
    if references:
        access_log.record_request(db.session(), access_log.Action.VIEW, references)


def queue_json(ticket: Ticket, now: datetime) -> dict[str, Any]:
    """A ticket in a list: numbers masked (the full ones are on the ticket, for who works it)."""
    data = ticket_json(ticket, detail=False)
    data["seconds_left"] = int((ticket.sla_due_at - now).total_seconds()) if ticket.sla_due_at else None
    return data


def _one(ticket: Ticket) -> dict[str, Any]:
    """The ticket an action answers with: full numbers only for someone who may work it."""
    return ticket_json(ticket, detail=False, full_numbers=ticket_actions.may_see_numbers(_me(), ticket))


@bp.errorhandler(ActionError)
def _action_error(error: ActionError) -> Any:
    return json_error(error.status, error.code, error.message)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> Any:
    code = (error.name or "error").lower().replace(" ", "_")
    return json_error(error.code or 500, code, error.description or error.name)


@bp.get("/openapi.json")
def openapi_document() -> Any:
    return openapi.document(current_app)


@bp.get("/queue")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def my_queue() -> Any:
    """Open tickets I hold, the nearest deadline first."""
    now = clock.now()
    tickets = db.session.scalars(
        select(Ticket)
        .where(Ticket.assignee_id == _me().id, Ticket.status.in_(list(OPEN_STATUSES)))
        .order_by(Ticket.sla_due_at.asc().nulls_last(), Ticket.id)
        .limit(MAX_PAGE)
    ).all()
    _log_view(tickets)
    return {"tickets": [queue_json(t, now) for t in tickets]}


@bp.get("/tickets")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def list_tickets() -> Any:
    args = request.args
    now = clock.now()
    limit = _page_limit()
    query = ticket_actions.visible(select(Ticket), _me())
    if status := args.get("status"):
        if status not in set(Status):
            raise ActionError(400, "invalid_status", f"status is one of {', '.join(Status)}")
        query = query.where(Ticket.status == status)
    if field := args.get("field"):
        query = query.where(Ticket.field == field)
    if (assignee := args.get("assignee")) is not None:
        if assignee in ("", "none"):
            query = query.where(Ticket.assignee_id.is_(None))
        else:
            query = query.join(User, User.id == Ticket.assignee_id).where(User.username == assignee)
    overdue = args.get("overdue", "").lower()
    if overdue not in ("", "true", "false"):
        raise ActionError(400, "invalid_overdue", "overdue is true or false")
    if overdue == "true":
        # Served by the (status, sla_due_at) index: open statuses, deadline passed, the longest overdue first.
        query = query.where(Ticket.status.in_(list(OPEN_STATUSES)), Ticket.sla_due_at < now)
        query = query.order_by(Ticket.sla_due_at, Ticket.id)
    else:
        if overdue == "false":
            query = query.where((Ticket.sla_due_at >= now) | Ticket.status.not_in(list(OPEN_STATUSES)))
        query = query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    tickets = db.session.scalars(query.limit(limit)).all()
    _log_view(tickets)
    return {"tickets": [queue_json(t, now) for t in tickets]}


def _page_limit() -> int:
    """?limit= as a whole number from 1 to MAX_PAGE (SQLite reads LIMIT -1 as no limit at all)."""
    raw = request.args.get("limit")
    if raw is None:
        return DEFAULT_PAGE
    if not (raw.isascii() and raw.isdigit() and 1 <= int(raw) <= MAX_PAGE):
        raise ActionError(422, "invalid_limit", f"limit is a whole number from 1 to {MAX_PAGE}")
    return int(raw)


@bp.get("/tickets/<reference>")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def show_ticket(reference: str) -> Any:
    ticket = ticket_actions.find(db.session(), _me(), reference)
    data = ticket_json(ticket, full_numbers=ticket_actions.may_see_numbers(_me(), ticket))
    data.update(
        resolution_summary=ticket.resolution_summary,
        resolution_type=ticket.resolution_type,
        unreached_sms_sent_at=iso(ticket.unreached_notified_at),
        extra_recordings=[
            {
                "id": event.id,
                "at": iso(event.at),
                "duration": event.detail.get("duration"),
                "repeat_call": bool(event.detail.get("call_sid")),
                "href": recordings.extra_link(ticket, event),
            }
            for event in ticket_actions.extra_recordings(ticket)
        ],
    )
    _log_view([ticket])
    return data


@bp.post("/tickets/<reference>/claim")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def claim(reference: str) -> Any:
    ticket = ticket_actions.find(db.session(), _me(), reference)
    return _one(ticket_actions.claim(_ctx(), _me(), ticket))


@bp.post("/tickets/<reference>/release")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def release(reference: str) -> Any:
    ticket = ticket_actions.find(db.session(), _me(), reference)
    return _one(ticket_actions.release(_ctx(), _me(), ticket))


@bp.post("/tickets/<reference>/assign")
@api_auth(roles=ticket_actions.SUPERVISORS)
def assign(reference: str) -> Any:
    body = _body()
    ticket = ticket_actions.find(db.session(), _me(), reference)
    assignee, field = body.get("assignee"), body.get("field")
    if not isinstance(assignee, str | None) or not isinstance(field, str | None):
        raise ActionError(422, "invalid_request", "assignee and field are text")
    return _one(ticket_actions.assign(_ctx(), _me(), ticket, assignee=assignee, field=field))


@bp.post("/tickets/<reference>/attempts")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def attempts(reference: str) -> Any:
    body = _body()
    ticket = ticket_actions.find(db.session(), _me(), reference)
    if "outcome" not in body:
        raise ActionError(422, "invalid_outcome", "outcome is required")
    attempt = ticket_actions.log_attempt(
        _ctx(), _me(), ticket, outcome=body["outcome"], duration=body.get("duration"), note=body.get("note")
    )
    return {
        "attempt": {
            "outcome": attempt.outcome,
            "at": iso(attempt.at),
            "duration": attempt.duration,
            "note": attempt.note,
            "by": attempt.user.username if attempt.user else None,
        },
        "ticket": _one(ticket),
    }, 201


@bp.post("/tickets/<reference>/callback")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def callback(reference: str) -> Any:
    me = _me()
    ticket = ticket_actions.find(db.session(), me, reference)
    query = urlencode({"by": me.id})
    sid = ticket_actions.start_callback(
        _ctx(),
        me,
        ticket,
        twiml_url=public_url(OUTBOUND_PATH.format(reference=ticket.reference)) + f"?{query}",
        status_url=public_url(OUTBOUND_STATUS_PATH.format(reference=ticket.reference)) + f"?{query}",
    )
    return {"call_sid": sid, "calling": me.phone, "ticket": _one(ticket)}, 202


@bp.post("/tickets/<reference>/status")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def status(reference: str) -> Any:
    body = _body()
    ticket = ticket_actions.find(db.session(), _me(), reference)
    if "status" not in body:
        raise ActionError(422, "invalid_status", "status is required")
    ticket_actions.change_status(
        _ctx(),
        _me(),
        ticket,
        body["status"],
        note=body.get("note"),
        summary=body.get("summary"),
        resolution_type=body.get("resolution_type"),
    )
    return _one(ticket)


@bp.post("/tickets/<reference>/notes")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def notes(reference: str) -> Any:
    body = _body()
    ticket = ticket_actions.find(db.session(), _me(), reference)
    ticket_actions.add_note(_ctx(), _me(), ticket, body.get("text"))
    return _one(ticket), 201


@bp.get("/tickets/<reference>/recording")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def recording(reference: str) -> Any:
    return recording_response(ticket_actions.find(db.session(), _me(), reference))


@bp.get("/tickets/<reference>/recordings/<int:event_id>")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def extra_recording(reference: str, event_id: int) -> Any:
    return recording_response(ticket_actions.find(db.session(), _me(), reference), event_id)


def recording_response(ticket: Ticket, event_id: int | None = None) -> Response:
    user = current_user()
    assert user is not None
    audio, content_type = ticket_actions.recording(user, ticket, event_id)
    response = Response(audio, content_type=content_type)  # audio/* only: the gateway refuses the rest
    response.headers["Cache-Control"] = "private, no-store"  # a caller's voice stays off shared caches
    response.headers["X-Content-Type-Options"] = "nosniff"  # played as audio, never sniffed into a page
    return response


def public_url(path: str) -> str:
    base = current_app.config["HOTLINE"].public_base_url or request.host_url.rstrip("/")
    return base + path


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
