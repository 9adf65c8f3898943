"""Consultant, supervisor and admin accounts: passwords, API tokens, phone numbers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import date, datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tickets import clock, throttle
from tickets.models import ApiToken, Role, User

TOKEN_PREFIX = "h1379_"

# werkzeug's method for new password hashes: scrypt, deliberately slow (about 130 ms) against guessing.
# The one knob the tests turn, to a single pbkdf2 round, because they make thousands of users; nothing
# in production sets it. Hashes already stored keep their own method: werkzeug reads it from the hash.
PASSWORD_HASH_METHOD = "scrypt"


def hash_password(password: str) -> str:
    return generate_password_hash(password, method=PASSWORD_HASH_METHOD)


class AccountError(ValueError):
    """Why an account change was refused; `code` is stable, for the console to word it in Korean."""

    def __init__(self, message: str, code: str = "invalid") -> None:
        super().__init__(message)
        self.code = code


def to_e164(raw: str, region: str = "KR") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise AccountError(f"{raw!r} is not a phone number: {error}", "invalid_phone") from None
    if not phonenumbers.is_valid_number(number):
        raise AccountError(f"{raw!r} is not a valid phone number", "invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def add_user(
    session: Session,
    username: str,
    role: str,
    *,
    display_name: str | None = None,
    fields: Iterable[str] = (),
    known_fields: Iterable[str] | None = None,
    phone: str | None = None,
    email: str | None = None,
    password: str | None = None,
) -> User:
    _check_role(role)
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise AccountError(
            f"username {username!r}: use letters, digits, '.', '-' and '_'", "invalid_username"
        )
    if len(username) > 64:
        raise AccountError("a username has at most 64 characters", "invalid_username")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists already", "username_taken")
    fields = list(fields)
    _check_fields(fields, known_fields)
    if password is not None:
        _check_password(password)
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        phone=to_e164(phone) if phone else None,
        email=email,
        password_hash=hash_password(password) if password else None,
    )
    user.fields = fields
    session.add(user)
    session.flush()
    return user


def _check_role(role: str) -> None:
    if role not in set(Role):
        raise AccountError(f"role must be one of {', '.join(Role)}, not {role!r}", "invalid_role")


def _check_fields(fields: Iterable[str], known_fields: Iterable[str] | None) -> None:
    if known_fields is None:
        return
    known = list(known_fields)
    unknown = sorted(set(fields) - set(known))
    if unknown:
        raise AccountError(f"unknown field {unknown[0]!r}; fields are {', '.join(known)}", "unknown_field")


def _check_password(password: str) -> None:
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters", "short_password")


def set_password(user: User, password: str) -> None:
    """A new password; sessions opened with the old one end (whoever knew it is logged out)."""
    _check_password(password)
    user.password_hash = hash_password(password)
    end_sessions(user)


def reset_password(session: Session, user: User, password: str) -> None:
    """An admin sets a new password; the locks earlier failures put on the name end with it."""
    set_password(user, password)
    throttle.forget_username(session, user.username)


def end_sessions(user: User) -> None:
    """Log the user out everywhere: every console session holds the version it was opened with."""
    # An SQL increment, not read-modify-write: two changes at once both count.
    user.session_version = User.session_version + 1  # type: ignore[assignment]


def update_user(
    user: User,
    *,
    by: User,
    display_name: str | None = None,
    role: str | None = None,
    fields: Iterable[str] | None = None,
    known_fields: Iterable[str] | None = None,
    phone: str | None = None,
    active: bool | None = None,
) -> None:
    """Change what is given (`phone=""` clears it). Nobody demotes or deactivates themself: the last admin
    would lock everyone out of user management."""
    if by.id == user.id and ((role is not None and role != user.role) or active is False):
        raise AccountError("you cannot change your own role or deactivate yourself", "self_lockout")
    if role is not None:
        _check_role(role)
    if fields is not None:
        fields = list(fields)
        _check_fields(fields, known_fields)
    number = to_e164(phone) if phone else None  # validated before anything changes
    if display_name is not None and display_name.strip():
        user.display_name = display_name.strip()[:255]
    if (role is not None and role != user.role) or (active is False and user.active):
        end_sessions(user)  # a new role starts with a new login; a deactivated user is out at once
    if role is not None:
        user.role = role
    if fields is not None:
        user.fields = list(fields)
    if phone is not None:
        user.phone = number
    if active is not None:
        user.active = active


def set_availability(user: User, *, on_duty: bool, away_from: date | None, away_until: date | None) -> None:
    """On duty or not, and an away range (inclusive, either end may be open): routing skips who is away."""
    if away_from is not None and away_until is not None and away_from > away_until:
        raise AccountError("away_from is after away_until", "away_order")
    user.on_duty = on_duty
    user.away_from = away_from
    user.away_until = away_until


def password_matches(user: User, password: str) -> bool:
    return bool(user.password_hash) and check_password_hash(user.password_hash or "", password)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, user: User, label: str | None = None) -> str:
    """A new API token; only its hash is stored, so this is the one time it can be seen."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    session.add(ApiToken(user=user, token_hash=_digest(token), label=label))
    session.flush()
    return token


def user_for_token(session: Session, token: str, now: datetime | None = None) -> User | None:
    row = session.scalar(
        select(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
    )
    if row is None or not row.user.active:
        return None
    row.last_used_at = now or clock.now()
    return row.user


def revoke_tokens(session: Session, user: User, now: datetime | None = None) -> int:
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now or clock.now()
    return len(rows)
