"""The console's Korean words: statuses, outcomes and events from the shared catalogue (tickets.labels), and
the console's own refusals and reasons."""

from tickets.labels import EVENT_NAMES, OUTCOME_NAMES, STATUS_NAMES

# Statuses, outcomes and events are named once for every page (tickets.labels).
STATUS_LABELS = STATUS_NAMES
OUTCOME_LABELS = OUTCOME_NAMES
EVENT_LABELS = EVENT_NAMES
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
