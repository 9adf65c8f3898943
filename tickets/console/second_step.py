"""The console's second step: the code after the password, enrolment, recovery codes, an admin's reset
(which is written to the access log).

A session past its password but not its code is *pending* (tickets.auth): it reaches only `login_code` and,
for someone who must use a code but has no authenticator yet, `enrol`. Anyone logged in may enrol from
/console/me, get new recovery codes or, unless the config demands a code of them, turn the second step off;
the last two ask for a current code, so an unattended logged-in browser cannot take the factor away.
Recovery codes are shown once, on a page the browser is told not to keep.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from tickets import access_log, auth, clock, two_step
from tickets.auth import current_user, login_required
from tickets.console import _landing, _safe_next, bp
from tickets.console.users import ADMINS
from tickets.db import db
from tickets.models import User

log = logging.getLogger(__name__)


def _next() -> str | None:
    return request.args.get("next") or None


def _code_page(template: str, user: User, error: str | None, retry_after: int | None, **context: Any) -> Any:
    page = render_template(template, user=user, error=error, next=_next(), **context)
    if retry_after is None:
        return page
    return page, 429, {"Retry-After": str(retry_after)}


def _check(user: User, *, enrolling: bool = False) -> tuple[Any, str | None, int | None]:
    """The code in the form, throttled: (how it passed or the new recovery codes, error, retry-after)."""
    try:
        passed = auth.check_code(
            db.session(),
            user,
            request.form.get("code", ""),
            clock.now(),
            address=auth.client_address(),
            enrolling=enrolling,
        )
    except auth.LoginLocked as locked:
        return None, str(locked), locked.minutes * 60
    except auth.LoginError as failure:
        return None, str(failure), None
    return passed, None, None


def _password_again(user: User) -> tuple[str | None, int | None]:
    """The logged-in user's password from the form, throttled like a login: (error, retry-after)."""
    try:
        auth.authenticate(
            db.session(), user.username, request.form.get("password", ""), clock.now(),
            address=auth.client_address(),
        )  # fmt: skip
    except auth.LoginLocked as locked:
        return str(locked), locked.minutes * 60
    except auth.LoginError as failure:
        return str(failure), None
    return None, None


def _recovery_codes_page(codes: list[str], continue_to: str) -> Any:
    page = render_template("console/recovery_codes.html", codes=codes, continue_to=continue_to)
    # Shown once: no cache or back button may show them again.
    return page, 200, {"Cache-Control": "no-store"}


# --- the second step of a login --------------------------------------------------------------------------


@bp.route("/login/code", methods=["GET", "POST"])
def login_code() -> Any:
    user = auth.pending_user()
    if user is None:
        return redirect(url_for("console.login", next=_next()))
    if not two_step.is_on(user):
        return redirect(url_for("console.enrol", next=_next()))
    error, retry_after = None, None
    if request.method == "POST":
        auth.check_csrf()
        passed, error, retry_after = _check(user)
        if passed is not None:
            auth.log_in(user, clock.now())
            if passed == "recovery":
                left = two_step.recovery_codes_left(db.session(), user)
                flash(f"복구 코드로 로그인했습니다. 남은 복구 코드는 {left}개입니다.", "ok")
            return redirect(_safe_next(_next(), _landing(user)))
    return _code_page("console/login_code.html", user, error, retry_after)


# --- enrolment -------------------------------------------------------------------------------------------


@bp.route("/two-step/enrol", methods=["GET", "POST"])
def enrol() -> Any:
    """For a pending login that must enrol before it is let in, and for anyone logged in without a second
    step yet."""
    logged_in = current_user()
    user = logged_in or auth.pending_user()
    if user is None:
        return redirect(url_for("console.login", next=_next() or request.full_path.rstrip("?")))
    if two_step.is_on(user):
        return redirect(url_for("console.my_availability") if logged_in else url_for("console.login_code"))
    error, retry_after = None, None
    if request.method == "POST":
        auth.check_csrf()
        # Logged in, the password is asked again: a borrowed or stolen session must not put its own
        # authenticator on the account. A pending login has just given it.
        error, retry_after = _password_again(user) if logged_in else (None, None)
        codes = None
        if error is None:
            codes, error, retry_after = _check(user, enrolling=True)
        if codes is not None:
            if logged_in is None:
                auth.log_in(user, clock.now())
            log.info("%s turned on two-step sign-in", user.username)
            return _recovery_codes_page(codes, _safe_next(_next(), _landing(user)))
    secret = two_step.enrolment_secret(user)
    uri = two_step.provisioning_uri(user, secret)
    return _code_page(
        "console/enrol.html", user, error, retry_after,
        secret_groups=[secret[i : i + 4] for i in range(0, len(secret), 4)],
        qr_code=Markup(two_step.qr_code_svg(uri)), issuer=two_step.ISSUER,
    )  # fmt: skip


# --- a logged-in user's own second step ------------------------------------------------------------------


def may_turn_off(user: User) -> bool:
    """Not for a role the config demands a code of (the outside-office rule asks again at the next login)."""
    return user.role not in current_app.config["HOTLINE"].logins.two_step_roles


@bp.context_processor
def _two_step_globals() -> dict[str, Any]:
    # For the "2단계 인증" sections of /console/me and an admin's page about a user.
    return {
        "recovery_codes_left": lambda user: two_step.recovery_codes_left(db.session(), user),
        "may_turn_off": may_turn_off,
    }


@bp.post("/me/two-step/recovery-codes")
@login_required()
def new_recovery_codes() -> Any:
    me = _me_with_second_step()
    passed, error, _retry = _check(me)
    if passed is None:
        flash(error or auth.WRONG_CODE, "error")
        return redirect(url_for("console.my_availability"), code=303)
    codes = two_step.new_recovery_codes(db.session(), me, clock.now())
    log.info("%s made new recovery codes", me.username)
    return _recovery_codes_page(codes, url_for("console.my_availability"))


@bp.post("/me/two-step/off")
@login_required()
def turn_off() -> Any:
    me = _me_with_second_step()
    if not may_turn_off(me):
        abort(403)
    passed, error, _retry = _check(me)
    if passed is None:
        flash(error or auth.WRONG_CODE, "error")
    else:
        two_step.turn_off(db.session(), me)
        log.info("%s turned off two-step sign-in", me.username)
        flash("2단계 인증을 껐습니다.", "ok")
    return redirect(url_for("console.my_availability"), code=303)


def _me_with_second_step() -> User:
    me = current_user()
    assert me is not None
    if not two_step.is_on(me):
        abort(409)
    return me


# --- admins ----------------------------------------------------------------------------------------------


@bp.post("/admin/users/<int:user_id>/two-step/reset")
@login_required(roles=ADMINS)
def reset_two_step(user_id: int) -> Any:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    admin = current_user()
    assert admin is not None
    two_step.reset(db.session(), user)
    # In the access log, which auditors read and nobody can quietly edit: a reset is how someone holding a
    # stolen password would get past the second step, so who did it, when and from where must stay on record.
    access_log.record_request(
        db.session(), access_log.Action.CHANGE, [user.username], what="two_step_reset", user_id=user.id
    )
    log.info("admin %s reset the two-step sign-in of %s and ended their sessions", admin.username,
             user.username)  # fmt: skip
    flash(f"{user.display_name}님의 2단계 인증을 초기화하고 모든 로그인을 끝냈습니다.", "ok")
    return redirect(url_for("console.edit_user", user_id=user.id), code=303)
