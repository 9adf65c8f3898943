"""The page a partner institute answers a referral on, reached only through its private link (no login).

Korean first, made for a phone. The institute accepts (who will contact the company, and by when), declines
(why), and later reports the outcome. It sees that one referral's ticket and nothing else, and only while
the referral is open: a tampered, revoked, expired or used link shows why it does nothing, changes nothing
and logs a warning. Forms carry the session's CSRF token, as the console's do. The token is in the path, so
the page is never cached and sends no Referer.

Every view, answer and recording played leaves an access-log row. Its actor is the institute itself,
named `institute:<key>` (no account id): "system" would hide that someone outside the center saw the
caller's data, and this name lets an auditor search one institute's accesses. The detail names the
referral, whose contact the link was sent to.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from werkzeug.wrappers.response import Response as BaseResponse

from tickets import access_log, auth, clock, recordings, referrals
from tickets.access_log import Action
from tickets.db import db
from tickets.labels import REFERRAL_STATUS_NAMES
from tickets.models import Referral
from tickets.referrals import ANSWERED, EXPIRED, INVALID, REVOKED, LinkRefused, MessageTexts
from tickets.telephony import TelephonyError, telephony

log = logging.getLogger(__name__)
bp = Blueprint(
    "institute", __name__, url_prefix="/institute", template_folder="templates", static_folder="static"
)
db.read_only_gets(bp)

PROBLEMS = {
    INVALID: ("유효하지 않은 링크입니다.", "This link is not valid.", 404),
    REVOKED: ("1379 센터가 이 링크를 취소했습니다.", "The hotline has withdrawn this link.", 410),
    EXPIRED: ("이 링크는 기한이 지났습니다.", "This link has expired.", 410),
    ANSWERED: ("이미 처리된 요청입니다.", "This request has been answered already.", 409),
}


@bp.after_request
def _private(response: Response) -> Response:
    response.headers["Cache-Control"] = "private, no-store"
    response.headers["Referrer-Policy"] = "no-referrer"  # the token must not leak to another site
    response.headers["X-Robots-Tag"] = "noindex"
    return response


@dataclass(frozen=True)
class InstituteActor:
    """The access log's actor for a page opened through a referral's link (see the module docstring)."""

    username: str
    id: None = None

    @classmethod
    def of(cls, referral: Referral) -> InstituteActor:
        return cls(f"institute:{referral.institute.key}"[:64])


def _log_access(referral: Referral, action: Action, page: str, *, write_now: bool = False) -> None:
    """The access-log row for the institute's access to the referral's ticket; never the path, which holds
    the token. A GET reads through a read-only session, so its row is written (and committed) in a short
    transaction of its own."""
    row: dict[str, Any] = {
        "actor": InstituteActor.of(referral), "action": action, "subjects": [referral.ticket.reference],
        "address": request.remote_addr, "user_agent": request.user_agent.string or None,
        "detail": {"page": page, "referral": referral.id, "institute": referral.institute.key},
    }  # fmt: skip
    if write_now:
        with db.writing() as session:
            access_log.record(session, **row)
    else:
        access_log.record(db.session(), **row)


def _texts() -> MessageTexts:
    return MessageTexts.from_config(current_app.config["HOTLINE"])


def _refused(problem: str) -> tuple[str, int]:
    ko, en, status = PROBLEMS[problem]
    return render_template("institute/refused.html", ko=ko, en=en), status


@bp.get("/r/<token>")
def answer_page(token: str) -> Any:
    session = db.session()
    state = referrals.open_link(session, token, clock.now())
    if state.problem is not None or state.referral is None:
        log.warning("institute link opened but refused: %s", state.problem)
        return _refused(state.problem or INVALID)
    referral = state.referral
    ticket = referral.ticket
    texts = _texts()
    _log_access(referral, Action.VIEW, "answer", write_now=True)
    return render_template(
        "institute/answer.html",
        token=token,
        referral=referral,
        ticket=ticket,
        diagnosis=referrals.latest_diagnosis(session, ticket),
        needs=[texts.support_type_names.get(n, n) for n in referrals.needed_support(session, ticket)],
        field=texts.field_names.get(ticket.field, ticket.field),
        has_recording=recordings.own_sid(ticket) is not None,
        status_label=REFERRAL_STATUS_NAMES[referral.status],
        today=clock.now().date().isoformat(),
    )


def _done(token: str, message: str) -> BaseResponse:
    flash(message, "ok")
    return redirect(url_for("institute.answer_page", token=token), code=303)


def _act(token: str, action: Any) -> Any:
    auth.check_csrf()
    try:
        return action()
    except LinkRefused as refused:
        db.session.rollback()
        return _refused(refused.problem)


@bp.post("/r/<token>/accept")
def accept(token: str) -> Any:
    form = request.form
    person = form.get("person", "").strip()
    try:
        expected = date.fromisoformat(form.get("expected_at", ""))
    except ValueError:
        expected = None
    if not person or expected is None or expected < clock.now().date():
        flash("담당자 이름과 오늘 이후의 예상 완료일을 입력하세요.", "error")
        return redirect(url_for("institute.answer_page", token=token), code=303)

    def run() -> Any:
        referral = referrals.accept(
            db.session(), token, person=person, expected=expected, now=clock.now(),
            settings=current_app.config["HOTLINE"].referrals, texts=_texts(),
        )  # fmt: skip
        _log_access(referral, Action.CHANGE, "accept")
        return _done(token, "수락했습니다. 기업에 담당자와 연락처를 문자로 알렸습니다.")

    return _act(token, run)


@bp.post("/r/<token>/decline")
def decline(token: str) -> Any:
    reason = request.form.get("reason", "").strip()
    if not reason:
        flash("거절 사유를 입력하세요.", "error")
        return redirect(url_for("institute.answer_page", token=token), code=303)

    def run() -> Any:
        referral = referrals.decline(db.session(), token, reason=reason, now=clock.now())
        _log_access(referral, Action.CHANGE, "decline")
        return render_template(
            "institute/refused.html", ko="거절을 전달했습니다. 감사합니다.", en="Declined."
        )

    return _act(token, run)


@bp.post("/r/<token>/outcome")
def outcome(token: str) -> Any:
    text = request.form.get("outcome", "").strip()
    if not text:
        flash("지원 결과를 입력하세요.", "error")
        return redirect(url_for("institute.answer_page", token=token), code=303)

    def run() -> Any:
        referral = referrals.complete(db.session(), token, outcome=text, now=clock.now())
        _log_access(referral, Action.INPUT, "outcome")
        return render_template(
            "institute/refused.html", ko="결과를 보고했습니다. 감사합니다.", en="Outcome reported."
        )

    return _act(token, run)


@bp.get("/r/<token>/recording")
def recording(token: str) -> Any:
    """The caller's recording through the same proxy as the console's, while the referral is open."""
    session, now = db.session(), clock.now()
    sid = referrals.recording_sid(session, token, now)
    if sid is None:
        abort(404)
    try:
        audio, content_type = telephony().fetch_recording(sid)
    except TelephonyError:
        abort(502)
    # Logged once fetched (as the console's plays are): a failed fetch played nothing.
    referral = referrals.open_link(session, token, now).referral
    assert referral is not None
    _log_access(referral, Action.PLAY, "recording", write_now=True)
    response = Response(audio, content_type=content_type)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
