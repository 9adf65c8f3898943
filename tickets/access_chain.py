"""Keeping the access log honest: verify its hash chain, store checkpoints, purge rows past retention.

- `verify` recomputes the chain and names the first row that breaks it (`hotline audit verify`).
- `checkpoint` stores the chain's last hash; the nightly job (scheduler.access_checkpoint) also mails it to
  the head of center, so someone with write access to the database cannot rewrite history unnoticed.
- `purge` deletes rows older than `privacy.access_log_years`, after a checkpoint that vouches for them:
  verify then accepts a log that starts after row 1 only when a purge checkpoint holds the hash its first
  row chains onto.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, select, text
from sqlalchemy.orm import Session

from tickets.access_log import (
    GENESIS_HASH,
    PURGE_OPTION,
    AccessLogCheckpoint,
    AccessLogEntry,
    AccessLogHead,
    chain_hash,
    lock_head,
)

NIGHTLY, PURGE = "nightly", "purge"
BATCH = 1000


@dataclass(frozen=True)
class Verdict:
    rows: int  # rows checked
    last_id: int | None
    last_hash: str | None
    broken_id: int | None = None  # the first row that breaks the chain
    problem: str | None = None

    @property
    def intact(self) -> bool:
        return self.broken_id is None


def _rows(session: Session, first_id: int) -> Iterator[AccessLogEntry]:
    """The rows from `first_id` on, in chain order, a batch at a time."""
    after = first_id - 1
    while True:
        batch = session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.id > after).order_by(AccessLogEntry.id).limit(BATCH)
        ).all()
        yield from batch
        if len(batch) < BATCH:
            return
        after = batch[-1].id
        session.expunge_all()  # a long log is read in constant memory


def verify(session: Session, since: datetime | None = None) -> Verdict:
    """Recompute the chain (from the first row at or after `since`, trusting the row before it)."""
    checkpoints: dict[int, list[AccessLogCheckpoint]] = {}
    for point in session.scalars(select(AccessLogCheckpoint)):
        checkpoints.setdefault(point.entry_id, []).append(point)
    first_query = select(func.min(AccessLogEntry.id))
    if since is not None:
        first_query = first_query.where(AccessLogEntry.at >= since)
    first_id = session.scalar(first_query)
    head = session.get(AccessLogHead, 1)
    if first_id is None:
        if since is None and head is not None and head.last_id > 0:
            purged = [p for p in checkpoints.get(head.last_id, []) if p.kind == PURGE]
            if not any(p.entry_hash == head.last_hash for p in purged):
                return Verdict(
                    0, None, None, head.last_id, f"the log is empty but its head names row {head.last_id}"
                )
        return Verdict(0, None, None)

    expected_prev = _anchor(session, first_id, checkpoints)
    expected_id, rows, last = first_id, 0, None
    for row in _rows(session, first_id):
        problem = _check(row, expected_id, expected_prev, checkpoints)
        if problem is not None:
            return Verdict(rows, last.id if last else None, last.hash if last else None, row.id, problem)
        rows += 1
        last = row
        expected_id, expected_prev = row.id + 1, row.hash
    assert last is not None
    if head is not None and (head.last_id, head.last_hash) != (last.id, last.hash):
        return Verdict(
            rows, last.id, last.hash, last.id + 1,
            f"the log ends at row {last.id} but its head names row {head.last_id}: rows were removed",
        )  # fmt: skip
    for entry_id in sorted(checkpoints):
        if entry_id > last.id:
            return Verdict(
                rows, last.id, last.hash, last.id + 1,
                f"a checkpoint names row {entry_id} but the log ends at row {last.id}: rows were removed",
            )  # fmt: skip
    return Verdict(rows, last.id, last.hash)


def _anchor(session: Session, first_id: int, checkpoints: dict[int, list[AccessLogCheckpoint]]) -> str | None:
    """The hash the first checked row must chain onto; None when nothing vouches for one."""
    if first_id == 1:
        return GENESIS_HASH
    before = session.get(AccessLogEntry, first_id - 1)
    if before is not None:  # verifying from a date: the row before is trusted as it stands
        return before.hash
    purged = [p.entry_hash for p in checkpoints.get(first_id - 1, []) if p.kind == PURGE]
    return purged[-1] if purged else None


def _check(
    row: AccessLogEntry, expected_id: int, expected_prev: str | None, checkpoints: dict[int, list[Any]]
) -> str | None:
    if row.id != expected_id:
        return f"rows {expected_id}–{row.id - 1} are missing"
    if expected_prev is None:
        return f"rows before {row.id} are missing and no purge checkpoint vouches for them"
    if row.prev_hash != expected_prev:
        return f"row {row.id} does not chain onto row {row.id - 1} (that row, or this link, was changed)"
    if row.hash != chain_hash(row.prev_hash, row.content()):
        return f"row {row.id} was changed after it was written (its hash does not match its content)"
    for point in checkpoints.get(row.id, []):
        if point.entry_hash != row.hash:
            return f"row {row.id} differs from the {point.kind} checkpoint of {point.day}"
    return None


def last_entry_before(session: Session, moment: datetime) -> tuple[int, str]:
    """The last row written before `moment` (id and hash), or (0, genesis) when there is none."""
    row = session.scalars(
        select(AccessLogEntry).where(AccessLogEntry.at < moment).order_by(AccessLogEntry.id.desc()).limit(1)
    ).first()
    return (row.id, row.hash) if row is not None else (0, GENESIS_HASH)


def checkpoint(session: Session, kind: str, day: date, before: datetime) -> tuple[AccessLogCheckpoint, bool]:
    """The `kind` checkpoint of `day`, covering the rows written before `before`; True when new.

    The chain head is locked first, so two schedulers running the job store one checkpoint between them.
    """
    lock_head(session)
    existing = session.scalars(
        select(AccessLogCheckpoint).where(AccessLogCheckpoint.kind == kind, AccessLogCheckpoint.day == day)
    ).first()
    if existing is not None:
        return existing, False
    entry_id, entry_hash = last_entry_before(session, before)
    point = AccessLogCheckpoint(kind=kind, day=day, entry_id=entry_id, entry_hash=entry_hash)
    session.add(point)
    session.flush()
    return point, True


def purge(session: Session, older_than: datetime, day: date) -> int:
    """Delete the rows written before `older_than`, once a day, after a purge checkpoint; how many went.

    This is the documented way past the append-only trigger of migration 0007: the transaction-local
    setting `hotline.access_log_purge` lets this transaction's DELETE through and nothing else.
    """
    point, new = checkpoint(session, PURGE, day, older_than)
    if not new or point.entry_id == 0:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('hotline.access_log_purge', 'on', true)"))
    result = session.execute(
        delete(AccessLogEntry)
        .where(AccessLogEntry.id <= point.entry_id)
        .execution_options(**{PURGE_OPTION: True, "synchronize_session": False})
    )
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('hotline.access_log_purge', 'off', true)"))
    return int(getattr(result, "rowcount", 0) or 0)
