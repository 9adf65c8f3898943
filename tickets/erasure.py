"""Anonymising callers' data: one ticket, one missed call, or everything about one number (erasure).

Statistics stay: a ticket keeps its row, field, support type, status, times, attempts' outcomes and alerts,
so the reports count what they counted before. What goes: the numbers, the recordings (deleted at Twilio
through tickets.recording_deletion), the call flow's saved state and last prompt (which speaks the
number), and every phone number written in free text (notes, summaries, messages).

Erasure on request (`hotline privacy erase`, the admin console page) anonymises the person's tickets and
calls, then sweeps every text and JSON column of every table for the number in any form (+821012345678,
010-1234-5678, 01012345678, +82 10 1234 5678 …). The access log is left as it is: it is append-only and
names tickets and masked numbers only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import phonenumbers
from sqlalchemy import JSON, String, Table, Text, cast, or_, select, update
from sqlalchemy.orm import Session

from tickets import access_log, events
from tickets.access_log import APPEND_ONLY_TABLES, Action
from tickets.db import Base
from tickets.logsafe import mask_numbers
from tickets.masking import e164_or_none, mask_number
from tickets.models import (
    Call,
    Diagnosis,
    Notification,
    OutboxMessage,
    SlaPause,
    Ticket,
    User,
)
from tickets.outbox import DEAD, PENDING, SENDING
from tickets.recording_deletion import calls_of, delete_call_recording, delete_ticket_recordings
from tickets.references import normalise_reference

ERASED = "[삭제됨]"
# Left alone by the sweep: the append-only access log, and the staff's and institutes' own numbers.
NOT_CALLERS_DATA = (*APPEND_ONLY_TABLES, "access_log_head", "users", "institute_contacts")


class ErasureError(ValueError):
    """The request cannot be carried out as asked; the message says why."""


def number_pattern(e164: str) -> re.Pattern[str]:
    """The number in any form people or systems write it: with or without the country code or the trunk
    0, with spaces, hyphens, dots or brackets between the digits."""
    parsed = phonenumbers.parse(e164, None)
    national = phonenumbers.national_significant_number(parsed)
    sep = r"[\s.()\-]*"
    digits = sep.join(national)
    code = str(parsed.country_code)
    return re.compile(rf"(?<!\d)(?:(?:\+|00)?{sep}{code}{sep}(?:\(?0\)?{sep})?|0{sep})?{digits}(?!\d)")


def _scrub(value: Any, clean: Callable[[str], str]) -> Any:
    """`value` (text or JSON) with `clean` applied to every string in it."""
    if isinstance(value, str):
        return clean(value)
    if isinstance(value, dict):
        return {key: _scrub(item, clean) for key, item in value.items()}
    if isinstance(value, list):
        return [_scrub(item, clean) for item in value]
    return value


def _text_cleaner(numbers: set[str]) -> Callable[[str], str]:
    patterns = [number_pattern(n) for n in numbers if e164_or_none(n) == n]

    def clean(text: str) -> str:
        for pattern in patterns:
            text = pattern.sub(ERASED, text)
        return mask_numbers(text)  # any other number in free text: masked

    return clean


def _forget_flow(call: Call, now: datetime) -> None:
    """A call without its caller: the number, the flow's state and the last TwiML (it reads the number
    back) go; status, times and duration stay."""
    call.from_number = None
    call.state = {}
    call.last_response = None
    call.anonymised_at = now


def anonymise_ticket(
    session: Session, ticket: Ticket, *, now: datetime, reason: str, actor: User | None = None
) -> list[str]:
    """Everything personal about one ticket, gone for good; its statistics kept. Returns the recordings
    queued for deletion."""
    calls = calls_of(session, ticket)
    numbers = {n for n in (ticket.caller_number, ticket.callback_number) if n}
    numbers |= {c.from_number for c in calls if c.from_number}
    clean = _text_cleaner(numbers)
    deleted = delete_ticket_recordings(session, ticket, now=now, reason=reason, actor=actor)
    ticket.caller_number = ticket.callback_number = None
    ticket.resolution_summary = _scrub(ticket.resolution_summary, clean)
    for call in calls:
        _forget_flow(call, now)
    for event in ticket.events:
        event.detail = _scrub(event.detail, clean)
    for attempt in ticket.attempts:
        attempt.note = _scrub(attempt.note, clean)
    for referral in ticket.referrals:
        referral.note, referral.outcome = _scrub(referral.note, clean), _scrub(referral.outcome, clean)
        referral.decline_reason = _scrub(referral.decline_reason, clean)
    for model, column in ((Diagnosis, "summary"), (SlaPause, "reason"), (Notification, "text")):
        for row in session.scalars(select(model).where(model.ticket_id == ticket.id)):  # type: ignore[attr-defined]
            setattr(row, column, _scrub(getattr(row, column), clean))
    for message in session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)):
        if message.recipient in numbers:
            message.recipient = mask_number(message.recipient)
            if message.status in (PENDING, SENDING):  # nothing more goes to a number that is gone
                message.status, message.last_error = DEAD, "recipient anonymised"
        message.payload = _scrub(message.payload, clean)
    ticket.anonymised_at = now
    events.record(session, ticket, "anonymised", by=actor, at=now, reason=reason)
    access_log.record(
        session, actor=actor, action=Action.DELETE, subjects=[ticket.reference], reason=reason,
        detail={"what": "personal data"}, at=now,
    )  # fmt: skip
    return deleted


def anonymise_missed_call(
    session: Session, call: Call, *, now: datetime, reason: str, actor: User | None = None
) -> str | None:
    """A call that filed no ticket: its number, flow state and recording (returned, if it had one)."""
    deleted = delete_call_recording(session, call, now=now, reason=reason, actor=actor)
    _forget_flow(call, now)
    access_log.record(
        session, actor=actor, action=Action.DELETE, subjects=[f"call:{call.call_sid}"], reason=reason,
        detail={"what": "personal data"}, at=now,
    )  # fmt: skip
    return deleted


def mask_ticket_numbers(session: Session, ticket: Ticket, *, now: datetime) -> None:
    """Retention's second step: the numbers kept masked only (010-****-5678), on the ticket, its calls and
    its messages; the rest of the ticket stays as it was."""
    calls = calls_of(session, ticket)
    numbers = {n for n in (ticket.caller_number, ticket.callback_number) if n}
    numbers |= {c.from_number for c in calls if c.from_number}
    ticket.caller_number = mask_number(ticket.caller_number) or None
    ticket.callback_number = mask_number(ticket.callback_number) or None
    for call in calls:
        call.from_number = mask_number(call.from_number) or None
        call.state, call.last_response = {}, None
    for message in session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)):
        if message.recipient in numbers:
            message.recipient = mask_number(message.recipient)
    ticket.numbers_masked_at = now
    events.record(session, ticket, "numbers_masked", at=now, reason="retention")
    access_log.record(
        session, actor=None, action=Action.DELETE, subjects=[ticket.reference], reason="retention",
        detail={"what": "numbers masked"}, at=now,
    )  # fmt: skip


@dataclass
class Erasure:
    number: str  # masked: this report may be printed or logged
    tickets: list[str] = field(default_factory=list)
    calls: int = 0
    recordings: int = 0
    cells: int = 0  # other text cells the sweep cleaned


def find_subjects(
    session: Session, number: str, reference: str | None
) -> tuple[str, list[Ticket], list[Call]]:
    """The number in E.164 and the tickets and missed calls erasure would anonymise (nothing changes)."""
    e164 = e164_or_none(number)
    if e164 is None:
        raise ErasureError(f"{number!r} is not a phone number")
    query = select(Ticket).where(or_(Ticket.caller_number == e164, Ticket.callback_number == e164))
    if reference is not None:
        query = query.where(Ticket.reference == normalise_reference(reference))
    tickets = list(session.scalars(query.order_by(Ticket.id)))
    if reference is not None and not tickets:
        raise ErasureError(f"ticket {reference} does not hold {mask_number(e164)}")
    calls: list[Call] = []
    if reference is None:
        calls = [
            c
            for c in session.scalars(select(Call).where(Call.from_number == e164).order_by(Call.id))
            if c.filed_or_joined_ticket is None
        ]
    return e164, tickets, calls


def erase_number(
    session: Session, number: str, *, reason: str, actor: User, now: datetime, reference: str | None = None
) -> Erasure:
    """Anonymise one person's data: the tickets and missed calls of `number` (only ticket `reference`,
    when given), then, without a reference, every other place the number was written."""
    if not reason.strip():
        raise ErasureError("a reason is required")
    e164, tickets, calls = find_subjects(session, number, reference)
    report = Erasure(mask_number(e164))
    why = f"erasure: {reason.strip()}"
    for ticket in tickets:
        report.recordings += len(anonymise_ticket(session, ticket, now=now, reason=why, actor=actor))
        report.tickets.append(ticket.reference)
    for call in calls:
        deleted = anonymise_missed_call(session, call, now=now, reason=why, actor=actor)
        report.recordings += deleted is not None
    report.calls = len(calls)
    session.flush()
    if reference is None:
        report.cells = sweep_number(session, e164)
        session.expire_all()  # the sweep wrote past the ORM: objects read before it are stale
    return report


def sweep_number(session: Session, e164: str) -> int:
    """Replace the number, in any form, in every text and JSON column of every table of callers' data;
    how many cells changed. A LIKE on the last four digits finds the candidates (any form ends in them)."""
    pattern = number_pattern(e164)
    last_four = f"%{e164[-4:]}%"
    changed = 0
    for table in Base.metadata.sorted_tables:
        if table.name in NOT_CALLERS_DATA:
            continue
        changed += _sweep_table(session, table, pattern, last_four)
    return changed


def _sweep_table(session: Session, table: Table, pattern: re.Pattern[str], like: str) -> int:
    keys = list(table.primary_key.columns)
    columns = [c for c in table.columns if isinstance(c.type, String | Text | JSON) and c not in keys]
    changed = 0
    for column in columns:
        rows = session.execute(select(*keys, column).where(cast(column, Text).like(like))).all()
        for row in rows:
            value = row[-1]
            cleaned = _scrub(value, lambda text: pattern.sub(ERASED, text))
            if cleaned == value:
                continue
            match = [key == row[i] for i, key in enumerate(keys)]
            session.execute(update(table).where(*match).values({column.name: cleaned}))
            changed += 1
    return changed
