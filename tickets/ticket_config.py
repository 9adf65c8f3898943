"""What the ticket domain needs from config.yaml."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from datetime import date, time

from callflows.state import GENERAL_FIELD  # noqa: F401  ("not sure" at the menu: the pool supervisors triage)

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class EscalationRecipient:
    role: str  # "assignee", "supervisor" (of the ticket's field), "head" (of the center)
    channels: tuple[str, ...]


@dataclass(frozen=True)
class EscalationLevel:
    level: int
    after_breach_hours: float
    notify: tuple[EscalationRecipient, ...]


@dataclass(frozen=True)
class SlaPolicy:
    mode: str = "calendar"  # "calendar" or "working_days"
    resolve_within_days: int = 3
    warn_before_hours: float = 24.0
    first_callback_within_working_hours: float | None = None
    missed_call_within_working_days: int = 1  # a missed call's target: call back within this
    workday_start: time = time(9, 0)
    workday_end: time = time(18, 0)
    closed_days: tuple[date, ...] = ()
    timezone: str = "Asia/Seoul"
    levels: tuple[EscalationLevel, ...] = ()
    # Who hears the warning before the deadline (level 0).
    warning_notify: tuple[EscalationRecipient, ...] = (
        EscalationRecipient(role="assignee", channels=("sms", "email", "console")),
    )


@dataclass(frozen=True)
class RoutingConfig:
    field_keys: tuple[str, ...]
    support_type_keys: tuple[str, ...]
    release_unclaimed_after_working_hours: float = 9.0
    unreached_attempts_before_sms: int = 3
    hotline_number: str = ""
    timezone: str = "Asia/Seoul"


@dataclass(frozen=True)
class ReferralConfig:
    """config.yaml `referrals:`: how long an institute's link lives and when its follow-ups fall due."""

    link_valid_days: int = 14  # an unanswered referral expires with its link
    answer_within_working_days: int = 2  # no answer by then: the institute is reminded, later the consultant
    outcome_within_days: int = 30  # accepted without an expected date: the outcome is due after this


@dataclass(frozen=True)
class LoginConfig:
    """Console sessions and the throttle on failed logins and API tokens (config.yaml `logins:`)."""

    session_hours: float = 12.0  # one working day; then the consultant logs in again
    throttle_minutes: float = 15.0  # the window failures are counted in; a locked address waits it out
    failures_per_username: int = 5  # wrong passwords for one name from one address
    failures_per_address: int = 20  # wrong passwords (any names) and API tokens from one address
    # Reverse proxies in front of the app whose X-Forwarded-For is trusted for the client's address; with
    # 0 behind a proxy every client has the proxy's address, and one guesser locks everyone out.
    proxies_in_front: int = 0
    # Two-step sign-in (tickets.two_step): anyone may turn it on for themself; these make it mandatory.
    two_step_roles: tuple[str, ...] = ()  # every login of these roles needs a one-time code
    two_step_outside_office: bool = False  # every login from outside office_networks needs one
    office_networks: tuple[IPNetwork, ...] = ()  # the client address (request.remote_addr) is matched


@dataclass(frozen=True)
class RetentionConfig:
    """config.yaml `privacy.retention:`: how long callers' data is kept (scheduler.retention enforces it)."""

    recordings_days: int = 365  # a closed ticket's recordings are deleted at Twilio this long after close
    numbers_years: int = 3  # then its caller and callback numbers are masked; the statistics stay
    incomplete_days: int = 90  # incomplete tickets and missed calls (no ticket) are anonymised after this


@dataclass(frozen=True)
class PrivacyConfig:
    """config.yaml `privacy:`: how long the access log is kept and what the monthly check flags.

    The defaults follow the Ministry's standard on safety measures (개인정보의 안전성 확보조치 기준): access
    records are kept at least a year, two for systems of more than 50,000 data subjects.
    """

    access_log_years: int = 2
    # Who answers questions and deletion requests (the /privacy page): a name per language, a phone, e-mail.
    contact_name: dict[str, str] = field(
        default_factory=lambda: {"ko": "개인정보 보호책임자", "en": "Privacy officer"}
    )
    contact_phone: str | None = None  # E.164; None: the hotline's own number
    contact_email: str | None = None
    # The monthly check lists a user who viewed more than this many tickets outside their fields or queue.
    outside_fields_threshold: int = 10
    retention: RetentionConfig = field(default_factory=RetentionConfig)
