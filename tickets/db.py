"""The one declarative base, its column types, and each app's database.

Every app owns its engine, reading engine and sessions (`AppDatabase`, made by `db.init_app` and kept in
`app.extensions`); `db` finds the current app's. Service functions use `db.session` and flush; the
request or job wrapper commits (see `Database.init_app`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, cast

from flask import Blueprint, Flask, current_app, has_app_context, request
from sqlalchemy import (
    JSON,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    exc,
    make_url,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, scoped_session, sessionmaker
from sqlalchemy.types import TypeDecorator

from tickets import clock

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on the way in and out, on SQLite (which drops the offset) as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: store timezone-aware times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        # PostgreSQL connections speak UTC (make_engine), so its values come back as they must leave.
        if value is None or value.tzinfo is UTC:
            return value
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


str16 = Annotated[str, 16]
str32 = Annotated[str, 32]
str64 = Annotated[str, 64]
str255 = Annotated[str, 255]
intpk = Annotated[int, mapped_column(primary_key=True)]
created = Annotated[datetime, mapped_column(default=clock.now)]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[Any]: JSON(),
        str16: String(16),
        str32: String(32),
        str64: String(64),
        str255: String(255),
    }


READING = "hotline_reading"
"""Execution option of the reading engine (`AppDatabase.reading_engine`): transactions that only read.

A write transaction on SQLite holds the one write lock from BEGIN IMMEDIATE until it ends, and every
webhook waits for it; a page, report or export kept open by a slow browser must not hold it.
"""


def make_reading_engine(engine: Engine) -> Engine:
    """The same engine and pool, its transactions read-only: a deferred BEGIN on SQLite, and on PostgreSQL
    READ ONLY (SQLAlchemy sets it on checkout and resets it when the connection goes back to the pool)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(**{READING: True, "postgresql_readonly": True})
    return engine.execution_options(**{READING: True})


@dataclass(frozen=True)
class DatabaseBudgets:
    """How long anything may wait on the database (config.yaml `database:`).

    A webhook must answer Twilio within seconds, with the apology if it must, so its statements, lock
    waits (PostgreSQL) and busy waits (SQLite) are cut short; console pages, reports, the scheduler and
    the CLI may take longer. `make_engine` and `webhook_budget` below are the one place that applies them.
    """

    connect_seconds: float = 2.0  # opening a connection (libpq counts whole seconds, at least 2)
    checkout_seconds: float = 2.0  # waiting for a free pooled connection
    webhook_seconds: float = 2.0  # one statement or lock wait of a webhook
    work_seconds: float = 60.0  # the same for everything else
    retry_unavailable_seconds: float = 2.0  # a webhook retries a refused or starting database this long
    answer_seconds: float = 5.0  # a webhook answers within this, whatever the database does


# The statement budget of the work in hand: webhooks run under the short one (webhook_budget).
_webhook_work: ContextVar[bool] = ContextVar("hotline_webhook_work", default=False)


@contextmanager
def webhook_budget() -> Iterator[None]:
    """Transactions begun inside run under the webhook's short statement and lock budget."""
    token = _webhook_work.set(True)
    try:
        yield
    finally:
        _webhook_work.reset(token)


def _milliseconds(seconds: float) -> int:
    return max(1, round(seconds * 1000))


# What PostgreSQL (or libpq) says when the server is down, restarting or not yet ready: the state a
# webhook retries for a moment (see ivr.webhooks), unlike an error in the work itself.
_UNAVAILABLE = (
    "connection refused",
    "the database system is starting up",
    "the database system is shutting down",
    "the database system is in recovery mode",
    "the database system is not yet accepting connections",
    "is the server running",
)


def database_unavailable(error: BaseException) -> bool:
    """True when `error` says the database refused a new connection (down, restarting, starting)."""
    if not isinstance(error, exc.OperationalError):
        return False
    message = str(error.orig).lower()
    return any(phrase in message for phrase in _UNAVAILABLE)


def make_engine(url: str, budgets: DatabaseBudgets | None = None, **kwargs: Any) -> Engine:
    """An engine tuned for its backend, with the waits of `budgets`.

    SQLite runs in WAL mode with a busy timeout, and every transaction but a reader's (see `READING`)
    starts with BEGIN IMMEDIATE:
    pysqlite's deferred transactions fail at once with "database is locked" when a reader tries to
    write after another writer committed, which would turn a claim race into errors instead of a wait.

    PostgreSQL connections open with the webhook's statement and lock timeouts (most requests are
    webhooks, which then pay no round trip for them); any other transaction raises its own at BEGIN.
    A pooled connection is tested before use (`pool_pre_ping`), so one the server dropped while it sat
    idle (a restart, a failover) is replaced rather than handed out.
    """
    budgets = budgets or DatabaseBudgets()
    kwargs.setdefault("pool_pre_ping", True)
    webhook_ms, work_ms = _milliseconds(budgets.webhook_seconds), _milliseconds(budgets.work_seconds)
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)  # var/ on a fresh checkout
            kwargs.setdefault("pool_timeout", budgets.checkout_seconds)  # in memory there is no queue
        engine = create_engine(url, connect_args={"timeout": budgets.work_seconds}, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # A reader's deferred BEGIN takes no lock: under WAL, writers go on while it reads.
            conn.exec_driver_sql(f"PRAGMA busy_timeout={webhook_ms if _webhook_work.get() else work_ms}")
            reading = conn.get_execution_options().get(READING)
            conn.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")

        return engine
    kwargs.setdefault("pool_timeout", budgets.checkout_seconds)
    connect_args = kwargs.pop("connect_args", {})
    if make_url(url).get_backend_name() == "postgresql":
        connect_args = {
            "connect_timeout": max(2, round(budgets.connect_seconds)),
            # TimeZone=UTC: psycopg then reads timestamptz values as UTC, which UTCDateTime passes on as they
            # are, rather than converting each to the server's zone and back. The instants are the same.
            "options": f"-c statement_timeout={webhook_ms} -c lock_timeout={webhook_ms} -c TimeZone=UTC",
            **connect_args,
        }
    engine = create_engine(url, connect_args=connect_args, **kwargs)
    if engine.dialect.name == "postgresql":

        @event.listens_for(engine, "begin")
        def _work_budget(conn: Any) -> None:
            if not _webhook_work.get():
                conn.exec_driver_sql(
                    "SELECT set_config('statement_timeout', %(ms)s, true), "
                    "set_config('lock_timeout', %(ms)s, true)",
                    {"ms": str(work_ms)},
                )

    return engine


def insert_unless_present(session: Session, model: type[Base], unique: str, **values: Any) -> bool:
    """`INSERT … ON CONFLICT (unique) DO NOTHING` in the session's transaction; False when a row with the
    same `unique` value exists, or a concurrent transaction has just written one (PostgreSQL waits for it
    to commit). A duplicate is no error, which on PostgreSQL would abort the transaction, and needs no
    savepoint. Pending changes are flushed first, as for any statement the session runs."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    table = cast(Table, model.__table__)
    statement = (
        insert(table)
        .values(**values)
        .on_conflict_do_nothing(index_elements=[unique])
        .returning(table.c[unique])  # a row when inserted (the drivers' rowcount is not told)
    )
    return session.execute(statement).first() is not None


EXTENSION = "hotline_db"  # app.extensions: the app's AppDatabase


class AppDatabase:
    """One app's database: its engine, the reading engine on the same pool, and its sessions.

    `Database.init_app` keeps it in `app.extensions[EXTENSION]`, so two apps in one process (a test's
    beside a live server's, a bench's beside its fixtures) each keep their own database.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.reading_engine: Engine | Connection = make_reading_engine(engine)
        self._factory = sessionmaker(bind=engine, expire_on_commit=False)
        self.session = scoped_session(self._factory)  # one per thread, removed with its app context

    def bind_sessions(self, connection: Connection, **session_options: Any) -> None:
        """Every session of this app, reading ones too, on `connection`: a test's, already in the
        transaction the test rolls back. The app's own pool is closed; the connection replaces it."""
        self.engine.dispose()
        self.session.remove()
        self.reading_engine = connection  # only this connection sees the test's rows
        self._factory.configure(bind=connection, **session_options)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """For jobs and CLI commands: commit on success, roll back on error, always release the session."""
        session = self.session()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            self.session.remove()

    def read_this_request(self) -> None:
        """This thread's session, unless it already has one (a test's, on its rolled-back connection),
        runs read transactions (see `READING`)."""
        if not self.session.registry.has():
            self.session.registry.set(self._factory(bind=self.reading_engine))

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session of its own for one short write, committed on leaving (rolled back on error).

        For a write a read-only request must still make, such as the access-log row of an export, which
        commits before the download starts whatever becomes of the request.
        """
        session = self._factory()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session of its own that only reads, closed on leaving whatever happens.

        For reads outside the request's session, which ends with the request: a streamed response runs
        after that, and its client may stop reading at any point.
        """
        session = self._factory(bind=self.reading_engine)
        try:
            yield session
        finally:
            session.close()


SessionScope = Callable[[], AbstractContextManager[Session]]


class Database:
    """`db`, the handle service code imports: each attribute is the current app's `AppDatabase`'s.

    `transaction`, `reading` and `writing` are that app's own methods, so one handed on (`sweep(
    db.transaction, …)`, a streamed export's `db.reading`) keeps to its app after the context ends.
    Outside an app context each raises; code that holds an app and no context uses `db.of(app)`.
    """

    def init_app(self, app: Flask) -> None:
        budgets = getattr(app.config.get("HOTLINE"), "database", None)
        database = app.extensions[EXTENSION] = AppDatabase(make_engine(app.config["DATABASE_URL"], budgets))

        @app.after_request
        def _commit(response: Any) -> Any:
            # One place commits: a request that answered with an error changes nothing. A request that
            # committed itself (the webhooks) or never used the database leaves nothing to end.
            if not database.session.registry.has() or not database.session().in_transaction():
                return response
            if response.status_code < 400:
                database.session.commit()
            else:
                database.session.rollback()
            return response

        @app.teardown_appcontext
        def _remove(_exc: BaseException | None) -> None:
            database.session.remove()

    @staticmethod
    def of(app: Flask) -> AppDatabase:
        database: AppDatabase | None = app.extensions.get(EXTENSION)
        if database is None:
            raise RuntimeError(f"app {app.name!r} has no database: db.init_app(app) was not called")
        return database

    def current(self) -> AppDatabase:
        if not has_app_context():
            raise RuntimeError(
                "no app context: the database belongs to an app; work inside `with app.app_context():`, "
                "or use db.of(app)"
            )
        return self.of(current_app)

    @property
    def engine(self) -> Engine:
        return self.current().engine

    @property
    def session(self) -> scoped_session[Session]:
        return self.current().session

    @property
    def transaction(self) -> SessionScope:
        return self.current().transaction

    @property
    def reading(self) -> SessionScope:
        return self.current().reading

    @property
    def writing(self) -> SessionScope:
        return self.current().writing

    def read_only_gets(self, blueprint: Blueprint) -> None:
        """The blueprint's GET and HEAD requests only read: each gets a session of read transactions."""

        @blueprint.before_request
        def _reading_session() -> None:
            if request.method in ("GET", "HEAD"):
                self.current().read_this_request()


db = Database()
