"""The console's access-log pages, for admins and auditors (read-only): search the log by user, data
subject (reference or phone number), action and period; export the result (a download: it needs a reason
and is logged); the monthly check with its sign-off.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, redirect, render_template, request, url_for

from tickets import access_log, access_review, access_search, clock, downloads, sla, spreadsheet
from tickets.access_log import Action
from tickets.auth import current_user, login_required
from tickets.console import bp
from tickets.db import db
from tickets.masking import e164_or_none, mask_number
from tickets.models import Role

AUDIT_ROLES = (Role.ADMIN.value, Role.AUDITOR.value)
CSV_HEADER = ("번호", "일시", "사용자", "접속지", "수행업무", "정보주체", "사유", "상세")


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["HOTLINE"].timezone)


def _day(key: str) -> date | None:
    raw = request.args.get(key, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=f"{key}: 날짜는 YYYY-MM-DD로 적어 주세요.")


def _filters() -> access_search.Filters:
    first, last = _day("first"), _day("last")
    action = request.args.get("action") or None
    if action is not None and action not in set(Action):
        abort(400, description="수행업무를 다시 고르세요.")
    return access_search.Filters(
        subject=request.args.get("subject", "").strip() or None,
        user=request.args.get("user", "").strip() or None,
        action=action,
        since=datetime.combine(first, time(0), _zone()) if first else None,
        until=datetime.combine(last + timedelta(days=1), time(0), _zone()) if last else None,
    )


def _log_number_search(filters: access_search.Filters) -> None:
    """A search by phone number is an access to that person's data: logged like any other."""
    number = e164_or_none(filters.subject) if filters.subject else None
    if number is not None:
        access_log.record_request(db.session(), Action.VIEW, [mask_number(number)], search="access_log")


@bp.get("/audit")
@login_required(roles=AUDIT_ROLES)
def audit_log() -> Any:
    filters = _filters()
    rows = access_search.search(db.session(), filters)
    _log_number_search(filters)
    return render_template(
        "console/audit.html", rows=rows, query=request.args.to_dict(), actions=list(Action),
        limit=access_search.MAX_ROWS,
    )  # fmt: skip


@bp.get("/audit/export.csv")
@login_required(roles=AUDIT_ROLES)
def audit_export() -> Any:
    filters = _filters()
    why = downloads.reason()
    if why is None:
        return downloads.ask_for_reason("접속기록 CSV 다운로드")
    rows = access_search.search(db.session(), filters, limit=100_000)
    subjects = sorted({s for row in rows for s in row.subjects})
    downloads.log_download(
        subjects, why, export="access_log", **{k: v for k, v in request.args.items() if k != "reason"}
    )
    response = Response(_csv(rows), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = 'attachment; filename="hotline1379-access-log.csv"'
    return response


def _csv(rows: list[access_log.AccessLogEntry]) -> Iterator[str]:
    zone = _zone()
    lines = [spreadsheet.BOM + spreadsheet.line(CSV_HEADER)]
    for row in rows:
        lines.append(
            spreadsheet.line((
                row.id, row.at.astimezone(zone).isoformat(timespec="seconds"), row.actor_name,
                row.address or "", row.action, " ".join(row.subjects), row.reason or "",
                " ".join(f"{k}={v}" for k, v in sorted(row.detail.items())),
            ))
        )  # fmt: skip
    yield "".join(lines)


def _working_time() -> Any:
    hours = sla.deadlines().hours
    return lambda at: hours.between(at, at + timedelta(seconds=1)) > 0


def _month() -> access_review.Month:
    timezone = current_app.config["HOTLINE"].timezone
    label = request.values.get("month", "").strip()
    if not label:
        return access_review.Month.previous(clock.now(), timezone)
    try:
        return access_review.Month.parse(label, timezone)
    except ValueError:
        abort(400, description="월은 YYYY-MM으로 적어 주세요.")


def _findings(month: access_review.Month) -> list[access_review.Finding]:
    threshold = current_app.config["HOTLINE"].privacy.outside_fields_threshold
    return access_review.findings(
        db.session(), month, working_time=_working_time(), outside_threshold=threshold
    )


@bp.get("/audit/review")
@login_required(roles=AUDIT_ROLES)
def audit_review() -> Any:
    month = _month()
    found = _findings(month)
    signed = db.session.get(access_log.AccessReview, month.label)
    return render_template("console/audit_review.html", month=month, findings=found, signed=signed)


@bp.post("/audit/review")
@login_required(roles=AUDIT_ROLES)
def sign_audit_review() -> Any:
    month = _month()
    user = current_user()
    assert user is not None
    try:
        access_review.sign_off(db.session(), month, user, len(_findings(month)), request.form.get("note"))
    except access_review.AlreadySigned:
        flash(f"{month.label}은(는) 이미 확인 서명되었습니다.", "error")
    else:
        flash(f"{month.label} 접속기록 점검을 확인 서명했습니다.", "ok")
    return redirect(url_for("console.audit_review", month=month.label), code=303)
