"""A ticket's history as Korean sentences: what a consultant reads, never the raw keys of an event's detail.

Each event type has one sentence; the detail fills in names (statuses, outcomes, fields, people) through the
console's labels. A type without a sentence falls back to its label, so a new event never shows raw data.
Media URLs and call ids stay out of every sentence (they are behind the recording proxy).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from tickets.console.labels import EVENT_LABELS, OUTCOME_LABELS, REASON_LABELS, STATUS_LABELS

Detail = Mapping[str, Any]


def _status(value: Any) -> str:
    return STATUS_LABELS.get(str(value), str(value))


def _minutes(seconds: Any) -> str:
    return f"{round(int(seconds) / 60, 1):g}분" if isinstance(seconds, int) else ""


def _reason(detail: Detail) -> str:
    reason = detail.get("reason") or detail.get("note")
    if not reason:
        return ""
    return f" (사유: {REASON_LABELS.get(str(reason), str(reason))})"


def _status_changed(d: Detail, fields: Mapping[str, str]) -> str:
    sentence = f"상태를 '{_status(d.get('from'))}'에서 '{_status(d.get('to'))}'(으)로 바꿨습니다."
    if d.get("summary"):
        return f"{sentence} 처리 요약: {d['summary']}"
    return sentence + _reason(d)


def _attempt(d: Detail, fields: Mapping[str, str]) -> str:
    outcome = OUTCOME_LABELS.get(str(d.get("outcome")), str(d.get("outcome")))
    duration = _minutes(d.get("duration"))
    return f"통화를 시도했습니다: {outcome}" + (f", {duration}" if duration else "") + "."


def _created(d: Detail, fields: Mapping[str, str]) -> str:
    channel = "웹 신청서" if d.get("source") == "web" else "전화"
    hung_up = " 고객이 안내 도중 전화를 끊었습니다." if d.get("incomplete") else ""
    return f"{channel}로 접수되었습니다.{hung_up}"


def _pooled(d: Detail, fields: Mapping[str, str]) -> str:
    pool = fields.get(str(d.get("pool")), str(d.get("pool", "")))
    if d.get("reason") == "triage":
        return f"'{pool}' 풀에 들어갔습니다. 감독자가 분야를 정해야 합니다."
    return f"'{pool}' 풀에 들어갔습니다. 지금 받을 수 있는 전문위원이 없습니다."


def _field_changed(d: Detail, fields: Mapping[str, str]) -> str:
    before, after = fields.get(str(d.get("from")), d.get("from")), fields.get(str(d.get("to")), d.get("to"))
    return f"분야를 '{before}'에서 '{after}'(으)로 바꿨습니다."


def _escalated(d: Detail, fields: Mapping[str, str]) -> str:
    return f"처리 기한을 넘겨 {d.get('level', 1)}단계로 상향되었습니다."


SENTENCES: dict[str, Callable[[Detail, Mapping[str, str]], str]] = {
    "created": _created,
    "status_changed": _status_changed,
    "reopened": lambda d, f: f"다시 열었습니다. 상태: '{_status(d.get('to'))}'." + _reason(d),
    "assigned": lambda d, f: f"{d.get('to')} 전문위원에게 배정되었습니다.",
    "reassigned": lambda d, f: f"{d.get('from')}에서 {d.get('to')} 전문위원에게 다시 배정되었습니다.",
    "claimed": lambda d, f: f"{d.get('to')} 전문위원이 풀에서 가져갔습니다.",
    "released": lambda d, f: "풀로 돌려보냈습니다." + _reason(d),
    "auto_released": lambda d, f: f"{d.get('from')} 전문위원이 처리하지 않아 자동으로 풀로 돌아갔습니다.",
    "pooled": _pooled,
    "field_changed": _field_changed,
    "attempt": _attempt,
    "callback_started": lambda d, f: "전문위원의 전화로 고객 연결을 시작했습니다.",
    "callback_not_connected": lambda d, f: "전문위원이 전화를 받지 않아 연결되지 않았습니다.",
    "repeat_call": lambda d, f: "같은 번호로 다시 전화가 왔습니다.",
    "recording_added": lambda d, f: (
        "고객 녹음이 추가되었습니다" + (f" ({d['duration']}초)." if d.get("duration") else ".")
    ),
    "call_completed": lambda d, f: "고객의 전화가 끝났습니다.",
    "unreached_sms": lambda d, f: f"{d.get('attempts', '')}번 연결되지 않아 안내 문자를 보냈습니다.",
    "unreached_sms_skipped": lambda d, f: "연결되지 않았지만 안내 문자는 보내지 않았습니다." + _reason(d),
    "sla_warning": lambda d, f: "처리 기한이 다가와 알림을 보냈습니다.",
    "escalated": _escalated,
    "note": lambda d, f: f"메모: {d.get('text', '')}",
    "company_changed": lambda d, f: f"회사명을 '{d.get('to') or '-'}'(으)로 적었습니다.",
}


def describe(event_type: str, detail: Detail, fields: Mapping[str, str]) -> str:
    """One Korean sentence for an event; `fields` names the field keys (from the call flow's config)."""
    sentence = SENTENCES.get(event_type)
    if sentence is None:
        return EVENT_LABELS.get(event_type, event_type) + _reason(detail)
    return sentence(detail, fields)
