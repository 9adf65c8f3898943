"""The consultant's side of partner institutes on the console's ticket page: "진단 및 기관 연계".

The consultant records a diagnosis (summary and needed support types), sees the suggested institutes with
why they come first (the company's region, their open referrals), refers the ticket (institute, optional
contact, note), revokes a referral's links after a confirmation page (no script: the CSP forbids inline
code, and a page works without any) and then sends a new link to the right contact. Every change goes
through tickets.referrals, exactly as the API's do, which also writes the access-log rows; this module parses
forms and words refusals in Korean.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from werkzeug.wrappers.response import Response

from tickets import clock, institutes, referrals, ticket_actions
from tickets.auth import current_user, login_required
from tickets.console import bp
from tickets.db import db
from tickets.labels import REFERRAL_STATUS_NAMES
from tickets.models import Referral, Ticket, User
from tickets.referrals import MessageTexts, ReferralError
from tickets.regions import REGIONS, region_of_number

ERRORS = {
    "ticket_closed": "해결 또는 종결된 접수입니다. 다시 열어야 진단하거나 연계할 수 있습니다.",
    "invalid_summary": "진단 요약을 4000자 이내로 입력하세요.",
    "invalid_needs": "알 수 없는 지원 유형이 있습니다.",
    "invalid_institute": "연계할 수 있는(활성) 기관을 선택하세요.",
    "invalid_contact": "그 기관에 그런 이름의 담당자가 없습니다.",
    "invalid_note": "메모는 4000자 이내로 입력하세요.",
    "already_referred": "이 기관에 진행 중인 연계가 있습니다.",
    "referral_closed": "끝난 연계입니다. 새 링크를 보낼 수 없습니다.",
    "link_works": "아직 쓸 수 있는 링크가 있습니다. 먼저 링크를 취소하세요.",
    "link_expired": "연계 기한이 지나 새 링크를 보낼 수 없습니다.",
}


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _held(reference: str) -> Ticket:
    """The ticket, if the user holds it or supervises (as the API's rule); 404 if they cannot see it."""
    me = _me()
    try:
        ticket = ticket_actions.find(db.session(), me, reference)
    except ticket_actions.ActionError:
        abort(404)
    if not ticket_actions.is_supervisor(me) and ticket.assignee_id != me.id:
        abort(403)
    return ticket


def _back(ticket: Ticket) -> Response:
    return redirect(url_for("console.ticket_page", reference=ticket.reference, _anchor="referrals"), code=303)


def _refused(ticket: Ticket, error: ReferralError) -> Response:
    db.session.rollback()
    flash(ERRORS.get(error.code, error.message), "error")
    return _back(ticket)


def referral_section(ticket: Ticket) -> dict[str, Any]:
    """What the ticket page's "진단 및 기관 연계" section shows."""
    session = db.session()
    suggestions = referrals.suggest(session, ticket) if ticket.is_open else []
    suggested = {s.institute.id for s in suggestions}
    region = region_of_number(ticket.callback_number) or region_of_number(ticket.caller_number)
    return {
        "diagnosis": referrals.latest_diagnosis(session, ticket),
        "needs": referrals.needed_support(session, ticket),
        "suggestions": suggestions,
        "company_region": REGIONS.get(region) if region else None,
        # Any other active institute may be chosen too: the consultant knows things the registry does not.
        # One that declined or let a referral expire is among them: it may be asked again.
        "other_institutes": [
            i
            for i in institutes.list_institutes(session, active_only=True)
            if i.id not in suggested and i.id not in {r.institute_id for r in ticket.referrals if r.is_open}
        ],  # fmt: skip
        "referrals": sorted(ticket.referrals, key=lambda r: r.id),
        "revoked": {r.id for r in ticket.referrals if referrals.links_revoked(session, r)},
        "REFERRAL_STATUS_LABELS": REFERRAL_STATUS_NAMES,
        "REGIONS": REGIONS,
        "has_accepted_referral": referrals.has_accepted(ticket),
    }


@bp.post("/tickets/<reference>/diagnosis")
@login_required(roles=ticket_actions.TICKET_ROLES)
def diagnose(reference: str) -> Response:
    ticket, form = _held(reference), request.form
    try:
        referrals.record_diagnosis(
            db.session(), ticket, summary=form.get("summary", ""), needs=form.getlist("needs"),
            support_type_keys=current_app.config["HOTLINE"].routing.support_type_keys, by=_me(),
            now=clock.now(),
        )  # fmt: skip
    except ReferralError as error:
        return _refused(ticket, error)
    flash("진단을 기록했습니다.", "ok")
    return _back(ticket)


@bp.post("/tickets/<reference>/referrals")
@login_required(roles=ticket_actions.TICKET_ROLES)
def refer(reference: str) -> Response:
    ticket, form = _held(reference), request.form
    try:
        referral = referrals.refer(
            db.session(), ticket, institute_key=form.get("institute", ""),
            contact_name=form.get("contact", "").strip() or None, note=form.get("note") or None, by=_me(),
            now=clock.now(), settings=current_app.config["HOTLINE"].referrals,
            texts=MessageTexts.from_config(current_app.config["HOTLINE"]),
        )  # fmt: skip
    except ReferralError as error:
        return _refused(ticket, error)
    if not referrals.can_message(referral.contact):
        return _nothing_sent(referral)
    flash(f"{referral.institute.name_ko}에 연계 요청을 보냈습니다.", "ok")
    return _back(ticket)


def _nothing_sent(referral: Referral) -> Response:
    """The contact has neither an e-mail address nor a mobile number: nothing went, and the consultant must
    fix the contact (or choose another), then revoke and send a new link."""
    name = referral.contact.name if referral.contact else "담당자"
    flash(
        f"{referral.institute.name_ko} {name}님은 이메일도 휴대전화 번호도 없어 링크를 보내지 못했습니다. "
        "기관 정보에서 연락처를 고치거나 다른 담당자를 골라, 링크를 취소하고 새 링크를 보내세요.",
        "error",
    )
    return _back(referral.ticket)


def _referral(ticket: Ticket, referral_id: int) -> Referral:
    referral = db.session.scalar(
        select(Referral).where(Referral.id == referral_id, Referral.ticket_id == ticket.id)
    )
    if referral is None:
        abort(404)
    return referral


@bp.route("/tickets/<reference>/referrals/<int:referral_id>/revoke", methods=["GET", "POST"])
@login_required(roles=ticket_actions.TICKET_ROLES)
def revoke(reference: str, referral_id: int) -> Any:
    """GET asks for confirmation (what revoking does); POST revokes the referral's links."""
    ticket = _held(reference)
    referral = _referral(ticket, referral_id)
    if request.method == "GET":
        return render_template("console/revoke_referral.html", ticket=ticket, referral=referral)
    count = referrals.revoke_links(db.session(), referral, by=_me(), now=clock.now())
    if count:
        flash(
            f"{referral.institute.name_ko}에 보낸 링크를 취소했습니다. 그 링크로는 더 응답할 수 없습니다.",
            "ok",
        )
    else:
        flash("이미 취소된 링크입니다.", "ok")
    return _back(ticket)


@bp.post("/tickets/<reference>/referrals/<int:referral_id>/new-link")
@login_required(roles=ticket_actions.TICKET_ROLES)
def send_new_link(reference: str, referral_id: int) -> Response:
    """A new link, to the contact chosen, for a referral whose links were revoked."""
    ticket = _held(reference)
    referral = _referral(ticket, referral_id)
    try:
        referrals.send_new_link(
            db.session(), referral, contact_name=request.form.get("contact") or None, by=_me(),
            now=clock.now(), texts=MessageTexts.from_config(current_app.config["HOTLINE"]),
        )  # fmt: skip
    except ReferralError as error:
        return _refused(ticket, error)
    if not referrals.can_message(referral.contact):
        return _nothing_sent(referral)
    assert referral.contact is not None
    flash(f"{referral.institute.name_ko} {referral.contact.name}님께 새 링크를 보냈습니다.", "ok")
    return _back(ticket)
