"""The consultant console: server-rendered Korean pages (Jinja, no build step) under /console.

Login, my queue (time left to each deadline, shown in Asia/Seoul), the pools of my fields, and a ticket page
with the company's numbers, the recording (through the app's authorised proxy), history, attempts,
click-to-call, notes and status buttons. Every form carries the CSRF token; actions go through
tickets.ticket_actions, exactly as the API's do.

Other packages add the pages some roles work from (the supervisor dashboard) with `add_home_page`: the
header links them, and those roles land there after logging in without `next=`. (Tickets may not import
those packages, so they register themselves at init_app.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import phonenumbers
from flask import Blueprint, Flask, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import and_, case, select

from tickets import access_log, auth, clock, ticket_actions, two_step
from tickets.api import OUTBOUND_PATH, OUTBOUND_STATUS_PATH, public_url, recording_response
from tickets.auth import current_user, login_required
from tickets.console.history import describe
from tickets.console.labels import (
    ERROR_MESSAGES,
    EVENT_LABELS,
    OUTCOME_LABELS,
    REFERRED_LABEL,
    STATUS_LABELS,
)
from tickets.console.search import DUE_CHOICES, Filters, search
from tickets.db import db
from tickets.labels import GENERAL_NAME
from tickets.lifecycle import allowed_next
from tickets.masking import mask_number
from tickets.models import OPEN_STATUSES, Outcome, Status, Ticket, User
from tickets.telephony import telephony
from tickets.ticket_actions import ActionError, Context
from tickets.ticket_config import GENERAL_FIELD

bp = Blueprint(
    "console", __name__, url_prefix="/console", template_folder="templates", static_folder="static"
)

STATUS_BUTTONS = {
    "in_progress": "처리 시작", "waiting": "보류", "resolved": "해결", "closed": "종결",
}  # fmt: skip


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _local(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if value is None:
        return "-"
    return value.astimezone(ZoneInfo(current_app.config["HOTLINE"].timezone)).strftime(fmt)


def time_left(due: datetime | None, now: datetime | None = None) -> str:
    """ "2일 3시간 남음" or "5시간 12분 초과": how a consultant reads a deadline at a glance."""
    if due is None:
        return "-"
    seconds = int((due - (now or clock.now())).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    text = f"{days}일 {hours}시간" if days else f"{hours}시간 {minutes}분"
    return f"{text} {'남음' if seconds >= 0 else '초과'}"


def minutes(seconds: int | None) -> str:
    """A call's duration in the unit it is typed in: minutes (90 seconds -> "1.5분")."""
    return "-" if seconds is None else f"{round(seconds / 60, 1):g}분"


def callback_due(now: datetime) -> Any:
    """0 for a waiting ticket whose callback time has come, else 1: the queue's first sort key."""
    return case((and_(Ticket.status == Status.WAITING, Ticket.callback_at <= now), 0), else_=1)


def _names() -> dict[str, Any]:
    flow = current_app.config["HOTLINE"].flow
    fields = {f.key: f.name("ko") for f in flow.fields}
    fields[GENERAL_FIELD] = GENERAL_NAME
    return {"fields": fields, "support_types": {s.key: s.name("ko") for s in flow.support_types}}


@bp.app_template_filter("phone")
def _phone_filter(value: str | None) -> str:
    """+821012345678 -> 010-1234-5678: how people in Korea read and dial a number."""
    if not value:
        return "-"
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        return value
    if number.country_code == 82:
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@bp.app_template_filter("masked")
def _masked_filter(value: str | None) -> str:
    """The one masking rule for pages: 010-****-5678 (tickets.masking)."""
    return mask_number(value) or "-"


@bp.app_template_filter("local")
def _local_filter(value: datetime | None) -> str:
    return _local(value)


@bp.context_processor
def _globals() -> dict[str, Any]:
    return {
        "STATUS_LABELS": STATUS_LABELS, "OUTCOME_LABELS": OUTCOME_LABELS, "time_left": time_left,
        "EVENT_LABELS": EVENT_LABELS, "names": _names(), "Status": Status,
        "describe": describe, "minutes": minutes, "DUE_CHOICES": DUE_CHOICES,
        "filters": Filters.from_args(request.args),
    }  # fmt: skip


@bp.app_context_processor
def _header_globals() -> dict[str, Any]:
    # The header (console/_header.html) is on the supervisor dashboard's pages too, another blueprint.
    return {"home_pages": home_pages}


@dataclass(frozen=True)
class HomePage:
    endpoint: str
    label: str
    roles: tuple[str, ...]


HOME_PAGES = "console.home_pages"  # app.extensions key: the HomePages other packages added


def add_home_page(app: Flask, endpoint: str, label: str, roles: Iterable[str]) -> None:
    """A page (Flask endpoint) that `roles` work from: linked in the console header, their landing page."""
    app.extensions.setdefault(HOME_PAGES, []).append(HomePage(endpoint, label, tuple(roles)))


def home_pages(user: User | None) -> list[HomePage]:
    if user is None:
        return []
    return [page for page in current_app.extensions.get(HOME_PAGES, []) if user.role in page.roles]


def _landing(user: User) -> str:
    """Where a login without next= goes: the user's first home page, else the queue."""
    pages = home_pages(user)
    return url_for(pages[0].endpoint) if pages else url_for("console.my_queue")


def _safe_next(target: str | None, fallback: str) -> str:
    # Only paths on this site: a login link must not bounce people elsewhere.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return fallback


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    error, retry_after = None, None
    if request.method == "POST":
        auth.check_csrf()
        try:
            user = auth.authenticate(
                db.session(),
                request.form.get("username", ""),
                request.form.get("password", ""),
                clock.now(),
                address=auth.client_address(),
            )  # commits the attempt itself, so a refusal is counted whatever the status
        except auth.LoginLocked as locked:
            error, retry_after = str(locked), locked.minutes * 60
        except auth.LoginError as failure:
            error = str(failure)
        else:
            logins = current_app.config["HOTLINE"].logins
            if two_step.required(user, auth.client_address(), logins):
                auth.begin_second_step(user, clock.now())  # logged in only once the code is right
                return redirect(url_for("console.login_code", next=request.args.get("next") or None))
            auth.log_in(user, clock.now())
            return redirect(_safe_next(request.args.get("next"), _landing(user)))
    page = render_template("console/login.html", error=error)
    if retry_after is None:
        return page
    return page, 429, {"Retry-After": str(retry_after)}


@bp.post("/logout")
@login_required()
def logout() -> Any:
    auth.log_out(_me())
    return redirect(url_for("console.login"))


@bp.get("/")
@login_required(roles=ticket_actions.TICKET_ROLES)
def my_queue() -> Any:
    me = _me()
    mine = db.session.scalars(
        select(Ticket)
        .where(Ticket.assignee_id == me.id, Ticket.status.in_(list(OPEN_STATUSES)))
        # A waiting ticket whose "call back at" has come goes back to the top.
        .order_by(callback_due(clock.now()), Ticket.sla_due_at.asc().nulls_last(), Ticket.id)
        .limit(200)
    ).all()
    pool = db.session.scalars(
        ticket_actions.visible(select(Ticket), me)
        .where(Ticket.status == Status.NEW, Ticket.assignee_id.is_(None))
        .order_by(Ticket.sla_due_at.asc().nulls_last(), Ticket.id)
        .limit(200)
    ).all()
    filters = Filters.from_args(request.args)
    results = search(db.session(), me, filters, clock.now()) if filters.active else None
    if filters.phone:
        # Looking a person up by number is an access to their data, whatever it finds.
        found = [t.reference for t in results or []]
        access_log.record_request(
            db.session(), access_log.Action.VIEW, [mask_number(filters.phone), *found], query="phone"
        )
    return render_template(
        "console/queue.html", mine=mine, pool=pool, results=results, now=clock.now(),
        field_keys=current_app.config["HOTLINE"].routing.field_keys,
    )  # fmt: skip


@bp.get("/tickets/<reference>")
@login_required(roles=ticket_actions.TICKET_ROLES)
def ticket_page(reference: str) -> Any:
    me = _me()
    ticket = _find(reference)
    holds = ticket.assignee_id == me.id or ticket_actions.is_supervisor(me)
    consultants = []
    if ticket_actions.is_supervisor(me):
        consultants = [
            u for u in db.session.scalars(select(User).where(User.active.is_(True)).order_by(User.username))
            if u.role == "consultant" and ticket.field in u.fields
        ]  # fmt: skip
    next_statuses = [s for s in STATUS_BUTTONS if holds and Status(s) in _allowed(ticket)]
    access_log.record_request(db.session(), access_log.Action.VIEW, [ticket.reference])
    from tickets.console.referrals import referral_section  # it imports this module's blueprint

    return render_template(
        "console/ticket.html", ticket=ticket, holds=holds, next_statuses=next_statuses, now=clock.now(),
        STATUS_BUTTONS=STATUS_BUTTONS, outcomes=list(Outcome), consultants=consultants,
        field_keys=current_app.config["HOTLINE"].routing.field_keys,
        extra_recordings=ticket_actions.extra_recordings(ticket), REFERRED_LABEL=REFERRED_LABEL,
        show_numbers=ticket_actions.may_see_numbers(me, ticket), **referral_section(ticket),
        real_recordings=getattr(telephony(), "plays_real_recordings", True),
        notes=[e for e in reversed(ticket.events) if e.type == "note"],
        earlier=_same_caller(me, ticket),
        history=[e for e in reversed(ticket.events) if e.type != "note"],
    )  # fmt: skip


def _same_caller(me: User, ticket: Ticket) -> list[Ticket]:
    """The caller's other tickets (same number), newest first: what they asked before, one click away."""
    numbers = {n for n in (ticket.caller_number, ticket.callback_number) if n}
    if not numbers:
        return []
    query = ticket_actions.visible(select(Ticket), me).where(
        Ticket.id != ticket.id,
        (Ticket.caller_number.in_(numbers)) | (Ticket.callback_number.in_(numbers)),
    )
    return list(db.session.scalars(query.order_by(Ticket.created_at.desc()).limit(20)))


def _allowed(ticket: Ticket) -> frozenset[Status]:
    return allowed_next(ticket.status)


def _find(reference: str) -> Ticket:
    try:
        return ticket_actions.find(db.session(), _me(), reference)
    except ActionError:
        abort(404)


def _callback_time(raw: str, now: datetime) -> datetime | None:
    """The form's "call back at" (a datetime-local in the hotline's time zone) as UTC; it must be ahead."""
    if not raw.strip():
        return None
    try:
        local = datetime.fromisoformat(raw.strip())
    except ValueError:
        raise ActionError(422, "invalid_callback_at", "회신 시각을 알아볼 수 없습니다.") from None
    zone = ZoneInfo(current_app.config["HOTLINE"].timezone)
    when = local.replace(tzinfo=zone).astimezone(UTC)
    if when <= now:
        raise ActionError(422, "invalid_callback_at", "회신 시각은 지금보다 뒤여야 합니다.")
    return when


RECORDING_ERRORS = {
    404: "이 녹음은 없거나 이미 삭제되었습니다.",
    502: "Twilio에 연결하지 못해 녹음을 가져오지 못했습니다. 잠시 후 다시 시도해 주세요.",
}


def _recording(ticket: Ticket, event_id: int | None = None) -> Any:
    """The audio, or why not in Korean: the page's script shows this text where the player would be."""
    try:
        return recording_response(ticket, event_id)
    except ActionError as error:
        text = RECORDING_ERRORS.get(error.status, "녹음을 재생할 수 없습니다.")
        return text, error.status, {"Content-Type": "text/plain; charset=utf-8"}


def _act(reference: str, action: Any, success: str) -> Any:
    """Run an action for a form post; show the outcome on the ticket page (errors roll back)."""
    ticket = _find(reference)
    ctx = Context.current(db.session(), clock.now())
    try:
        action(ctx, _me(), ticket)
    except ActionError as error:
        db.session.rollback()
        flash(ERROR_MESSAGES.get(error.code, error.message), "error")
        return redirect(url_for("console.ticket_page", reference=ticket.reference), code=303)
    flash(success, "ok")
    return redirect(url_for("console.ticket_page", reference=ticket.reference), code=303)


@bp.post("/tickets/<reference>/claim")
@login_required(roles=ticket_actions.TICKET_ROLES)
def claim(reference: str) -> Any:
    return _act(reference, ticket_actions.claim, "이 건을 가져왔습니다.")


@bp.post("/tickets/<reference>/release")
@login_required(roles=ticket_actions.TICKET_ROLES)
def release(reference: str) -> Any:
    return _act(reference, ticket_actions.release, "풀로 돌려보냈습니다.")


@bp.post("/tickets/<reference>/assign")
@login_required(roles=ticket_actions.SUPERVISORS)
def assign(reference: str) -> Any:
    form = request.form
    return _act(
        reference,
        lambda c, u, t: ticket_actions.assign(
            c, u, t, assignee=form.get("assignee") or None, field=form.get("field") or None
        ),
        "배정했습니다.",
    )


@bp.post("/tickets/<reference>/attempts")
@login_required(roles=ticket_actions.TICKET_ROLES)
def attempt(reference: str) -> Any:
    form = request.form
    raw = form.get("duration_minutes", "").strip()
    duration = int(float(raw) * 60) if raw.replace(".", "", 1).isdigit() else None
    return _act(
        reference,
        lambda c, u, t: ticket_actions.log_attempt(
            c, u, t, outcome=form.get("outcome", ""), duration=duration, note=form.get("note")
        ),
        "통화 시도를 기록했습니다.",
    )  # fmt: skip


@bp.post("/tickets/<reference>/callback")
@login_required(roles=ticket_actions.TICKET_ROLES)
def callback(reference: str) -> Any:
    query = urlencode({"by": _me().id})

    def start(c: Context, u: User, t: Ticket) -> str:
        return ticket_actions.start_callback(
            c, u, t,
            twiml_url=public_url(OUTBOUND_PATH.format(reference=t.reference)) + f"?{query}",
            status_url=public_url(OUTBOUND_STATUS_PATH.format(reference=t.reference)) + f"?{query}",
        )  # fmt: skip

    return _act(reference, start, "내 전화로 연결 중입니다. 전화를 받으면 고객에게 연결됩니다.")


@bp.post("/tickets/<reference>/status")
@login_required(roles=ticket_actions.TICKET_ROLES)
def status(reference: str) -> Any:
    form = request.form
    target = form.get("status", "")
    label = STATUS_LABELS.get(target, target)

    def change(c: Context, u: User, t: Ticket) -> None:
        note = form.get("note") or None
        callback_at = None
        if target == Status.WAITING:
            if not (note or "").strip():
                raise ActionError(422, "reason_required", "보류하려면 사유를 적어 주세요.")
            callback_at = _callback_time(form.get("callback_at", ""), c.now)
            if callback_at is not None:
                note = f"{note} (회신 예정 {_local(callback_at)})"
        if target == Status.RESOLVED and t.status == Status.ASSIGNED:
            # Someone who called from a desk phone resolves straight away: the work started with that call.
            ticket_actions.change_status(c, u, t, Status.IN_PROGRESS.value)
        ticket_actions.change_status(
            c, u, t, target, note=note,
            summary=form.get("summary") or None, resolution_type=form.get("resolution_type") or None,
        )  # fmt: skip
        t.callback_at = callback_at  # only a waiting ticket keeps one

    return _act(reference, change, f"상태를 '{label}'(으)로 바꿨습니다.")


@bp.post("/tickets/<reference>/company")
@login_required(roles=ticket_actions.TICKET_ROLES)
def company(reference: str) -> Any:
    name = request.form.get("company", "")
    return _act(
        reference, lambda c, u, t: ticket_actions.set_company(c, u, t, name), "회사명을 저장했습니다."
    )


@bp.post("/tickets/<reference>/notes")
@login_required(roles=ticket_actions.TICKET_ROLES)
def note(reference: str) -> Any:
    text = request.form.get("text", "")
    return _act(reference, lambda c, u, t: ticket_actions.add_note(c, u, t, text), "메모를 남겼습니다.")


@bp.get("/tickets/<reference>/recording")
@login_required(roles=ticket_actions.TICKET_ROLES)
def recording(reference: str) -> Any:
    return _recording(_find(reference))


@bp.get("/tickets/<reference>/recordings/<int:event_id>")
@login_required(roles=ticket_actions.TICKET_ROLES)
def extra_recording(reference: str, event_id: int) -> Any:
    """A later recording of the ticket (a repeat call's message), through the same authorised proxy."""
    return _recording(_find(reference), event_id)


def init_app(app: Flask) -> None:
    # Their views join this blueprint.
    from tickets.console import audit, erasure, errors, inbox, institutes, referrals, second_step, users  # noqa: F401

    app.register_blueprint(bp)
    errors.init_app(app)
    # Auditors work from the access log (and land there); admins get a link beside their dashboard.
    add_home_page(app, "console.audit_log", "접속기록", audit.AUDIT_ROLES)
