"""Retention (config `privacy.retention`): the daily job that deletes what the hotline may no longer keep.

- Recordings, `recordings_days` after a ticket closed: deleted at Twilio, references forgotten
  (tickets.recording_deletion), each an event on the ticket and an access-log row.
- Caller and callback numbers, `numbers_years` after close: kept masked only (010-****-5678).
- Incomplete tickets, `incomplete_days` after they came in (once no longer open), and missed calls that
  filed no ticket: anonymised (tickets.erasure). The issue says "delete"; the rows stay, emptied, because
  the reports count received tickets, attempts and alerts by period and deleting them would rewrite past
  figures. The access log keeps its rows either way: it names references, never numbers.
- Web form requests whose number was never proved, an hour after they started: deleted.
- The login throttle's rows (client addresses and the names tried), a day after their window started: they
  count nothing by then (tickets.throttle).

Each step is one short transaction per batch that sets the ticket's (or call's) marker column, so a rerun,
a crash midway or two schedulers do each exactly once: rows are taken with FOR UPDATE SKIP LOCKED on
PostgreSQL (SQLite serialises writers). Deletions at Twilio go through the outbox, which retries them.
`hotline privacy purge --dry-run` lists what a run would do (`due`).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, exists, select
from sqlalchemy.orm import Session

from scheduler.access_checkpoint import retention_start
from tickets import throttle, web_requests
from tickets.erasure import anonymise_missed_call, anonymise_ticket, mask_ticket_numbers
from tickets.models import OPEN_STATUSES, Call, RepeatCall, Status, Ticket
from tickets.recording_deletion import delete_ticket_recordings, ticket_recordings
from tickets.ticket_config import RetentionConfig

JOB_ID = "privacy_retention"
RUN_AT = time(3, 0)  # local time: after the access log's checkpoint, before anyone works
BATCH = 100
REASON = "retention"

Transaction = Callable[[], AbstractContextManager[Session]]


@dataclass
class Purge:
    """What a run did, or (dry run) would do: ticket references and call SIDs."""

    recordings: dict[str, int] = field(default_factory=dict)  # reference -> recordings deleted
    masked: list[str] = field(default_factory=list)
    anonymised: list[str] = field(default_factory=list)
    missed_calls: list[str] = field(default_factory=list)
    web_requests: int = 0  # web form requests whose number was never proved (tickets.web_requests)
    throttle_rows: int = 0  # the login throttle's rows past every window (tickets.throttle)

    def to_json(self) -> dict[str, Any]:
        return {
            "recordings": self.recordings,
            "numbers_masked": self.masked,
            "tickets_anonymised": self.anonymised,
            "missed_calls_anonymised": self.missed_calls,
            "unproved_web_requests_deleted": self.web_requests,
            "stale_login_throttle_rows_deleted": self.throttle_rows,
        }

    def __bool__(self) -> bool:
        return bool(
            self.recordings
            or self.masked
            or self.anonymised
            or self.missed_calls
            or self.web_requests
            or self.throttle_rows
        )


@dataclass(frozen=True)
class Cutoffs:
    recordings: datetime  # closed before this: recordings go
    numbers: datetime  # closed before this: numbers masked
    incomplete: datetime  # received before this: incomplete tickets and missed calls anonymised

    @classmethod
    def at(cls, now: datetime, retention: RetentionConfig, timezone: str) -> Cutoffs:
        return cls(
            recordings=now - timedelta(days=retention.recordings_days),
            numbers=retention_start(now, timezone, retention.numbers_years),
            incomplete=now - timedelta(days=retention.incomplete_days),
        )


def _recordings_due(cut: Cutoffs) -> Select[Ticket]:
    return select(Ticket).where(
        Ticket.status == Status.CLOSED,
        Ticket.closed_at < cut.recordings,
        Ticket.recordings_deleted_at.is_(None),
    )


def _numbers_due(cut: Cutoffs) -> Select[Ticket]:
    return select(Ticket).where(
        Ticket.status == Status.CLOSED,
        Ticket.closed_at < cut.numbers,
        Ticket.numbers_masked_at.is_(None),
        Ticket.anonymised_at.is_(None),
    )


def _incomplete_due(cut: Cutoffs) -> Select[Ticket]:
    return select(Ticket).where(
        Ticket.incomplete.is_(True),
        Ticket.created_at < cut.incomplete,
        Ticket.status.not_in(list(OPEN_STATUSES)),  # someone is still working it
        Ticket.anonymised_at.is_(None),
    )


def _missed_calls_due(cut: Cutoffs) -> Select[Call]:
    filed = exists().where(Ticket.call_id == Call.id)
    joined = exists().where(RepeatCall.call_id == Call.id)
    return select(Call).where(Call.started_at < cut.incomplete, Call.anonymised_at.is_(None), ~filed, ~joined)


def due(session: Session, now: datetime, retention: RetentionConfig, timezone: str) -> Purge:
    """What a run at `now` would do; changes nothing."""
    cut = Cutoffs.at(now, retention, timezone)
    plan = Purge()
    for ticket in session.scalars(_recordings_due(cut).order_by(Ticket.id)):
        count = len(ticket_recordings(session, ticket))
        if count:
            plan.recordings[ticket.reference] = count
    plan.masked = [t.reference for t in session.scalars(_numbers_due(cut).order_by(Ticket.id))]
    plan.anonymised = [t.reference for t in session.scalars(_incomplete_due(cut).order_by(Ticket.id))]
    plan.missed_calls = [c.call_sid for c in session.scalars(_missed_calls_due(cut).order_by(Call.id))]
    plan.web_requests = web_requests.count_stale(session, now)
    plan.throttle_rows = throttle.count_stale(session, now)
    return plan


def purge(transaction: Transaction, now: datetime, retention: RetentionConfig, timezone: str) -> Purge:
    """Do everything due at `now`, a batch per transaction, each ticket or call once."""
    cut = Cutoffs.at(now, retention, timezone)
    done = Purge()

    def recordings(session: Session, ticket: Ticket) -> None:
        sids = delete_ticket_recordings(session, ticket, now=now, reason=REASON)
        if sids:
            done.recordings[ticket.reference] = len(sids)

    def anonymise(session: Session, ticket: Ticket) -> None:
        anonymise_ticket(session, ticket, now=now, reason=REASON)
        done.anonymised.append(ticket.reference)

    def mask(session: Session, ticket: Ticket) -> None:
        mask_ticket_numbers(session, ticket, now=now)
        done.masked.append(ticket.reference)

    def missed(session: Session, call: Call) -> None:
        anonymise_missed_call(session, call, now=now, reason=REASON)
        done.missed_calls.append(call.call_sid)

    _in_batches(transaction, _incomplete_due(cut), anonymise)
    _in_batches(transaction, _recordings_due(cut), recordings)
    _in_batches(transaction, _numbers_due(cut), mask)
    _in_batches(transaction, _missed_calls_due(cut), missed)
    with transaction() as session:
        done.web_requests = web_requests.forget_stale(session, now)
        done.throttle_rows = throttle.forget_stale(session, now)
    return done


def _in_batches(transaction: Transaction, query: Select[Any], step: Callable[[Session, Any], None]) -> None:
    """Run `step` on every row `query` selects, BATCH rows per transaction. Each step sets the marker the
    query filters on, so the next batch (or the next run) starts after what committed."""
    entity = query.column_descriptions[0]["entity"]
    while True:
        with transaction() as session:
            rows = session.scalars(
                query.order_by(entity.id).limit(BATCH).with_for_update(skip_locked=True, of=entity)
            ).all()
            for row in rows:
                step(session, row)
        if len(rows) < BATCH:
            return
