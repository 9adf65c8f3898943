"""Admins manage the registry of partner institutes in the console: list and search, add, edit, deactivate.

A form is turned into the CSV's row (the same column names, lists joined by `;`, contacts as
`name|email|phone`) and checked by tickets.institutes.parse_row, so the console and `hotline institutes
import` accept and refuse exactly the same institutes. An institute is never deleted: referrals name it,
so it is deactivated instead (no longer suggested or referred to).
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers.response import Response

from callflows.prompts import display_number
from tickets import institutes
from tickets.auth import current_user, login_required
from tickets.console import bp
from tickets.db import db
from tickets.institutes import KIND_NAMES, InvalidInstitute
from tickets.models import Institute, InstituteKind, Role
from tickets.regions import REGIONS

log = logging.getLogger(__name__)

ADMINS = (Role.ADMIN.value,)
EMPTY_CONTACT_ROWS = 2  # blank rows under the existing contacts, for adding one without a script
FORM_SEPARATORS = ("|", ";")  # they separate the CSV's lists: a form's single value must not hold them


def _keys() -> dict[str, Any]:
    routing = current_app.config["HOTLINE"].routing
    return {"field_keys": routing.field_keys, "support_type_keys": routing.support_type_keys}


def _contacts_text(form: MultiDict[str, str]) -> str:
    """The form's contact rows as the CSV writes them; blank rows are skipped."""
    entries = []
    rows = zip(
        form.getlist("contact_name"),
        form.getlist("contact_email"),
        form.getlist("contact_phone"),
        strict=False,
    )
    for name, email, phone in rows:
        values = [name.strip(), email.strip(), phone.strip()]
        if not any(values):
            continue
        if any(sep in value for value in values for sep in FORM_SEPARATORS):
            raise InvalidInstitute(f"contact {values[0]!r}: '|' and ';' cannot be used in a contact")
        entries.append("|".join(values))
    return "; ".join(entries)


def row_from_form(form: MultiDict[str, str], key: str) -> dict[str, str | None]:
    """The CSV row a console form stands for (see the module docstring)."""
    return {
        "key": key,
        "name_ko": form.get("name_ko", ""),
        "name_en": form.get("name_en", ""),
        "kind": form.get("kind", ""),
        "regions": ";".join(form.getlist("regions")),
        "fields": ";".join(form.getlist("fields")),
        "support_types": ";".join(form.getlist("support_types")),
        # People type commas between keywords; the CSV separates them with ";".
        "keywords": form.get("keywords", "").replace(",", ";"),
        "contacts": _contacts_text(form),
        "active": "yes" if "active" in form else "no",
    }


def _form_of(institute: Institute) -> MultiDict[str, str]:
    """An institute as its edit form is first filled."""
    form: MultiDict[str, str] = MultiDict(
        {
            "key": institute.key,
            "name_ko": institute.name_ko,
            "name_en": institute.name_en or "",
            "kind": institute.kind,
            "keywords": ", ".join(institute.keywords),
        }
    )
    for name in ("regions", "fields", "support_types"):
        form.setlist(name, list(getattr(institute, name)))
    if institute.active:
        form["active"] = "on"
    form.setlist("contact_name", [c.name for c in institute.contacts])
    form.setlist("contact_email", [c.email or "" for c in institute.contacts])
    form.setlist("contact_phone", [display_number(c.phone) if c.phone else "" for c in institute.contacts])
    return form


def _page(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    return (
        render_template(
            template, KIND_NAMES=KIND_NAMES, kinds=list(InstituteKind), REGIONS=REGIONS,
            EMPTY_CONTACT_ROWS=EMPTY_CONTACT_ROWS, **_keys(), **context,
        ),
        status,
    )  # fmt: skip


def _who() -> str:
    user = current_user()
    return user.username if user else "-"


@bp.get("/admin/institutes")
@login_required(roles=ADMINS)
def institutes_list() -> Any:
    args = request.args
    found = institutes.list_institutes(
        db.session(),
        field=args.get("field") or None,
        support_type=args.get("support_type") or None,
        q=args.get("q") or None,
    )
    return _page("console/institutes.html", institutes=found, args=args)


@bp.route("/admin/institutes/new", methods=["GET", "POST"])
@login_required(roles=ADMINS)
def add_institute() -> Any:
    if request.method == "GET":
        blank: MultiDict[str, str] = MultiDict(
            {"active": "on", "kind": InstituteKind.RESEARCH_INSTITUTE.value}
        )
        return _page("console/institute.html", institute=None, form=blank, error=None)
    form = request.form
    key = form.get("key", "").strip()
    try:
        if institutes.find(db.session(), key) is not None:
            raise InvalidInstitute(f"key: {key!r} is taken by another institute")
        data = institutes.parse_row(row_from_form(form, key), **_keys())
    except InvalidInstitute as error:
        return _page("console/institute.html", 422, institute=None, form=form, error=str(error))
    institutes.save(db.session(), data)
    log.info("admin %s added institute %s", _who(), key)
    flash(f"{data.name_ko}({key}) 기관을 추가했습니다.", "ok")
    return redirect(url_for("console.institutes_list"), code=303)


def _institute(key: str) -> Institute:
    institute = institutes.find(db.session(), key)
    if institute is None:
        abort(404)
    return institute


@bp.route("/admin/institutes/<key>", methods=["GET", "POST"])
@login_required(roles=ADMINS)
def edit_institute(key: str) -> Any:
    institute = _institute(key)
    if request.method == "GET":
        return _page("console/institute.html", institute=institute, form=_form_of(institute), error=None)
    form = request.form
    try:
        data = institutes.parse_row(row_from_form(form, institute.key), **_keys())
    except InvalidInstitute as error:
        return _page("console/institute.html", 422, institute=institute, form=form, error=str(error))
    outcome, changed = institutes.save(db.session(), data)
    log.info("admin %s saved institute %s: %s %s", _who(), institute.key, outcome, ",".join(changed))
    flash("저장했습니다." if changed else "바뀐 것이 없습니다.", "ok")
    return redirect(url_for("console.edit_institute", key=institute.key), code=303)


@bp.post("/admin/institutes/<key>/deactivate")
@login_required(roles=ADMINS)
def deactivate_institute(key: str) -> Response:
    """No longer suggested or referred to; its referrals and their links go on as they are."""
    institute = _institute(key)
    institute.active = False
    log.info("admin %s deactivated institute %s", _who(), institute.key)
    flash(f"{institute.name_ko} 기관을 비활성화했습니다. 더 이상 추천되거나 연계되지 않습니다.", "ok")
    return redirect(url_for("console.edit_institute", key=institute.key), code=303)
