"""The admins' erasure page: `hotline privacy erase` in the console, with the same confirmation.

The first post shows what would be erased (the number masked, the tickets, the missed calls); only a second
post that carries `confirm` erases. The admin is the access log's actor.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for

from tickets import clock
from tickets.auth import current_user, login_required
from tickets.console import bp
from tickets.db import db
from tickets.erasure import ErasureError, erase_number, find_subjects
from tickets.masking import mask_number
from tickets.models import Role

ADMINS = (Role.ADMIN.value,)


@bp.route("/privacy/erase", methods=["GET", "POST"])
@login_required(roles=ADMINS)
def erase_person() -> Any:
    form = request.form
    number, reference = form.get("number", "").strip(), form.get("reference", "").strip() or None
    reason = form.get("reason", "").strip()
    if request.method == "GET":
        return render_template("console/erase.html", preview=None, form=form)
    try:
        if not reason:
            raise ErasureError("사유를 적어 주세요.")
        e164, tickets, calls = find_subjects(db.session(), number, reference)
        if "confirm" not in form:
            preview = {
                "number": mask_number(e164),
                "tickets": [t.reference for t in tickets],
                "calls": len(calls),
            }
            return render_template("console/erase.html", preview=preview, form=form)
        user = current_user()
        assert user is not None
        report = erase_number(
            db.session(), number, reason=reason, actor=user, now=clock.now(), reference=reference
        )
    except ErasureError as error:
        db.session.rollback()
        return render_template("console/erase.html", preview=None, form=form, error=str(error)), 422
    flash(
        f"{report.number}의 개인정보를 삭제했습니다: 접수 {len(report.tickets)}건, "
        f"부재 통화 {report.calls}건, 녹음 {report.recordings}건(Twilio 삭제 대기).",
        "ok",
    )
    return redirect(url_for("console.erase_person"), code=303)
