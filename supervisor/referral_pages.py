"""The supervisors' referral figures: a page and its CSV under /supervisor (supervisor.referral_report).
A blueprint of its own beside the dashboard's, so both can move to a supervisor package apart."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, current_app, render_template, request

from supervisor import referral_report
from supervisor.dashboard import SUPERVISORS, _period_from_request, labels
from tickets.auth import login_required
from tickets.db import db
from tickets.ticket_config import GENERAL_FIELD

bp = Blueprint("supervisor_referrals", __name__, url_prefix="/supervisor", template_folder="templates")
db.read_only_gets(bp)  # the figures only read (see supervisor.dashboard)


def _figures() -> referral_report.ReferralFigures:
    promise = current_app.config["HOTLINE"].scheduler.sla.resolve_within_days
    return referral_report.referral_figures(db.session(), _period_from_request(), promise)


@bp.get("/referrals")
@login_required(roles=SUPERVISORS)
def referrals_page() -> str:
    return render_template(
        "supervisor/referrals.html", figures=_figures(), labels=labels(), GENERAL_FIELD=GENERAL_FIELD,
        query=request.args.to_dict(),
    )  # fmt: skip


@bp.get("/export/referrals.csv")
@login_required(roles=SUPERVISORS)
def export_referrals() -> Response:
    figures = _figures()
    p = figures.period
    suffix = f"-{p.field}" if p.field else ""
    response = Response(list(referral_report.csv_lines(figures)), mimetype="text/csv; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="hotline1379-referrals-{p.first}-{p.last}{suffix}.csv"'
    )
    return response


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
