"""The one catalogue of the names people read: statuses, outcomes, the general pool, events, referral
states and the SMS prefixes, in Korean (and English where a caller or a company reads them).

The console, the supervisor dashboard, the exports and the SMS texts all take their names from here, so a
status reads the same on every page. Keys are what the database stores.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from callflows.flow_config import FlowConfig
from callflows.prompts import GENERAL_NAMES
from tickets.ticket_config import GENERAL_FIELD

STATUS_NAMES = {
    "new": "신규",  # in its field's pool, held by nobody
    "assigned": "배정됨",
    "in_progress": "처리 중",
    "waiting": "보류",  # on hold for the company, with a reason: the SLA clock stops
    "resolved": "해결",
    "closed": "종결",
}
OUTCOME_NAMES = {
    "reached": "통화 성공",
    "no_answer": "받지 않음",
    "busy": "통화 중",
    "voicemail": "음성사서함",
    "wrong_number": "잘못된 번호",
    "failed": "발신 실패",  # the call could not be placed at all (not "unreached": nobody answered)
}
# The pool of "not sure" tickets a supervisor sorts into a field. The caller's SMS names it too, and the
# call flow may not import this package: its name is kept there.
GENERAL_NAME = GENERAL_NAMES["ko"]
NO_SUPPORT_TYPE = "미선택"

EVENT_NAMES = {
    "created": "접수", "assigned": "배정", "reassigned": "재배정",
    "claimed": "가져옴", "released": "풀로 반환", "auto_released": "자동 반환(미처리)",
    "pooled": "대기 풀", "status_changed": "상태 변경", "reopened": "재개",
    "note": "메모", "attempt": "통화 시도", "callback_started": "전화 연결 시작",
    "callback_not_connected": "전문위원 미응답", "field_changed": "분야 변경", "repeat_call": "재전화",
    "recording_added": "녹음 추가", "call_completed": "통화 완료", "unreached_sms": "미연결 안내 문자",
    "unreached_sms_skipped": "미연결 문자 생략", "sla_warning": "처리기한 임박 알림",
    "escalated": "기한 초과 상향",
    "sla_alert_acknowledged": "알림 확인",
    "diagnosed": "진단", "referred": "기관 연계 요청", "referral_accepted": "기관 수락",
    "referral_declined": "기관 거절", "referral_completed": "기관 지원 완료",
    "referral_expired": "연계 기한 만료", "referral_reminded": "기관 재안내",
    "referral_alert": "연계 후속 알림", "referral_link_revoked": "연계 링크 취소",
    "referral_link_sent": "연계 새 링크 보냄",
    "company_sms_skipped": "기업 안내 문자 생략(휴대전화 아님)",
    "recording_deleted": "녹음 삭제", "numbers_masked": "번호 가림(보존기간)", "anonymised": "개인정보 삭제",
}  # fmt: skip
REFERRAL_STATUS_NAMES = {
    "sent": "응답 대기", "accepted": "수락됨", "declined": "거절됨", "expired": "기한 만료",
    "completed": "완료",
}  # fmt: skip

# Every SMS a company receives starts with the service's one name; staff and institutes get the short tag.
SMS_PREFIX = {"ko": "[1379 기술애로상담]", "en": "[Hotline 1379]"}
STAFF_SMS_PREFIX = "[1379]"


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
