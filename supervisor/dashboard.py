"""The supervisor dashboard under /supervisor/: the live picture, reports, CSV exports and the actions.

Server-rendered Korean pages. The live page refreshes itself: a few lines of plain JavaScript poll
`live.json?fragments=1` and swap in the re-rendered sections (the same templates render the first page),
so there is one set of templates and no build step. Supervisors and admins get in; consultants get 403.
Only supervisors act (triage, reassign, acknowledge alerts): admins manage users and config and do not work
tickets (tickets.ticket_actions), so they see the figures without the buttons. Actions go through the ticket
and scheduler services; the request wrapper commits.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.wrappers.response import Response as BaseResponse

from scheduler import alerts
from supervisor import charts, exports, reports
from supervisor.overview import Overview, overview
from supervisor.reports import Period
from tickets import access_log, clock, console, downloads, queue, routing
from tickets.auth import current_user, login_required
from tickets.db import db
from tickets.labels import Labels
from tickets.lifecycle import TransitionError
from tickets.models import Role, Ticket, User
from tickets.ticket_config import GENERAL_FIELD

bp = Blueprint(
    "supervisor", __name__, url_prefix="/supervisor", template_folder="templates", static_folder="static"
)
SUPERVISORS = (Role.SUPERVISOR.value, Role.ADMIN.value)  # who sees the dashboard
ACTORS = (Role.SUPERVISOR.value,)  # who acts on it: the templates show the buttons to them alone
LIVE_SECTIONS = ("status", "alerts", "backlog", "consultants", "calls", "pool", "dead")
REFRESH_SECONDS = 15
DEFAULT_REPORT_DAYS = 30
# Said where a chart or table of the reports would otherwise stand empty.
NOTHING_RECEIVED = "이 기간에 접수된 상담이 없습니다."
NOTHING_DECIDED = "이 기간에 접수된 상담 중 완료되었거나 기한이 지난 건이 없어 준수율을 낼 수 없습니다."
MAX_REPORT_DAYS = 366 * 5

# The pages, reports and exports only read. In a write transaction on SQLite they would hold the write lock,
# which every webhook needs, for as long as a slow browser takes.
db.read_only_gets(bp)


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # Supervisors and admins see a link in the console header and land here after logging in.
    console.add_home_page(app, "supervisor.dashboard", "감독 대시보드", SUPERVISORS)
    console.add_home_page(app, "supervisor.report_page", "보고서", SUPERVISORS)


def _session() -> Session:
    return db.session()


def _config() -> Any:
    return current_app.config["HOTLINE"]


def labels() -> Labels:
    return Labels(_config().flow, _config().timezone)


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    # parse_time: the heartbeat's ISO stamp, shown in the hotline's time zone like every other time.
    return {"labels": labels(), "GENERAL_FIELD": GENERAL_FIELD, "parse_time": datetime.fromisoformat}


# --- the live page ----------------------------------------------------------------------------------------


def _live_context(picture: Overview) -> dict[str, Any]:
    by_field: dict[str, list[Any]] = {}
    for consultant in picture.consultants:
        for field_key in consultant.fields:
            by_field.setdefault(field_key, []).append(consultant)
    # A ticket's alerts as one row: in the list's order (most severe first), so a row shows the top level.
    alert_groups: dict[str, list[Any]] = {}
    for alert in picture.alerts:
        alert_groups.setdefault(alert.reference, []).append(alert)
    return {"o": picture, "consultants_by_field": by_field, "alert_groups": alert_groups}


def _render_sections(picture: Overview) -> dict[str, Markup]:
    context = _live_context(picture)
    return {
        name: Markup(render_template(f"supervisor/live/{name}.html", **context)) for name in LIVE_SECTIONS
    }


def _picture() -> Overview:
    """The live picture as the logged-in supervisor sees it (alerts of their fields)."""
    return overview(_session(), clock.now(), _config().timezone, viewer=current_user())


@bp.get("/")
@login_required(roles=SUPERVISORS)
def dashboard() -> str:
    picture = _picture()
    return render_template(
        "supervisor/dashboard.html",
        sections=_render_sections(picture),
        live_sections=LIVE_SECTIONS,
        refresh_seconds=current_app.config.get("SUPERVISOR_REFRESH_SECONDS", REFRESH_SECONDS),
        **_live_context(picture),
    )


@bp.get("/live.json")
@login_required(roles=SUPERVISORS)
def live() -> Response:
    picture = _picture()
    data = picture.to_json()
    if request.args.get("fragments"):
        data["fragments"] = _render_sections(picture)
    response = jsonify(data)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- reports ----------------------------------------------------------------------------------------------


def _period_from_request() -> Period:
    today = clock.now().astimezone(labels().local_zone).date()
    try:
        last = date.fromisoformat(request.args["last"]) if request.args.get("last") else today
        first = (
            date.fromisoformat(request.args["first"])
            if request.args.get("first")
            else last - timedelta(days=DEFAULT_REPORT_DAYS - 1)
        )
        field_key = request.args.get("field") or None
        if field_key is not None and field_key not in (*labels().field_keys, GENERAL_FIELD):
            raise ValueError(f"unknown field {field_key!r}")
        period = Period(first, last, field_key, _config().timezone)
    except ValueError as error:
        abort(400, description=f"기간 또는 분야가 올바르지 않습니다: {error}")
    if (period.last - period.first).days >= MAX_REPORT_DAYS:
        abort(400, description="기간은 5년 이내로 선택하세요.")
    return period


def _report(period: Period) -> reports.Report:
    return reports.build_report(_session(), period, clock.now(), labels().support_type_keys)


@bp.get("/reports")
@login_required(roles=SUPERVISORS)
def report_page() -> str:
    period = _period_from_request()
    report = _report(period)
    names = labels()
    days = report.days
    short_days = [d.day[5:] for d in days]  # MM-DD
    shares = [(names.support_type(key), n) for key, n in report.by_support_type().items()]
    shares.sort(key=lambda item: -item[1])
    return render_template(
        "supervisor/reports.html",
        period=period,
        report=report,
        volume_chart=charts.bar_chart(
            "일별 접수 건수",
            [(d.day, d.received) for d in days],
            short_labels=short_days,
            empty=NOTHING_RECEIVED,
        ),
        compliance_chart=charts.line_chart(
            "일별 기한 준수율 (접수일 기준)",
            [(d.day, d.compliance) for d in days],
            short_labels=short_days,
            empty=NOTHING_DECIDED,
        ),
        share_chart=charts.share_chart("지원유형별 비중", shares, empty=NOTHING_RECEIVED),
        nothing_received=NOTHING_RECEIVED,
        query=request.args.to_dict(),
    )


@bp.get("/reports.json")
@login_required(roles=SUPERVISORS)
def report_json() -> Response:
    report = _report(_period_from_request())
    return jsonify(
        {
            "period": {
                "first": report.period.first.isoformat(),
                "last": report.period.last.isoformat(),
                "field": report.period.field,
            },
            "received": report.received,
            "by_field": report.by_field(),
            "by_channel": {
                channel: {
                    "received": figures.received,
                    "met": figures.compliance.met,
                    "breached": figures.compliance.breached,
                    "percent": figures.compliance.percent,
                }
                for channel, figures in report.by_channel.items()
            },
            "by_support_type": {key or "": n for key, n in report.by_support_type().items()},
            "by_field_and_support_type": [
                {"field": f, "support_type": s, "count": n}
                for (f, s), n in report.by_field_and_support_type.items()
            ],
            "sla_compliance": {
                "met": report.compliance.met,
                "breached": report.compliance.breached,
                "percent": report.compliance.percent,
            },
            "missed_calls": vars(report.missed_calls),
            "time_to_first_callback": vars(report.first_callback),
            "time_to_close": vars(report.close),
            "escalations_by_level": {str(level): n for level, n in report.escalations.items()},
            "unreached": {
                "attempts_by_outcome": report.unreached.attempts_by_outcome,
                "unreached_attempts": report.unreached.unreached_attempts,
                "tickets_notified": report.unreached.tickets_notified,
            },
            "daily": [vars(d) | {"compliance": d.compliance} for d in report.days],
            "monthly": [
                {
                    "month": m.month,
                    "received": m.received,
                    "by_support_type": {key or "": n for key, n in m.by_support_type.items()},
                    "finished": m.finished,
                    "met": m.met,
                    "breached": m.breached,
                    "compliance": m.compliance,
                }
                for m in report.months
            ],
        }
    )


def _csv(lines: Iterator[str], filename: str) -> Response:
    # Streamed after the request has ended (and its session with it): `lines` must read, if at all,
    # through sessions of its own (db.reading), and needs no request context.
    response = Response(lines, mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/export/tickets.csv")
@login_required(roles=SUPERVISORS)
def export_tickets() -> Response:
    period = _period_from_request()
    why = downloads.reason()
    if why is None:
        return downloads.ask_for_reason("접수 목록 CSV 다운로드")
    until = clock.now()  # the export holds what was received up to now, and the log names exactly that
    downloads.log_download(
        exports.ticket_subjects(db.reading, period, until), why, export="tickets", **_period_detail(period)
    )
    suffix = f"-{period.field}" if period.field else ""
    return _csv(
        exports.ticket_rows(db.reading, period, labels(), until),
        f"hotline1379-tickets-{period.first}-{period.last}{suffix}.csv",
    )


@bp.get("/export/monthly.csv")
@login_required(roles=SUPERVISORS)
def export_monthly() -> Response:
    period = _period_from_request()
    why = downloads.reason()
    if why is None:
        return downloads.ask_for_reason("월별 보고서 CSV 다운로드")
    months = reports.monthly(_session(), period, clock.now(), labels().support_type_keys)
    downloads.log_download([], why, export="monthly", **_period_detail(period))  # counts only: no subjects
    suffix = f"-{period.field}" if period.field else ""
    return _csv(
        exports.monthly_rows(months, labels()),
        f"hotline1379-monthly-{period.first}-{period.last}{suffix}.csv",
    )


def _period_detail(period: Period) -> dict[str, Any]:
    return {"first": period.first.isoformat(), "last": period.last.isoformat(), "field": period.field}


# --- actions ----------------------------------------------------------------------------------------------


def _ticket_or_404(reference: str) -> Ticket:
    ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
    if ticket is None:
        abort(404, description=f"접수번호 {reference}을(를) 찾을 수 없습니다.")
    return ticket


def _back() -> BaseResponse:
    return redirect(url_for("supervisor.dashboard"))


@bp.post("/tickets/<reference>/assign")
@login_required(roles=ACTORS)
def reassign(reference: str) -> BaseResponse:
    ticket = _ticket_or_404(reference)
    username = request.form.get("username", "")
    consultant = db.session.scalar(select(User).where(User.username == username))
    if consultant is None:
        abort(400, description="담당자를 선택하세요.")
    by = current_user()
    assert by is not None
    try:
        queue.reassign(_session(), ticket, consultant, by=by, now=clock.now())
    except TransitionError as error:
        abort(409, description=f"재배정할 수 없습니다: {error}")
    access_log.record_request(_session(), access_log.Action.CHANGE, [ticket.reference], what="assign")
    flash(f"{ticket.reference}을(를) {consultant.display_name}에게 배정했습니다.")
    return _back()


@bp.post("/tickets/<reference>/field")
@login_required(roles=ACTORS)
def triage(reference: str) -> BaseResponse:
    ticket = _ticket_or_404(reference)
    field_key = request.form.get("field", "")
    by = current_user()
    assert by is not None
    try:
        assignee = routing.set_field(
            _session(),
            ticket,
            field_key,
            by=by,
            now=clock.now(),
            known_fields=labels().field_keys,
            timezone=_config().timezone,
        )
    except TransitionError as error:
        abort(409, description=f"분야를 지정할 수 없습니다: {error}")
    access_log.record_request(_session(), access_log.Action.CHANGE, [ticket.reference], what="field")
    names = labels()
    if assignee is not None:
        flash(f"{ticket.reference}: {names.field(field_key)} 분야, {assignee.display_name}에게 배정했습니다.")
    else:
        flash(
            f"{ticket.reference}: {names.field(field_key)} 분야 대기열로 보냈습니다 (근무 중인 담당자 없음)."
        )
    return _back()


@bp.post("/alerts/<int:alert_id>/ack")
@login_required(roles=ACTORS)
def acknowledge(alert_id: int) -> BaseResponse:
    """Acknowledge an alert; again is harmless (the first acknowledgement stands)."""
    by = current_user()
    assert by is not None
    try:
        escalation = alerts.acknowledge(_session(), alert_id, by, clock.now())
    except alerts.AlertNotFound:
        abort(404, description=f"경보 {alert_id}을(를) 찾을 수 없습니다.")
    flash(f"경보를 확인했습니다: {escalation.ticket.reference} ({labels().level(escalation.level)})")
    return _back()


@bp.post("/alerts/ack")
@login_required(roles=ACTORS)
def acknowledge_ticket_alerts() -> BaseResponse:
    """Acknowledge the alerts of one ticket at once: the page shows a ticket's alerts as one row."""
    by = current_user()
    assert by is not None
    seen = []
    for raw in request.form.getlist("alert_id"):
        try:
            seen.append(alerts.acknowledge(_session(), int(raw), by, clock.now()))
        except (ValueError, alerts.AlertNotFound):
            abort(404, description=f"경보 {raw}을(를) 찾을 수 없습니다.")
    if seen:
        top = max(seen, key=lambda escalation: escalation.level)
        flash(f"경보를 확인했습니다: {top.ticket.reference} ({labels().level(top.level)})")
    return _back()
