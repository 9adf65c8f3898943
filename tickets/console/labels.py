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
# What a refused action means, by the ActionError's stable code: the API's messages are English for
# programs, the console's are Korean for people.
ERROR_MESSAGES = {
    "not_yours": "이 건을 맡은 전문위원(또는 감독자)만 할 수 있습니다.",
    "forbidden": "감독자만 할 수 있습니다.",
    "triage_only": "분야 미정 건은 감독자가 분야를 정합니다.",
    "already_claimed": "다른 전문위원이 먼저 가져갔습니다.",
    "invalid_transition": "지금 상태에서는 할 수 없는 처리입니다.",
    "not_assigned": "맡은 사람이 없는 건입니다.",
    "not_in_pool": "대기 풀에 있는 건이 아닙니다.",
    "invalid_outcome": "통화 결과를 골라 주세요.",
    "invalid_duration": "통화 시간은 0분에서 1,440분 사이의 숫자로 적어 주세요.",
    "invalid_note": "메모 내용을 적어 주세요 (4,000자까지).",
    "invalid_summary": "처리 요약이 너무 깁니다 (4,000자까지).",
    "resolution_required": "해결하려면 제공한 지원과 처리 요약을 적어 주세요.",
    "invalid_resolution_type": "제공한 지원을 목록에서 골라 주세요.",
    "referral_not_accepted": "기관 연계로 해결하려면 기관이 수락한 연계가 있어야 합니다.",
    "no_callback_number": "회신할 번호가 없는 건입니다.",
    "no_phone": "내 계정에 전화번호가 없어 연결할 수 없습니다. 관리자에게 등록을 요청하세요.",
    "telephony_failed": "전화 연결에 실패했습니다. 잠시 후 다시 시도해 주세요.",
    "invalid_assignee": "없는 사용자입니다.",
    "invalid_field": "없는 분야입니다.",
    "invalid_request": "담당자나 분야 중 하나는 골라 주세요.",
    "reason_required": "보류하려면 사유를 적어 주세요.",
    "invalid_company": "회사명은 255자까지 적을 수 있습니다.",
    "invalid_callback_at": "회신 시각은 지금보다 뒤여야 합니다.",
}
# Why something happened, when the reason is a key rather than a person's words.
REASON_LABELS = {
    "routed": "자동 배정", "callback": "통화 시도", "no_action": "미처리", "triage": "분야 분류 필요",
    "nobody_available": "받을 수 있는 전문위원 없음", "retention": "보존기간 경과",
}  # fmt: skip
