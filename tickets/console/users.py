"""People in the console: admins list, add and edit accounts; everyone sets their own availability.

Admins (only they: anyone else gets 403) see every user with role, fields, phone and availability, add one
(with the same checks as `hotline users add`), change fields, phone, role and whether the account is active,
set someone on or off duty or away for some days, reset a password (which also ends a lock-out) and revoke
API tokens. A consultant or supervisor marks themself off duty or away on /console/me, so routing skips
them. The checks live in tickets.accounts; this module parses forms and words refusals in Korean.
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from tickets import accounts, clock, queue, routing
from tickets.accounts import AccountError
from tickets.auth import current_user, login_required
from tickets.console import bp
from tickets.db import db
from tickets.models import ApiToken, Role, User
from tickets.telephony import mask_phone
from tickets.ticket_config import GENERAL_FIELD

log = logging.getLogger(__name__)

ADMINS = (Role.ADMIN.value,)
ROLE_LABELS = {
    "consultant": "전문위원",
    "supervisor": "감독자",
    "admin": "관리자",
    "auditor": "감사(열람 전용)",
}
ERRORS = {
    "invalid_role": "역할을 다시 선택하세요.",
    "invalid_username": "아이디는 64자 이내의 영문, 숫자, '.', '-', '_'로 만드세요.",
    "username_taken": "이미 있는 아이디입니다.",
    "unknown_field": "알 수 없는 분야가 있습니다.",
    "short_password": "비밀번호는 8자 이상이어야 합니다.",
    "invalid_phone": "전화번호가 올바르지 않습니다 (예: 010-1234-5678).",
    "away_order": "부재 시작일이 종료일보다 늦습니다.",
    "invalid_date": "날짜 형식이 올바르지 않습니다 (예: 2026-12-01).",
    "self_lockout": "자기 계정의 역할을 바꾸거나 비활성화할 수는 없습니다.",
}


def _korean(error: AccountError) -> str:
    return ERRORS.get(error.code, str(error))


def _me() -> User:
    user = current_user()
    assert user is not None
    return user


def _known_fields() -> tuple[str, ...]:
    # "general" too: a supervisor may oversee the pool of callers who were not sure.
    return (*current_app.config["HOTLINE"].routing.field_keys, GENERAL_FIELD)


def _today() -> date:
    return routing.local_date(clock.now(), current_app.config["HOTLINE"].timezone)


def _date(raw: str | None) -> date | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise AccountError(f"not a date: {raw!r}", "invalid_date") from None


def _set_availability(user: User) -> None:
    form = request.form
    accounts.set_availability(
        user,
        on_duty="on_duty" in form,
        away_from=_date(form.get("away_from")),
        away_until=_date(form.get("away_until")),
    )


def _page(template: str, status: int = 200, **context: Any) -> Any:
    return (
        render_template(
            template, ROLE_LABELS=ROLE_LABELS, roles=list(Role), field_keys=_known_fields(), today=_today(),
            is_away=routing.is_away, **context,
        ),
        status,
    )  # fmt: skip


def _done(message: str, user: User) -> Any:
    flash(message, "ok")
    return redirect(url_for("console.edit_user", user_id=user.id), code=303)


def _refused(error: AccountError, user: User) -> Any:
    db.session.rollback()
    flash(_korean(error), "error")
    return redirect(url_for("console.edit_user", user_id=user.id), code=303)


def _user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


# --- admins ----------------------------------------------------------------------------------------------


def _users_page(status: int = 200, error: str | None = None) -> Any:
    people = db.session.scalars(select(User).order_by(User.role, User.username)).all()
    tokens = dict(
        db.session.execute(
            select(ApiToken.user_id, func.count(ApiToken.id))
            .where(ApiToken.revoked_at.is_(None))
            .group_by(ApiToken.user_id)
        ).all()
    )
    form = request.form if request.method == "POST" else MultiDict()  # a refused form comes back filled
    return _page("console/users.html", status, users=people, tokens=tokens, error=error, form=form)


@bp.get("/admin/users")
@login_required(roles=ADMINS)
def users() -> Any:
    return _users_page()


@bp.post("/admin/users")
@login_required(roles=ADMINS)
def add_user() -> Any:
    form = request.form
    try:
        user = accounts.add_user(
            db.session(),
            form.get("username", "").strip(),
            form.get("role", ""),
            display_name=form.get("display_name", "").strip() or None,
            fields=form.getlist("fields"),
            known_fields=_known_fields(),
            phone=form.get("phone", "").strip() or None,
            password=form.get("password", ""),
        )
    except AccountError as error:
        db.session.rollback()
        return _users_page(422, _korean(error))
    log.info("admin %s added %s %s", _me().username, user.role, user.username)
    flash(f"{user.display_name}({user.username}) 계정을 만들었습니다.", "ok")
    return redirect(url_for("console.users"), code=303)


@bp.get("/admin/users/<int:user_id>")
@login_required(roles=ADMINS)
def edit_user(user_id: int) -> Any:
    user = _user(user_id)
    tokens = db.session.scalar(
        select(func.count(ApiToken.id)).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    )
    return _page("console/user.html", user=user, tokens=tokens or 0)


@bp.post("/admin/users/<int:user_id>")
@login_required(roles=ADMINS)
def update_user(user_id: int) -> Any:
    user, form = _user(user_id), request.form
    try:
        accounts.update_user(
            user,
            by=_me(),
            display_name=form.get("display_name"),
            role=form.get("role") or None,
            fields=form.getlist("fields"),
            known_fields=_known_fields(),
            phone=form.get("phone", "").strip(),
            active="active" in form,
        )
    except AccountError as error:
        return _refused(error, user)
    returned = queue.hand_back_unworkable(db.session(), user, by=_me(), now=clock.now())
    if returned:
        flash(f"{user.display_name}님이 처리할 수 없게 된 접수 {len(returned)}건을 대기 풀로 돌려보냈습니다.")
    log.info(
        "admin %s updated %s: role=%s fields=%s phone=%s active=%s",
        _me().username, user.username, user.role, ",".join(user.fields), mask_phone(user.phone), user.active,
    )  # fmt: skip
    return _done("저장했습니다.", user)


@bp.post("/admin/users/<int:user_id>/availability")
@login_required(roles=ADMINS)
def user_availability(user_id: int) -> Any:
    user = _user(user_id)
    try:
        _set_availability(user)
    except AccountError as error:
        return _refused(error, user)
    log.info("admin %s set the availability of %s", _me().username, user.username)
    return _done("근무 상태를 저장했습니다.", user)


@bp.post("/admin/users/<int:user_id>/password")
@login_required(roles=ADMINS)
def reset_password(user_id: int) -> Any:
    user = _user(user_id)
    try:
        accounts.reset_password(db.session(), user, request.form.get("password", ""))
    except AccountError as error:
        return _refused(error, user)
    log.info("admin %s reset the password of %s", _me().username, user.username)
    return _done("비밀번호를 바꿨습니다. 새 비밀번호를 본인에게 안전하게 전하세요.", user)


@bp.post("/admin/users/<int:user_id>/revoke-tokens")
@login_required(roles=ADMINS)
def revoke_tokens(user_id: int) -> Any:
    user = _user(user_id)
    count = accounts.revoke_tokens(db.session(), user, clock.now())
    log.info("admin %s revoked %d API tokens of %s", _me().username, count, user.username)
    return _done(f"API 토큰 {count}개를 폐기했습니다.", user)


# --- everyone: their own availability --------------------------------------------------------------------


@bp.route("/me", methods=["GET", "POST"])
@login_required()
def my_availability() -> Any:
    me = _me()
    if request.method == "POST":
        try:
            _set_availability(me)
        except AccountError as error:
            db.session.rollback()
            flash(_korean(error), "error")
        else:
            flash("근무 상태를 저장했습니다.", "ok")
        return redirect(url_for("console.my_availability"), code=303)
    return _page("console/me.html", user=me)
