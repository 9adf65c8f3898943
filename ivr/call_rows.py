"""The call row in plain SQL (tickets.plain_sql), for the requests that only move a call on.

The greeting, the menu steps and the callbacks at the end of a call are most of the hotline's requests,
and each reads a row or two and writes them back. Filing a ticket goes through tickets.intake, and every
unusual case stays with the ORM (ivr.calls).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Dialect, Integer, Table, bindparam, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tickets.db import UTCDateTime
from tickets.models import Call, Ticket
from tickets.plain_sql import PerDialect, PlainStatement

_CALLS = cast(Table, Call.__table__)
_TICKETS = cast(Table, Ticket.__table__)


@dataclass(frozen=True)
class TurnRow:
    """What a turn needs of the call row."""

    id: int
    from_number: str | None
    state: dict[str, Any] | None
    turn: int
    last_response: str | None
    flow_completed: bool

    @classmethod
    def of(cls, call: Call) -> TurnRow:
        return cls(call.id, call.from_number, call.state, call.turn, call.last_response, call.flow_completed)


# Every turn writes these columns (and its TwiML, last_response).
@dataclass(frozen=True)
class RecordingRow:
    """A call with the ticket it filed, as a recording callback needs them."""

    call_id: int
    call_url: str | None
    call_recording_sid: str | None
    call_duration: int | None
    ticket_id: int
    ticket_url: str | None
    ticket_recording_sid: str | None
    ticket_duration: int | None


TURN_COLUMNS = ("turn", "state", "language", "step", "updated_at", "last_response")
# A call moved on through the ORM path (ivr.calls._advance) writes these, the flow's end included.
ADVANCE_COLUMNS = (*TURN_COLUMNS, "flow_completed", "recording_url", "recording_duration")
NEW_CALL_COLUMNS = (*TURN_COLUMNS, "call_sid", "from_number", "to_number", "started_at")
RECORDING_COLUMNS = ("recording_url", "recording_sid", "recording_duration", "updated_at")


class CallRows:
    """The plain statements of one database."""

    def __init__(self, dialect: Dialect) -> None:
        calls = _CALLS.c
        self.lock_turn = PlainStatement(
            select(
                calls.id,
                calls.from_number,
                calls.state,
                calls.turn,
                calls.last_response,
                calls.flow_completed,
            )
            .where(calls.call_sid == bindparam("call_sid"))
            .with_for_update(),
            dialect,
        )
        self.save_turn = PlainStatement(
            update(_CALLS).where(calls.id == bindparam("call_id")), dialect, TURN_COLUMNS
        )
        self.save_advance = PlainStatement(
            update(_CALLS).where(calls.id == bindparam("call_id")), dialect, ADVANCE_COLUMNS
        )
        # A concurrent request of the same call may insert first: then nothing is inserted (no error,
        # which on PostgreSQL would abort the transaction) and the caller reads the winner's row.
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        self.insert_call = PlainStatement(
            insert(_CALLS).on_conflict_do_nothing(index_elements=[calls.call_sid]),
            dialect,
            NEW_CALL_COLUMNS,
        )
        now = bindparam("now", type_=UTCDateTime())
        self.end_finished_call = PlainStatement(
            update(_CALLS)
            .where(calls.call_sid == bindparam("call_sid"), calls.flow_completed == true())
            .values(
                status=bindparam("status"),
                duration=func.coalesce(bindparam("duration", type_=Integer()), calls.duration),
                ended_at=func.coalesce(calls.ended_at, now),
                updated_at=now,
            ),
            dialect,
        )
        tickets = _TICKETS.c
        self.lock_with_own_ticket = PlainStatement(
            select(
                calls.id,
                calls.recording_url,
                calls.recording_sid,
                calls.recording_duration,
                tickets.id,
                tickets.recording_url,
                tickets.recording_sid,
                tickets.recording_duration,
            )
            .join_from(_CALLS, _TICKETS, tickets.call_id == calls.id)
            .where(calls.call_sid == bindparam("call_sid"))
            .with_for_update(of=_CALLS),
            dialect,
        )
        self.save_call_recording = PlainStatement(
            update(_CALLS).where(calls.id == bindparam("call_id")), dialect, RECORDING_COLUMNS
        )
        self.save_ticket_recording = PlainStatement(
            update(_TICKETS).where(tickets.id == bindparam("ticket_key")), dialect, RECORDING_COLUMNS
        )


call_rows = PerDialect(CallRows)


def lock_turn(session: Session, call_sid: str) -> TurnRow | None:
    """The call's row, locked until commit (two webhooks of one call run one after the other)."""
    row = call_rows(session).lock_turn.first(session, call_sid=call_sid)
    return TurnRow(*row) if row is not None else None


def save_turn(session: Session, call_id: int, columns: Mapping[str, Any]) -> None:
    call_rows(session).save_turn.changed(session, call_id=call_id, **columns)


def save_advance(session: Session, call_id: int, columns: Mapping[str, Any]) -> None:
    call_rows(session).save_advance.changed(session, call_id=call_id, **columns)


def insert_call(session: Session, columns: Mapping[str, Any]) -> bool:
    """Insert a new call's row; False when a row with its CallSid exists already."""
    return call_rows(session).insert_call.changed(session, **columns) == 1


def end_finished_call(
    session: Session, call_sid: str, status: str, duration: int | None, now: datetime
) -> bool:
    """How a call whose flow finished ended (nothing else to do for it); False for any other call."""
    rows = call_rows(session).end_finished_call
    return rows.changed(session, call_sid=call_sid, status=status, duration=duration, now=now) == 1


def lock_with_own_ticket(session: Session, call_sid: str) -> RecordingRow | None:
    """The call and the ticket it filed, the call locked; None if either is missing."""
    row = call_rows(session).lock_with_own_ticket.first(session, call_sid=call_sid)
    return RecordingRow(*row) if row is not None else None


Recorded = tuple[str, str | None, int | None]  # a row's recording_url, recording_sid, recording_duration


def _recording_columns(recorded: Recorded, now: datetime) -> dict[str, Any]:
    url, sid, duration = recorded
    return {"recording_url": url, "recording_sid": sid, "recording_duration": duration, "updated_at": now}


def save_call_recording(session: Session, call_id: int, recorded: Recorded, now: datetime) -> None:
    statement = call_rows(session).save_call_recording
    statement.changed(session, call_id=call_id, **_recording_columns(recorded, now))


def save_ticket_recording(session: Session, ticket_id: int, recorded: Recorded, now: datetime) -> None:
    statement = call_rows(session).save_ticket_recording
    statement.changed(session, ticket_key=ticket_id, **_recording_columns(recorded, now))
