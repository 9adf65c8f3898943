"""Statements compiled once per database and run straight on the DBAPI cursor of the session's transaction.

The requests every call makes (ivr.call_rows) and the filing of its ticket (tickets.intake) each run a
handful of small statements. Executed through the ORM session, SQLAlchemy's per-statement machinery cost
several times the database's own work, so these statements are compiled once per dialect from the models'
tables (the same columns and the same type conversions as the ORM path) and run on the DBAPI connection of
the session's transaction: the caller's commit, and a test's rollback, cover them as they cover everything
else. Unlike `session.execute` they do not autoflush: a caller flushes before one of them must see pending
ORM changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Generic, TypeVar, cast

from sqlalchemy import ClauseElement, Dialect, Insert, exc
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

T = TypeVar("T")


class PlainStatement:
    """A Core statement compiled once for one dialect, run on a DBAPI cursor with the types' conversions."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, columns: Sequence[str] = ()) -> None:
        if isinstance(statement, Insert) and not statement.exported_columns:
            statement = statement.inline()  # no RETURNING of the new id that nobody reads (PostgreSQL)
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
            for column in getattr(statement, "exported_columns", ())  # a query's columns, or RETURNING's
        ]

    def _parameters(self, given: Mapping[str, Any]) -> Any:
        values = {**self._defaults, **given}
        converted = {
            name: convert(value) if (convert := self._convert.get(name)) else value
            for name, value in values.items()
        }
        return converted if self._order is None else tuple(converted[name] for name in self._order)

    def _execute(self, session: Session, values: Mapping[str, Any]) -> Any:
        return self._run(session, lambda cursor: cursor.execute(self.sql, self._parameters(values)))

    def _run(self, session: Session, run: Callable[[Any], object]) -> Any:
        """`run(cursor)` on the transaction's connection; a driver error is raised as SQLAlchemy raises it,
        and a connection found dead is invalidated, as SQLAlchemy's own execution does."""
        connection = session.connection()
        dialect = connection.dialect
        cursor = connection.connection.cursor()
        try:
            run(cursor)
        except dialect.loaded_dbapi.Error as error:
            cursor.close()
            dead = dialect.is_disconnect(error, connection.connection.dbapi_connection, cursor)
            if dead:
                connection.invalidate(error)
            raise exc.DBAPIError.instance(
                self.sql,
                None,
                error,
                dialect.loaded_dbapi.Error,
                connection_invalidated=dead,
                dialect=dialect,
            ) from error
        return cursor

    def changed(self, session: Session, **values: Any) -> int:
        """Run a write; the number of rows it changed."""
        cursor = self._execute(session, values)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

    def many(self, session: Session, rows: Iterable[Mapping[str, Any]]) -> None:
        """Run a write once for each of `rows`, in order."""
        parameters = [self._parameters(row) for row in rows]
        self._run(session, lambda cursor: cursor.executemany(self.sql, parameters)).close()

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


class PerDialect(Generic[T]):
    """A set of statements, built for each database the process talks to the first time it is asked."""

    def __init__(self, build: Callable[[Dialect], T]) -> None:
        self._build = build
        self._built: dict[tuple[str, str, str], T] = {}

    def __call__(self, session: Session) -> T:
        dialect = session.get_bind().dialect
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        built = self._built.get(key)
        if built is None:
            built = self._built[key] = self._build(dialect)
        return built
