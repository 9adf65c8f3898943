"""What the ticket domain needs from config.yaml."""

from __future__ import annotations

from dataclasses import dataclass

GENERAL_FIELD = "general"  # "not sure" at the field menu: a pool that supervisors triage


@dataclass(frozen=True)
class RoutingConfig:
    field_keys: tuple[str, ...]
    support_type_keys: tuple[str, ...]
    release_unclaimed_after_working_hours: float = 9.0
    unreached_attempts_before_sms: int = 3
    hotline_number: str = ""
    timezone: str = "Asia/Seoul"
