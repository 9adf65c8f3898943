"""Korean names for the keys the database stores: fields, support types, statuses, alert levels, outcomes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from callflows.config import FlowConfig
from tickets.config import GENERAL_FIELD

STATUS_NAMES = {
    "new": "신규",
    "assigned": "배정됨",
    "in_progress": "처리 중",
    "waiting": "보류",
    "resolved": "해결",
    "closed": "종결",
}
OUTCOME_NAMES = {
    "reached": "통화 성공",
    "no_answer": "받지 않음",
    "busy": "통화 중",
    "voicemail": "음성사서함",
    "wrong_number": "잘못된 번호",
    "failed": "발신 실패",
}
GENERAL_NAME = "분야 미정"
NO_SUPPORT_TYPE = "미선택"


def level_name(level: int) -> str:
    if level <= 0:
        return "기한 임박"
    if level == 1:
        return "기한 초과"
    return f"{level}단계 상향"


@dataclass(frozen=True)
class Labels:
    flow: FlowConfig
    timezone: str = "Asia/Seoul"

    @property
    def field_keys(self) -> tuple[str, ...]:
        return tuple(option.key for option in self.flow.fields)

    @property
    def support_type_keys(self) -> tuple[str, ...]:
        return tuple(option.key for option in self.flow.support_types)

    def field(self, key: str | None) -> str:
        if key == GENERAL_FIELD:
            return GENERAL_NAME
        option = self.flow.field_by_key(key or "")
        return option.name("ko") if option else (key or "")

    def support_type(self, key: str | None) -> str:
        option = self.flow.support_type_by_key(key or "")
        return option.name("ko") if option else (key or NO_SUPPORT_TYPE)

    def status(self, key: str) -> str:
        return STATUS_NAMES.get(key, key)

    def outcome(self, key: str) -> str:
        return OUTCOME_NAMES.get(key, key)

    def level(self, level: int) -> str:
        return level_name(level)

    @property
    def local_zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, value: datetime | None, pattern: str = "%Y-%m-%d %H:%M") -> str:
        """A stored UTC time as the hotline's local time."""
        return value.astimezone(ZoneInfo(self.timezone)).strftime(pattern) if value else ""
