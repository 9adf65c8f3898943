"""The access log (접속기록): one append-only, hash-chained row for every access to callers' data.

PIPA's safety-measures standard asks for the account, the time, where from, whose data and what was done,
kept safe from forgery. So every view of a ticket with its numbers, every recording played, every export,
every change and deletion calls

    access_log.record(session, actor=user, action=Action.VIEW, subjects=[ticket.reference])

(`record_request` fills in the user, address and user agent of the Flask request; jobs pass actor=None,
which is logged as "system"). The row joins the caller's transaction: what rolled back was not done.

Tamper-evidence (tickets.access_chain verifies it):
- Each row's `hash` is SHA-256 over the previous row's hash and a canonical JSON of the row (`content`),
  and the `id` is the row's place in the chain, 1, 2, 3 … without gaps, so a row changed, removed or slipped
  in breaks the chain from there on.
- Appends are serialised on the one-row `access_log_head` (locked FOR UPDATE on PostgreSQL; SQLite's
  writes are serial already), so two writers never chain onto the same row.
- Rows are never updated or deleted through the ORM (`AppendOnlyError`), and a PostgreSQL trigger
  (migration 0007) refuses UPDATE and DELETE from anyone; only the retention purge deletes old rows, and it
  writes a checkpoint first.
"""

from __future__ import annotations

import enum
import hashlib
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from flask import has_request_context, request
from sqlalchemy import CheckConstraint, Index, Text, UniqueConstraint, event, select
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from tickets import clock
from tickets.db import Base, created, intpk, str16, str64, str255

GENESIS_HASH = "0" * 64  # what the first row chains onto
SYSTEM = "system"  # the actor name of scheduled jobs and the CLI
HEAD_ID = 1
PURGE_OPTION = "access_log_purge"  # the execution option that lets the retention purge delete old rows


class Action(enum.StrEnum):
    VIEW = "view"
    CHANGE = "change"
    INPUT = "input"
    DELETE = "delete"
    DOWNLOAD = "download"
    PRINT = "print"
    PLAY = "play"


class AppendOnlyError(Exception):
    """An update or delete of the access log was attempted through the application."""


class AccessLogEntry(Base):
    __tablename__ = "access_log"
    __table_args__ = (
        CheckConstraint("action IN ({})".format(", ".join(f"'{a.value}'" for a in Action)), name="action"),
        # Search and the monthly check read a period, optionally of one user.
        Index(None, "at"),
        Index(None, "actor_name", "at"),
    )

    # The row's place in the chain, given by the append (not a sequence, which would leave gaps).
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    # No foreign key: the log outlives the accounts it names, and keeps the username as it was.
    actor_id: Mapped[int | None]
    actor_name: Mapped[str64]
    address: Mapped[str64 | None]  # the client's address, as the configured proxy reports it
    user_agent: Mapped[str255 | None]
    action: Mapped[str16]
    # Whose data: ticket references, and masked numbers (exports, searches by number).
    subjects: Mapped[list[Any]]
    reason: Mapped[str | None] = mapped_column(Text)  # why: required for downloads
    detail: Mapped[dict[str, Any]]  # what exactly: the page, the export's period, the recording
    prev_hash: Mapped[str64]
    hash: Mapped[str64]

    def content(self) -> dict[str, Any]:
        """What the hash covers: every column but the hashes themselves."""
        return {
            "id": self.id,
            "at": self.at.isoformat(timespec="microseconds"),
            "actor_id": self.actor_id,
            "actor_name": self.actor_name,
            "address": self.address,
            "user_agent": self.user_agent,
            "action": self.action,
            "subjects": list(self.subjects),
            "reason": self.reason,
            "detail": self.detail,
        }


class AccessLogHead(Base):
    """The chain's last row, one row only: locking it serialises appends (see the module docstring)."""

    __tablename__ = "access_log_head"
    __table_args__ = (CheckConstraint(f"id = {HEAD_ID}", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    last_id: Mapped[int]
    last_hash: Mapped[str64]


class AccessLogCheckpoint(Base):
    """The chain's last hash at a moment, kept (and sent to the head of center) so that a rewritten history
    no longer matches: nightly, and before every retention purge (whose deleted rows it vouches for)."""

    __tablename__ = "access_log_checkpoints"
    # One nightly checkpoint per day, however many schedulers run the job.
    __table_args__ = (UniqueConstraint("kind", "day"),)

    id: Mapped[intpk]
    kind: Mapped[str16]  # "nightly" or "purge"
    day: Mapped[date]  # the local day it closes (nightly) or the day of the purge
    entry_id: Mapped[int]  # the last row it covers (0: the log was empty)
    entry_hash: Mapped[str64]
    created_at: Mapped[created]


class AccessReview(Base):
    """The monthly check of the log (scheduler.access_review), signed off by the person who reviewed it."""

    __tablename__ = "access_reviews"

    month: Mapped[str16] = mapped_column(primary_key=True)  # "2026-11"
    findings: Mapped[int]  # how many unusual accesses the report listed when it was signed
    signed_by_id: Mapped[int | None]  # no foreign key, as for the log itself
    signed_by: Mapped[str64]
    signed_at: Mapped[datetime]
    note: Mapped[str | None] = mapped_column(Text)


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    """SHA-256 (hex) of the previous hash followed by the row's canonical JSON."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def lock_head(session: Session) -> AccessLogHead:
    """The chain head, locked until the transaction ends (FOR UPDATE; SQLite ignores it and needs not)."""
    head = session.scalars(
        select(AccessLogHead)
        .where(AccessLogHead.id == HEAD_ID)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if head is None:  # migration 0007 seeds it; a database built otherwise starts its chain here
        head = AccessLogHead(id=HEAD_ID, last_id=0, last_hash=GENESIS_HASH)
        session.add(head)
    return head


def record(
    session: Session,
    *,
    actor: Any | None,
    action: Action | str,
    subjects: Iterable[str],
    reason: str | None = None,
    address: str | None = None,
    user_agent: str | None = None,
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> AccessLogEntry:
    """Append one row in `session`'s transaction. `actor` is a User, or None for the system."""
    action = Action(action)
    head = lock_head(session)
    entry = AccessLogEntry(
        id=head.last_id + 1,
        at=at or clock.now(),
        actor_id=getattr(actor, "id", None),
        actor_name=actor.username if actor is not None else SYSTEM,
        address=address[:64] if address else None,
        user_agent=user_agent[:255] if user_agent else None,
        action=action.value,
        subjects=sorted(set(subjects)),
        reason=reason,
        detail=detail or {},
        prev_hash=head.last_hash,
    )
    entry.hash = chain_hash(entry.prev_hash, entry.content())
    session.add(entry)
    head.last_id, head.last_hash = entry.id, entry.hash
    session.flush()
    return entry


def record_request(
    session: Session,
    action: Action | str,
    subjects: Iterable[str],
    *,
    reason: str | None = None,
    **detail: Any,
) -> AccessLogEntry:
    """`record` for the user of the current request, from its address and user agent.

    `request.remote_addr` is the client's address: behind the configured proxy, the app's ProxyFix has
    already put the forwarded address there (a raw X-Forwarded-For would be whatever the client wrote).
    """
    from tickets.auth import current_user  # auth needs the models; the log must not need auth to import

    user = current_user() if has_request_context() else None
    address = request.remote_addr if has_request_context() else None
    agent = request.user_agent.string if has_request_context() else None
    if has_request_context():
        detail.setdefault("path", request.path)
    return record(
        session, actor=user, action=action, subjects=subjects, reason=reason, address=address,
        user_agent=agent or None, detail=detail,
    )  # fmt: skip


# --- append-only through the application ------------------------------------------------------------------

APPEND_ONLY_TABLES = ("access_log", "access_log_checkpoints")


def _refuse(_mapper: Any, _connection: Any, target: Any) -> None:
    raise AppendOnlyError(f"{type(target).__tablename__} is append-only: rows are never changed or removed")


event.listen(AccessLogEntry, "before_update", _refuse)
event.listen(AccessLogEntry, "before_delete", _refuse)
event.listen(AccessLogCheckpoint, "before_update", _refuse)
event.listen(AccessLogCheckpoint, "before_delete", _refuse)


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_changes(state: ORMExecuteState) -> None:
    """`session.execute(update(...)/delete(...))` skips the mapper events above: refuse those too, except
    the retention purge's delete, which says so (PURGE_OPTION)."""
    if not (state.is_update or state.is_delete):
        return
    tables = {str(getattr(m.local_table, "name", "")) for m in state.all_mappers}
    if not tables & set(APPEND_ONLY_TABLES):
        return
    if state.is_delete and state.execution_options.get(PURGE_OPTION):
        return
    raise AppendOnlyError(f"{', '.join(sorted(tables))} is append-only: rows are never changed or removed")
