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
