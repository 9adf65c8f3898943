"""Partner institutes and referrals in the JSON API under /api/v1 (the consultant API's conventions: bearer
tokens, `{"error": {"code", "message"}}`, the request wrapper commits). Documented in
tickets.referrals_openapi, merged into /api/v1/openapi.json.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, current_app, request
from sqlalchemy import select

from tickets import clock, institutes, openapi, referrals, referrals_openapi, ticket_actions
from tickets.auth import api_auth, current_user, json_error
from tickets.db import db
from tickets.models import Referral, Role, Ticket, User
from tickets.referrals import MessageTexts, ReferralError
from tickets.ticket_actions import ActionError

bp = Blueprint("referrals_api", __name__, url_prefix="/api/v1")
ANY_STAFF = (Role.CONSULTANT.value, Role.SUPERVISOR.value, Role.ADMIN.value)


@bp.errorhandler(ActionError)
@bp.errorhandler(ReferralError)
def _error(error: ActionError | ReferralError) -> Any:
    return json_error(error.status, error.code, error.message)


def _me() -> User:
    user = current_user()
    assert user is not None  # api_auth let the request in
    return user


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ActionError(400, "invalid_json", "The body must be a JSON object.")
    return data


def _held(reference: str) -> Ticket:
    """A ticket the caller sees (else 404) and holds, or supervises (else 403)."""
    me = _me()
    ticket = ticket_actions.find(db.session(), me, reference)
    if not ticket_actions.is_supervisor(me) and ticket.assignee_id != me.id:
        raise ActionError(
            403, "not_yours", "Only the consultant holding this ticket (or a supervisor) may do this."
        )
    return ticket


def message_texts() -> MessageTexts:
    return MessageTexts.from_config(current_app.config["HOTLINE"])


@bp.get("/institutes")
@api_auth(roles=ANY_STAFF)
def list_institutes() -> Any:
    args = request.args
    found = institutes.list_institutes(
        db.session(),
        field=args.get("field") or None,
        support_type=args.get("support_type") or None,
        q=args.get("q") or None,
    )
    return {"institutes": [institutes.institute_json(i) for i in found]}


@bp.post("/tickets/<reference>/diagnosis")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def diagnose(reference: str) -> Any:
    body = _body()
    ticket = _held(reference)
    diagnosis = referrals.record_diagnosis(
        db.session(), ticket, summary=body.get("summary"), needs=body.get("needs", []),
        support_type_keys=current_app.config["HOTLINE"].routing.support_type_keys, by=_me(), now=clock.now(),
    )  # fmt: skip
    return {"diagnosis": referrals.diagnosis_json(diagnosis)}, 201


@bp.get("/tickets/<reference>/suggestions")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def suggestions(reference: str) -> Any:
    """Institutes for this ticket, the best first (see tickets.referrals.suggest)."""
    ticket = ticket_actions.find(db.session(), _me(), reference)
    return {
        "institutes": [
            {**institutes.institute_json(s.institute), "near": s.near, "open_referrals": s.open_referrals}
            for s in referrals.suggest(db.session(), ticket)
        ]
    }


@bp.post("/tickets/<reference>/referrals")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def refer(reference: str) -> Any:
    body = _body()
    ticket = _held(reference)
    referral = referrals.refer(
        db.session(), ticket, institute_key=body.get("institute"), contact_name=body.get("contact"),
        note=body.get("note"), by=_me(), now=clock.now(), settings=current_app.config["HOTLINE"].referrals,
        texts=message_texts(),
    )  # fmt: skip
    return referrals.referral_json(referral), 201


def _referral(ticket: Ticket, referral_id: int) -> Referral:
    referral = db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.ticket_id == ticket.id)
    )
    if referral is None:
        raise ActionError(404, "not_found", f"No referral {referral_id} on this ticket.")
    return referral


@bp.post("/tickets/<reference>/referrals/<int:referral_id>/revoke")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def revoke(reference: str, referral_id: int) -> Any:
    """Stop the referral's links from working (sent to the wrong address, forwarded)."""
    ticket = _held(reference)
    referral = _referral(ticket, referral_id)
    revoked = referrals.revoke_links(db.session(), referral, by=_me(), now=clock.now())
    return {"referral": referrals.referral_json(referral), "links_revoked": revoked}


@bp.post("/tickets/<reference>/referrals/<int:referral_id>/new-link")
@api_auth(roles=ticket_actions.TICKET_ROLES)
def send_new_link(reference: str, referral_id: int) -> Any:
    """After revoking: a new link to the institute's contact (the one named, else the referral's own)."""
    ticket = _held(reference)
    referral = _referral(ticket, referral_id)
    contact = _body().get("contact") if request.content_length else None  # the body is optional
    referrals.send_new_link(
        db.session(), referral, contact_name=contact, by=_me(), now=clock.now(), texts=message_texts()
    )
    return referrals.referral_json(referral), 201


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    openapi.extend(app, referrals_openapi.PATHS, referrals_openapi.SCHEMAS)
