"""Consultant, supervisor and admin accounts: passwords, API tokens, phone numbers."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import datetime

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from tickets.db import utcnow
from tickets.models import ApiToken, Role, User

TOKEN_PREFIX = "h1379_"


class AccountError(ValueError):
    pass


def to_e164(raw: str, region: str = "KR") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as error:
        raise AccountError(f"{raw!r} is not a phone number: {error}") from None
    if not phonenumbers.is_valid_number(number):
        raise AccountError(f"{raw!r} is not a valid phone number")
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
    if role not in set(Role):
        raise AccountError(f"role must be one of {', '.join(Role)}, not {role!r}")
    if not username or not username.replace("_", "").replace("-", "").replace(".", "").isalnum():
        raise AccountError(f"username {username!r}: use letters, digits, '.', '-' and '_'")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise AccountError(f"user {username!r} exists already")
    fields = list(fields)
    if known_fields is not None:
        unknown = sorted(set(fields) - set(known_fields))
        if unknown:
            raise AccountError(f"unknown field {unknown[0]!r}; fields are {', '.join(known_fields)}")
    if password is not None and len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    user = User(
        username=username,
        display_name=display_name or username,
        role=role,
        phone=to_e164(phone) if phone else None,
        email=email,
        password_hash=generate_password_hash(password) if password else None,
    )
    user.fields = fields
    session.add(user)
    session.flush()
    return user


def set_password(user: User, password: str) -> None:
    if len(password) < 8:
        raise AccountError("a password needs at least 8 characters")
    user.password_hash = generate_password_hash(password)


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
    row.last_used_at = now or utcnow()
    return row.user


def revoke_tokens(session: Session, user: User, now: datetime | None = None) -> int:
    rows = session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
    ).all()
    for row in rows:
        row.revoked_at = now or utcnow()
    return len(rows)
