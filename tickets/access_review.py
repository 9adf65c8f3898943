"""The monthly check of the access log: what looks unusual, for a person to review and sign off.

The standard on safety measures asks that access records be checked at least monthly and the reason of
every download confirmed. The report lists:
- every download, with its reason;
- views and plays outside working hours (the center's SLA calendar: weekends and holidays too);
- users who looked at more than `privacy.outside_fields_threshold` tickets outside their fields and queue;
- recordings played by someone other than the ticket's assignee (as assigned now: the history of
  assignments is in the ticket's events when a finding needs a closer look).
The sign-off (who, when, a note, how many findings it covered) is stored, one per month.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import clock
from tickets.access_log import AccessLogEntry, AccessReview, Action
from tickets.models import Ticket, User

LOOKS = (Action.VIEW.value, Action.PLAY.value)


@dataclass(frozen=True)
class Finding:
    kind: str  # download, off_hours, outside_fields, played_by_other
    user: str
    at: datetime | None  # None for a count over the month
    subjects: list[str]
    note: str
    entry_ids: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Month:
    label: str  # "2026-11"
    start: datetime
    end: datetime

    @classmethod
    def parse(cls, label: str, timezone: str) -> Month:
        first = date.fromisoformat(label + "-01")
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        zone = ZoneInfo(timezone)
        return cls(label, datetime.combine(first, time(0), zone), datetime.combine(following, time(0), zone))

    @classmethod
    def previous(cls, now: datetime, timezone: str) -> Month:
        today = now.astimezone(ZoneInfo(timezone)).date()
        last = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
        return cls.parse(last.strftime("%Y-%m"), timezone)


def findings(
    session: Session, month: Month, *, working_time: Callable[[datetime], bool], outside_threshold: int
) -> list[Finding]:
    rows = session.scalars(
        select(AccessLogEntry)
        .where(AccessLogEntry.at >= month.start, AccessLogEntry.at < month.end)
        .order_by(AccessLogEntry.id)
    ).all()
    references = {s for row in rows if row.action in LOOKS for s in row.subjects}
    tickets = {
        t.reference: t for t in session.scalars(select(Ticket).where(Ticket.reference.in_(references)))
    }
    users = {u.id: u for u in session.scalars(select(User))}
    found: list[Finding] = []
    outside: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        if row.action == Action.DOWNLOAD:
            found.append(
                Finding("download", row.actor_name, row.at, _few(row.subjects), row.reason or "", [row.id])
            )
            continue
        if row.action not in LOOKS or row.actor_id is None:
            continue
        if not working_time(row.at):
            found.append(
                Finding("off_hours", row.actor_name, row.at, _few(row.subjects), row.action, [row.id])
            )
        user = users.get(row.actor_id)
        for reference in row.subjects:
            ticket = tickets.get(reference)
            if ticket is None:
                continue
            if (
                user is not None
                and user.fields
                and ticket.field not in user.fields
                and ticket.assignee_id != user.id
            ):
                outside[row.actor_name].add(reference)
            if row.action == Action.PLAY and ticket.assignee_id != row.actor_id:
                holder = ticket.assignee.username if ticket.assignee else "없음"
                found.append(
                    Finding(
                        "played_by_other", row.actor_name, row.at, [reference], f"담당자: {holder}", [row.id]
                    )
                )
    for name, seen in sorted(outside.items()):
        if len(seen) > outside_threshold:
            found.append(Finding("outside_fields", name, None, _few(sorted(seen)), f"{len(seen)}건"))
    return found


def _few(subjects: list[str], most: int = 10) -> list[str]:
    return subjects[:most] + ([f"… 외 {len(subjects) - most}건"] if len(subjects) > most else [])


class AlreadySigned(Exception):
    pass


def sign_off(
    session: Session, month: Month, user: User, findings_count: int, note: str | None
) -> AccessReview:
    """Store the month's sign-off; a month is signed once."""
    if session.get(AccessReview, month.label) is not None:
        raise AlreadySigned(f"{month.label} is already signed off")
    review = AccessReview(
        month=month.label, findings=findings_count, signed_by_id=user.id, signed_by=user.username,
        signed_at=clock.now(), note=(note or "").strip() or None,
    )  # fmt: skip
    session.add(review)
    session.flush()
    return review
