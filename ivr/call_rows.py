"""The call row in plain SQL, for the requests that only move a call on.

The greeting and the menu steps are most of the hotline's requests, and each reads one row and writes it
back. Executed through the ORM session, SQLAlchemy's per-statement machinery cost several times the
database's own work, so these statements are compiled once per dialect from the models' table (the same
columns and the same type conversions as the ORM path) and run on the DBAPI connection of the session's
transaction: the webhook's commit, and a test's rollback, cover them as they cover everything else.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ClauseElement, Dialect, Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

from tickets.models import Call

_CALLS = cast(Table, Call.__table__)


class PlainStatement:
    """A Core statement compiled once for one dialect, run on a DBAPI cursor with the types' conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, columns: Sequence[str] = ()) -> None:
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect, column_keys=list(columns) or None))
        self.sql = compiled.string
        self._order = compiled.positiontup if dialect.positional else None
        self._convert = {
            name: converter
            for name, bind in compiled.binds.items()
            if (converter := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        # Columns the statement writes but the caller left out take their model's plain default.
        table = getattr(statement, "table", None)
        self._defaults = {
            column.key: column.default.arg
            for column in (table.columns if table is not None else ())
            if column.key in compiled.binds and column.default is not None and column.default.is_scalar
        }
        self._read = [
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in getattr(statement, "selected_columns", ())
        ]

    def _parameters(self, given: Mapping[str, Any]) -> Any:
        values = {**self._defaults, **given}
        converted = {
            name: convert(value) if (convert := self._convert.get(name)) else value
            for name, value in values.items()
        }
        return converted if self._order is None else tuple(converted[name] for name in self._order)

    def _execute(self, session: Session, values: Mapping[str, Any]) -> Any:
        cursor = session.connection().connection.cursor()
        cursor.execute(self.sql, self._parameters(values))
        return cursor

    def changed(self, session: Session, **values: Any) -> int:
        """Run a write; the number of rows it changed."""
        cursor = self._execute(session, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def first(self, session: Session, **values: Any) -> tuple[Any, ...] | None:
        """Run a query; its first row with each column converted as the ORM would, or None."""
        cursor = self._execute(session, values)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return tuple(read(value) if read else value for read, value in zip(self._read, row, strict=True))


@dataclass(frozen=True)
class TurnRow:
    """What a turn needs of the call row."""

    id: int
    from_number: str | None
    state: dict[str, Any] | None
    turn: int
    last_response: str | None
    flow_completed: bool


# Every turn writes these columns (and its TwiML, last_response).
TURN_COLUMNS = ("turn", "state", "language", "step", "updated_at", "last_response")
NEW_CALL_COLUMNS = (*TURN_COLUMNS, "call_sid", "from_number", "to_number", "started_at")


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
        # A concurrent request of the same call may insert first: then nothing is inserted (no error,
        # which on PostgreSQL would abort the transaction) and the caller reads the winner's row.
        insert = postgresql.insert if dialect.name == "postgresql" else sqlite.insert
        self.insert_call = PlainStatement(
            insert(_CALLS).on_conflict_do_nothing(index_elements=[calls.call_sid]),
            dialect,
            NEW_CALL_COLUMNS,
        )


_BY_DIALECT: dict[tuple[str, str, str], CallRows] = {}


def call_rows(session: Session) -> CallRows:
    dialect = session.get_bind().dialect
    key = (dialect.name, dialect.driver, dialect.paramstyle)
    rows = _BY_DIALECT.get(key)
    if rows is None:
        rows = _BY_DIALECT[key] = CallRows(dialect)
    return rows


def lock_turn(session: Session, call_sid: str) -> TurnRow | None:
    """The call's row, locked until commit (two webhooks of one call run one after the other)."""
    row = call_rows(session).lock_turn.first(session, call_sid=call_sid)
    return TurnRow(*row) if row is not None else None


def save_turn(session: Session, call_id: int, columns: Mapping[str, Any]) -> None:
    call_rows(session).save_turn.changed(session, call_id=call_id, **columns)


def insert_call(session: Session, columns: Mapping[str, Any]) -> bool:
    """Insert a new call's row; False when a row with its CallSid exists already."""
    return call_rows(session).insert_call.changed(session, **columns) == 1
