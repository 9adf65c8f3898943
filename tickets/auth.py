"""Who is asking: console logins (password, session cookie, CSRF, lock-out) and API bearer tokens.

For other blueprints (the SLA alerts API, the supervisor dashboard) the whole interface is:

    from tickets.auth import api_auth, current_user, login_required, json_error

    @bp.get("/alerts")
    @api_auth(roles=("supervisor", "admin"))     # Authorization: Bearer <token>; JSON 401/403
    def alerts(): user = current_user(); ...

    @bp.route("/dashboard", methods=["GET", "POST"])
    @login_required(roles=("supervisor", "admin"))  # console session; redirect to login, 403 page
    def dashboard(): ...

`login_required` also checks the CSRF token of every POST/PUT/PATCH/DELETE, so a form only needs
`<input type="hidden" name="csrf_token" value="{{ csrf_token() }}">` (`csrf_token` is a Jinja global once
`init_app` ran). `roles=None` admits every active user. `json_error(status, code, message)` is the JSON
error shape of the API: `{"error": {"code": ..., "message": ...}}`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, TypeVar, cast

from flask import Flask, abort, jsonify, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tickets import accounts, clock
from tickets.db import db
from tickets.models import User

F = TypeVar("F", bound=Callable[..., Any])

MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)  # one working day; then the consultant logs in again
_USER_KEY = "hotline1379.user"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class LoginError(Exception):
    """Why a login failed, worded for the person at the login page."""


def init_app(app: Flask) -> None:
    app.config.setdefault("PERMANENT_SESSION_LIFETIME", SESSION_LIFETIME)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user


# --- passwords and lock-out ------------------------------------------------------------------------------


@cache
def _dummy_hash() -> str:
    # Checked against for unknown usernames, so a wrong name costs as long as a wrong password.
    return generate_password_hash(secrets.token_hex(16))


def authenticate(session_: Session, username: str, password: str, now: datetime) -> User:
    """The user whose password this is, or LoginError. Repeated failures lock the account for a while."""
    user = session_.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not user.password_hash:
        check_password_hash(_dummy_hash(), password)
        raise LoginError("아이디 또는 비밀번호가 올바르지 않습니다.")
    if user.locked_until is not None and user.locked_until > now:
        raise LoginError("로그인 시도가 너무 많아 잠시 잠겼습니다. 15분 후 다시 시도하세요.")
    if not accounts.password_matches(user, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        session_.flush()
        raise LoginError("아이디 또는 비밀번호가 올바르지 않습니다.")
    user.failed_logins = 0
    user.locked_until = None
    return user


def log_in(user: User) -> None:
    """Start a fresh console session (a new CSRF token too: no session fixation)."""
    session.clear()
    session.permanent = True
    session["user_id"] = user.id
    session["csrf"] = secrets.token_urlsafe(32)


def log_out() -> None:
    session.clear()


# --- CSRF ------------------------------------------------------------------------------------------------


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return cast(str, token)


def check_csrf() -> None:
    """Abort with 400 unless the form (or X-CSRF-Token header) carries this session's token."""
    expected = session.get("csrf")
    sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token") or ""
    if not expected or not hmac.compare_digest(str(expected), sent):
        abort(400, description="CSRF token missing or wrong: reload the page and try again.")


# --- who is asking ---------------------------------------------------------------------------------------


def current_user() -> User | None:
    """The user of this request (console session or API token), or None."""
    # Cached per request (not on `g`, which an app context may share between requests in tests and CLI).
    if _USER_KEY not in request.environ:
        user = None
        user_id = session.get("user_id")
        if user_id is not None:
            user = db.session.get(User, user_id)
            if user is not None and not user.active:
                user = None
        request.environ[_USER_KEY] = user
    return cast(User | None, request.environ[_USER_KEY])


def _role_allowed(user: User, roles: tuple[str, ...] | None) -> bool:
    return roles is None or user.role in roles


def login_required(roles: tuple[str, ...] | list[str] | None = None) -> Callable[[F], F]:
    """Console views: a logged-in active user of one of `roles`; CSRF checked on unsafe methods."""
    allowed = tuple(roles) if roles is not None else None

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if user is None:
                if request.method in UNSAFE_METHODS:
                    abort(401)
                return redirect(url_for("console.login", next=request.full_path.rstrip("?")))
            if request.method in UNSAFE_METHODS:
                check_csrf()
            if not _role_allowed(user, allowed):
                abort(403)
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate


def json_error(status: int, code: str, message: str, **extra: Any) -> Any:
    """The API's error shape; `code` is stable for programs, `message` is for people."""
    response = jsonify({"error": {"code": code, "message": message, **extra}})
    response.status_code = status
    return response


def bearer_user() -> User | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return accounts.user_for_token(db.session(), token.strip(), clock.now())


def api_auth(roles: tuple[str, ...] | list[str] | None = None) -> Callable[[F], F]:
    """API views: `Authorization: Bearer <token>` of an active user of one of `roles`; JSON 401/403."""
    allowed = tuple(roles) if roles is not None else None

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = bearer_user()
            if user is None:
                response = json_error(
                    401, "unauthorized", "A valid 'Authorization: Bearer <token>' is needed."
                )
                response.headers["WWW-Authenticate"] = 'Bearer realm="hotline1379"'
                return response
            request.environ[_USER_KEY] = user
            if not _role_allowed(user, allowed):
                return json_error(403, "forbidden", f"Your role ({user.role}) may not do this.")
            return view(*args, **kwargs)

        return cast(F, wrapper)

    return decorate
