"""Who is asking: console logins (password, then a one-time code where one is needed, session cookie, CSRF,
throttle) and API bearer tokens (which the second step does not touch: a token is a credential of its own).

A login that needs a second step (tickets.two_step) is only half done after the password: the session
names the user as *pending* and `current_user()` is still None, so every page but the code step (and the
enrolment that comes first for those without an authenticator) sends it back to the login page.

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

from flask import Flask, abort, current_app, jsonify, redirect, request, session, url_for
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tickets import accounts, clock, throttle, two_step
from tickets.db import db
from tickets.models import User
from tickets.ticket_config import LoginConfig

F = TypeVar("F", bound=Callable[..., Any])

_USER_KEY = "hotline1379.user"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
WRONG_PASSWORD = "아이디 또는 비밀번호가 올바르지 않습니다."
WRONG_CODE = "인증 코드가 올바르지 않거나 이미 사용되었습니다."
# Between the password and the code: long enough to find the phone (or to enrol), short enough that a
# password typed on a shared computer and left there does not stay half a login for long.
SECOND_STEP_MINUTES = 10


class LoginError(Exception):
    """Why a login failed, worded for the person at the login page."""


class LoginLocked(LoginError):
    """Too many failures from this address: the same words for every name, existing or not."""

    def __init__(self, minutes: int) -> None:
        super().__init__(f"로그인 시도가 너무 많아 잠시 잠겼습니다. {minutes}분 후 다시 시도하세요.")
        self.minutes = minutes


def init_app(app: Flask) -> None:
    # Flask defines PERMANENT_SESSION_LIFETIME (31 days) already, so it is set here, not defaulted.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=_login_config(app).session_hours)
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config.setdefault("SESSION_COOKIE_SAMESITE", "Lax")
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.jinja_env.globals["current_user"] = current_user


def _login_config(app: Flask | None = None) -> LoginConfig:
    hotline = (app or current_app).config.get("HOTLINE")
    return hotline.logins if hotline is not None else LoginConfig()


def client_address() -> str:
    """Who is asking, as far as the throttle knows: the peer's address (the proxy's, unless the app
    trusts X-Forwarded-For through ProxyFix)."""
    return request.remote_addr or "unknown"


# --- passwords and the throttle --------------------------------------------------------------------------


@cache
def _dummy_hash(method: str) -> str:
    # Checked against for unknown usernames, so a wrong name costs as long as a wrong password.
    return generate_password_hash(secrets.token_hex(16), method=method)


def authenticate(
    session_: Session,
    username: str,
    password: str,
    now: datetime,
    *,
    address: str,
    config: LoginConfig | None = None,
) -> User:
    """The user whose password this is, or LoginError (LoginLocked after too many failures from `address`).

    This commits, in two short transactions around the slow hash: the attempt is counted and the user read,
    then committed; the password is checked with no transaction open (on SQLite every transaction holds the
    database's write lock, and a hash inside one stalled every webhook); a right password then takes its
    attempt back. Unknown and inactive users are checked against a dummy hash, so timing tells nothing.
    """
    config = config or _login_config()
    name = username.strip()
    try:
        throttle.count_login_attempt(session_, address, name, now, config)
    except throttle.Locked as locked:
        session_.commit()
        raise LoginLocked(locked.minutes) from None
    user = session_.scalar(select(User).where(User.username == name))
    usable_hash = user.password_hash if user is not None and user.active else None
    session_.commit()
    if not usable_hash:
        check_password_hash(_dummy_hash(accounts.PASSWORD_HASH_METHOD), password)
        raise LoginError(WRONG_PASSWORD)
    if not check_password_hash(usable_hash, password):
        raise LoginError(WRONG_PASSWORD)
    assert user is not None
    throttle.forgive_login_attempt(session_, address, name)
    session_.commit()
    return user


def session_for(user: User, now: datetime) -> dict[str, Any]:
    """What a console session holds: who, the user's session version, when it began, a CSRF token."""
    return {
        "user_id": user.id,
        "version": user.session_version,
        "since": int(now.timestamp()),
        "csrf": secrets.token_urlsafe(32),
    }


def log_in(user: User, now: datetime) -> None:
    """Start a fresh console session (a new CSRF token too: no session fixation)."""
    session.clear()
    session.permanent = True
    session.update(session_for(user, now))


def log_out(user: User) -> None:
    """End this session and the user's others (another browser, a copied cookie)."""
    accounts.end_sessions(user)
    session.clear()


def begin_second_step(user: User, now: datetime) -> None:
    """The password was right; the session waits for the one-time code (or for enrolment)."""
    session.clear()
    session.permanent = True
    pending = session_for(user, now)
    pending["pending_user_id"] = pending.pop("user_id")
    session.update(pending)


def pending_user() -> User | None:
    """The user whose password this session gave, if the second step is still to come and not too late."""
    user_id = session.get("pending_user_id")
    if user_id is None:
        return None
    user = db.session.get(User, user_id)
    since = session.get("since")
    if (
        user is None
        or not user.active
        or session.get("version") != user.session_version  # reset or logged out everywhere meanwhile
        or not isinstance(since, int)
        or clock.now().timestamp() - since >= SECOND_STEP_MINUTES * 60
    ):
        return None
    return user


def check_code(
    session_: Session,
    user: User,
    code: str,
    now: datetime,
    *,
    address: str,
    config: LoginConfig | None = None,
    enrolling: bool = False,
) -> str | list[str]:
    """The second step, throttled like a password (LoginError, LoginLocked). This commits: the attempt is
    counted before the code is looked at, so a refusal counts whatever the response.

    Returns how the code passed ("code" or "recovery"); when `enrolling`, the first code turns the second
    step on and the new recovery codes are returned instead.
    """
    config = config or _login_config()
    try:
        throttle.count_code_attempt(session_, address, user.username, now, config)
    except throttle.Locked as locked:
        session_.commit()
        raise LoginLocked(locked.minutes) from None
    session_.commit()
    passed: str | list[str] | None
    if enrolling:
        passed = two_step.confirm_enrolment(session_, user, code, now)
    else:
        passed = two_step.check_second_step(session_, user, code, now)
    if passed is None:
        raise LoginError(WRONG_CODE)
    throttle.forgive_code_attempt(session_, address, user.username)
    session_.commit()
    return passed


def _session_is_current(user: User, now: datetime) -> bool:
    """Active, the user's current session version, and younger than the lifetime from login (not from
    the last request: a busy day does not stretch it)."""
    since = session.get("since")
    lifetime = current_app.permanent_session_lifetime
    return (
        user.active
        and session.get("version") == user.session_version
        and isinstance(since, int)
        and now.timestamp() - since < lifetime.total_seconds()
    )


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
            if user is not None and not _session_is_current(user, clock.now()):
                session.clear()
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


def _bearer_token() -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


def bearer_user() -> User | None:
    token = _bearer_token()
    if not token:
        return None
    return accounts.user_for_token(db.session(), token, clock.now())


def api_auth(roles: tuple[str, ...] | list[str] | None = None) -> Callable[[F], F]:
    """API views: `Authorization: Bearer <token>` of an active user of one of `roles`; JSON 401/403."""
    allowed = tuple(roles) if roles is not None else None

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            config, address, now = _login_config(), client_address(), clock.now()
            try:
                throttle.check_address(db.session(), address, now, config)
            except throttle.Locked as locked:
                response = json_error(
                    429, "too_many_failures", "Too many failed attempts from this address; try again later."
                )
                response.headers["Retry-After"] = str(locked.minutes * 60)
                return response
            user = bearer_user()
            if user is None:
                if _bearer_token():
                    # Committed here: the 401 below makes the request wrapper roll back.
                    throttle.count_token_failure(db.session(), address, now, config)
                    db.session.commit()
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
