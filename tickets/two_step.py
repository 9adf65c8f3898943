"""Two-step sign-in: after the password, a one-time code (TOTP, RFC 6238) from an authenticator app.

Who needs it: everyone who turned it on, every role in `logins.two_step_roles`, and with
`logins.two_step_outside_office` everyone signing in from an address outside `logins.office_networks`.

Enrolment keeps a new secret on the user, shows it as a QR code (an SVG drawn by segno into the page: no
script, no image from elsewhere) and as text for those who type it, and turns the second step on when a
first code from the app matches. Ten recovery codes are then shown once; only their hashes are kept, and
each works once (for a lost phone).

A code is accepted in its 30-second step and the steps either side (phone clocks drift), and only if its
step is later than the last one accepted: a code seen once, over a shoulder or in a phished form, cannot be
used again. The step is taken with one conditional UPDATE, so two requests with one code cannot both win.

The views (tickets.console.two_step) throttle every code like a password (tickets.auth.check_code).
"""

from __future__ import annotations

import hashlib
import ipaddress
import secrets
from datetime import datetime

import pyotp
import segno
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from tickets import accounts, throttle
from tickets.models import RecoveryCode, User
from tickets.ticket_config import LoginConfig

ISSUER = "Hotline 1379"  # the account's heading in the authenticator app
RECOVERY_CODE_COUNT = 10
DRIFT_STEPS = 1  # a code of the step before or after is accepted too


class NotEnrolling(Exception):
    """The user has no enrolment under way (it finished already, or was reset meanwhile)."""


def is_on(user: User) -> bool:
    return user.totp_enabled_at is not None and user.totp_secret is not None


def required_by_policy(user: User, address: str, config: LoginConfig) -> bool:
    """Config demands a second step of this login, whether or not the user turned it on."""
    if user.role in config.two_step_roles:
        return True
    return config.two_step_outside_office and not in_office(address, config)


def required(user: User, address: str, config: LoginConfig) -> bool:
    """This login needs the second step (and someone without an authenticator enrols first)."""
    return is_on(user) or required_by_policy(user, address, config)


def in_office(address: str, config: LoginConfig) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False  # "unknown" and the like: not provably in the office
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # a dual-stack server shows IPv4 clients as ::ffff:a.b.c.d
    return any(ip in network for network in config.office_networks)


# --- enrolment -------------------------------------------------------------------------------------------


def enrolment_secret(user: User) -> str:
    """The secret for the user's app: the one of an enrolment under way (a reload shows the same QR code,
    which may be scanned already), else a new one."""
    if is_on(user):
        raise ValueError(f"{user.username} has a second step already: reset it first")
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
        user.totp_last_step = None
    return user.totp_secret


def provisioning_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_code_svg(uri: str) -> str:
    """The otpauth:// URI as an inline SVG (presentation attributes only, so the CSP has nothing to refuse);
    black on white with a quiet zone, which apps scan even on a dark page."""
    return str(
        segno.make(uri, error="m").svg_inline(
            scale=5,
            border=4,
            dark="#000",
            light="#fff",
            omitsize=True,
            title="인증 앱으로 스캔할 QR 코드",
            svgclass="qr-code",
        )
    )


def confirm_enrolment(session: Session, user: User, code: str, now: datetime) -> list[str] | None:
    """Turn the second step on if `code` comes from the app enrolled: the new recovery codes, to show once;
    None if the code is wrong."""
    if is_on(user) or user.totp_secret is None:
        raise NotEnrolling(user.username)
    if not accept_code(session, user, code, now):
        return None
    user.totp_enabled_at = now
    return new_recovery_codes(session, user, now)


# --- codes -----------------------------------------------------------------------------------------------


def accept_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """True if `code` is the user's current code and its step is later than the last one accepted; that
    step is then taken (in the session's transaction)."""
    if user.totp_secret is None:
        return False
    code = "".join(code.split())
    try:
        step = pyotp.TOTP(user.totp_secret).verify_and_get_timecode(
            code, for_time=now, valid_window=DRIFT_STEPS
        )
    except pyotp.OTPVerificationError:
        return False
    taken = session.execute(
        update(User)
        .where(User.id == user.id, or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
        .execution_options(synchronize_session="fetch")
    )
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def _digest(code: str) -> str:
    return hashlib.sha256(_normalised(code).encode()).hexdigest()


def _normalised(code: str) -> str:
    # People copy "1f3a-9c2b-…" from a printout or type it without dashes, in capitals or with spaces.
    return "".join(ch for ch in code.lower() if ch not in "- \t")


def _new_recovery_code() -> str:
    raw = secrets.token_hex(8)  # 64 random bits: a leaked table of sha256 digests cannot be reversed
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def new_recovery_codes(session: Session, user: User, now: datetime) -> list[str]:
    """Ten new recovery codes, replacing any earlier ones; only their hashes are stored, so this is the one
    time they can be seen."""
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_digest(code), created_at=now) for code in codes)
    session.flush()
    return codes


def use_recovery_code(session: Session, user: User, code: str, now: datetime) -> bool:
    """True if `code` is one of the user's unused recovery codes; it is then used up (one UPDATE, so two
    requests with one code cannot both pass)."""
    if not _normalised(code):
        return False
    used = session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == _digest(code),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(used.rowcount == 1)  # type: ignore[attr-defined]


def recovery_codes_left(session: Session, user: User) -> int:
    return (
        session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


def check_second_step(session: Session, user: User, code: str, now: datetime) -> str | None:
    """How `code` passed the second step ("code" from the app, "recovery" for a recovery code), or None."""
    if not is_on(user):
        return None
    if accept_code(session, user, code, now):
        return "code"
    if use_recovery_code(session, user, code, now):
        return "recovery"
    return None


# --- switching it off ------------------------------------------------------------------------------------


def turn_off(session: Session, user: User) -> None:
    """Forget the secret and the recovery codes: the next login enrols again if it must."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def reset(session: Session, user: User) -> None:
    """An admin's reset (a lost phone and lost codes): the second step is off, every session of the user
    ends (a session opened with the old authenticator is not theirs to keep), and locks on their codes
    are lifted. Whether they must enrol again at the next login is up to the config."""
    turn_off(session, user)
    accounts.end_sessions(user)
    throttle.forget_code_locks(session, user.username)
