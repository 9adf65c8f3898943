"""The console's Korean names for statuses, outcomes, events and reasons: one place, so every page says the
same thing. The statuses match the dashboard's (scheduler/labels.py, becoming tickets/labels.py, the shared
catalogue): switch to that catalogue once it is on main."""

STATUS_LABELS = {
    "new": "신규", "assigned": "배정됨", "in_progress": "처리 중", "waiting": "보류",
    "resolved": "해결", "closed": "종결",
}  # fmt: skip
OUTCOME_LABELS = {
    "reached": "통화 성공", "no_answer": "받지 않음", "busy": "통화 중", "voicemail": "음성사서함",
    "wrong_number": "잘못된 번호", "failed": "발신 실패",
}  # fmt: skip
EVENT_LABELS = {
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
    "company_sms_skipped": "기업 안내 문자 생략(휴대전화 아님)",
    "recording_deleted": "녹음 삭제", "numbers_masked": "번호 가림(보존기간)", "anonymised": "개인정보 삭제",
}  # fmt: skip
REFERRED_LABEL = "기관 연계"  # the resolution_type `referred` (tickets.referrals.REFERRED)
# Why something happened, when the reason is a key rather than a person's words.
REASON_LABELS = {
    "routed": "자동 배정", "callback": "통화 시도", "no_action": "미처리", "triage": "분야 분류 필요",
    "nobody_available": "받을 수 있는 전문위원 없음", "retention": "보존기간 경과",
}  # fmt: skip
