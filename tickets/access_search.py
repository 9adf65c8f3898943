"""Finding rows of the access log: by user, data subject (a ticket reference or a phone number), action and
period. Shared by `hotline audit list` and the console's audit pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, Text, cast, or_, select
from sqlalchemy.orm import Session

from tickets.access_log import AccessLogEntry
from tickets.masking import e164_or_none, mask_number
from tickets.models import Ticket
from tickets.references import normalise_reference

MAX_ROWS = 500


@dataclass(frozen=True)
class Filters:
    subject: str | None = None  # a reference ("4821-9135") or a phone number as typed
    user: str | None = None  # a username, or "system"
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None  # exclusive


def subject_keys(session: Session, subject: str) -> list[str]:
    """The subject strings a search for `subject` matches in the log.

    A reference matches itself. A phone number matches the references of every ticket that holds it (views,
    plays and changes name tickets) and its masked form (exports name masked numbers, so those rows may
    also be another caller's with the same first and last digits: the reviewer sees the masked number).
    """
    subject = subject.strip()
    digits = "".join(ch for ch in subject if ch.isdigit())
    if len(digits) == 8 and not subject.startswith(("+", "0")):
        return [normalise_reference(subject)]
    number = e164_or_none(subject)
    if number is None:
        return [subject]
    references = session.scalars(
        select(Ticket.reference).where(or_(Ticket.callback_number == number, Ticket.caller_number == number))
    ).all()
    return [*references, mask_number(number)]


def query(session: Session, filters: Filters) -> Select[Any]:
    """The matching rows, the newest first."""
    statement = select(AccessLogEntry).order_by(AccessLogEntry.id.desc())
    if filters.user:
        statement = statement.where(AccessLogEntry.actor_name == filters.user.strip())
    if filters.action:
        statement = statement.where(AccessLogEntry.action == filters.action)
    if filters.since is not None:
        statement = statement.where(AccessLogEntry.at >= filters.since)
    if filters.until is not None:
        statement = statement.where(AccessLogEntry.at < filters.until)
    if filters.subject:
        # Subjects are a JSON list of strings: a key matches as a whole quoted string. Keys are digits,
        # dashes, + and * (no LIKE wildcards). The search is rare and read by people: a scan of the period
        # is fine, and keeps the subjects in the one row the hash covers.
        text = cast(AccessLogEntry.subjects, Text)
        keys = subject_keys(session, filters.subject)
        statement = statement.where(or_(*(text.like(f'%"{key}"%') for key in keys)))
    return statement


def search(session: Session, filters: Filters, limit: int = MAX_ROWS) -> list[AccessLogEntry]:
    return list(session.scalars(query(session, filters).limit(limit)))


def entry_json(entry: AccessLogEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "user_id": entry.actor_id,
        "user": entry.actor_name,
        "address": entry.address,
        "user_agent": entry.user_agent,
        "action": entry.action,
        "subjects": entry.subjects,
        "reason": entry.reason,
        "detail": entry.detail,
        "hash": entry.hash,
    }
