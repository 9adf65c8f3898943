"""Alert texts: short, in the ticket's language (Korean, or English for English tickets), naming the ticket
reference, the field, the time left or overdue, and a link to the ticket in the console.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from tickets.labels import STAFF_SMS_PREFIX
from tickets.models import Ticket


@dataclass(frozen=True)
class Message:
    subject: str
    text: str


def ticket_link(public_base_url: str | None, reference: str) -> str:
    # Without PUBLIC_BASE_URL (a laptop) the link is still useful relative to wherever the console runs.
    return f"{public_base_url or ''}/console/tickets/{reference}"


def span(seconds: float, language: str) -> str:
    """A rough duration for people: '1일 3시간', '45분'; '1 d 3 h', '45 min'."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    units = ("일", "시간", "분") if language == "ko" else (" d", " h", " min")
    parts = [f"{n}{u}" for n, u in zip((days, hours, minutes), units, strict=True) if n]
    if days:
        parts = parts[:2]  # minutes do not matter once days do
    return " ".join(parts) or ("1분 미만" if language == "ko" else "under 1 min")


def field_name(field_names: Mapping[str, Mapping[str, str]], key: str, language: str) -> str:
    names = field_names.get(key) or {}
    return names.get(language) or names.get("ko") or key


def alert_message(
    ticket: Ticket,
    level: int,
    now: datetime,
    *,
    field_names: Mapping[str, Mapping[str, str]],
    public_base_url: str | None,
    timezone: str = "Asia/Seoul",
) -> Message:
    language = "en" if ticket.language == "en" else "ko"
    due = ticket.sla_due_at or now
    due_local = due.astimezone(ZoneInfo(timezone)).strftime("%m-%d %H:%M")
    left = span((due - now).total_seconds(), language)
    over = span((now - due).total_seconds(), language)
    field = field_name(field_names, ticket.field, language)
    link = ticket_link(public_base_url, ticket.reference)
    ref = ticket.reference
    if language == "en":
        if level == 0:
            subject = f"{STAFF_SMS_PREFIX} Ticket {ref} due in {left}"
            text = f"{STAFF_SMS_PREFIX} Ticket {ref} ({field}): {left} left, due {due_local} KST. {link}"
        else:
            subject = f"{STAFF_SMS_PREFIX} Level {level}: ticket {ref} overdue"
            text = (
                f"{STAFF_SMS_PREFIX} Level {level}: ticket {ref} ({field}) is {over} overdue "
                f"(due {due_local} KST). {link}"
            )
    elif level == 0:
        subject = f"{STAFF_SMS_PREFIX} 접수 {ref} 처리기한 {left} 남음"
        text = (
            f"{STAFF_SMS_PREFIX} 접수 {ref} ({field}) 처리기한까지 {left} 남았습니다 (기한 {due_local}). "
            f"{link}"
        )
    else:
        subject = f"{STAFF_SMS_PREFIX} {level}단계: 접수 {ref} 처리기한 초과"
        text = (
            f"{STAFF_SMS_PREFIX} {level}단계 경보: 접수 {ref} ({field}) 처리기한을 {over} 넘겼습니다 "
            f"(기한 {due_local}). {link}"
        )
    return Message(subject=subject, text=text)
