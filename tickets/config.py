"""What the ticket domain needs from config.yaml."""

from __future__ import annotations

from dataclasses import dataclass

from callflows.state import GENERAL_FIELD  # noqa: F401  ("not sure" at the menu: the pool supervisors triage)


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
