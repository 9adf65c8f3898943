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
class PrivacyConfig:
    """config.yaml `privacy:`: how long the access log is kept and what the monthly check flags.

    The defaults follow the Ministry's standard on safety measures (개인정보의 안전성 확보조치 기준): access
    records are kept at least a year, two for systems of more than 50,000 data subjects.
    """

    access_log_years: int = 2
    # The monthly check lists a user who viewed more than this many tickets outside their fields or queue.
    outside_fields_threshold: int = 10
