"""Exports and report pages never stop the hotline: they hold no write lock and leave no transaction open.

These run the app on its own engine over a database of their own (a file on SQLite), as in production:
the tests' usual rolled-back connection is one shared transaction and would hide exactly these faults.
Each request gets its own app context, so the request's session ends before a streamed body is read.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, make_url, select, text
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.signature import signing_token
from tests.conftest import DATABASES, POSTGRES_ADMIN_URL, _migrate, _postgres_database, test_config
from tests.supervisor import report_fixture as fx
from tickets import accounts, auth
from tickets.clock import FrozenClock, now
from tickets.db import db
from tickets.models import User

EXPORT = "/supervisor/export/tickets.csv?first=2026-10-01&last=2026-11-27&reason=test"
# Seconds. A read that waited for the call's write lock would wait it out (the lock is held until the
# block ends) or its 60 s budget; a webhook held up would answer with the apology, not the menu. The bound
# is loose because test machines are shared: it tells "at once" from "waited", not fast from slow.
AT_ONCE = 4.0


@pytest.fixture(params=DATABASES)
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[str]:
    """A migrated database for this test alone: what the app commits here is thrown away with it."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
        _migrate(url)
        yield url
    else:
        for url in _postgres_database():
            _migrate(url)
            yield url


@pytest.fixture
def served(database: str, clock: FrozenClock) -> Iterator[Flask]:
    """The app on its real pooled engine, with a month and a half of tickets and a supervisor."""
    clock.move_to(fx.NOW)
    app = create_app(test_config(database))
    with app.app_context(), db.transaction() as session:
        accounts.add_user(session, "boss", "supervisor", display_name="감독")
        fx.write(session, fx.make_specs())
    yield app
    db.of(app).engine.dispose()


def _supervisor_client(app: Flask) -> Any:
    client = app.test_client()
    with app.app_context(), db.reading() as session:
        boss = session.scalars(select(User).where(User.username == "boss")).one()
        login = auth.session_for(boss, now())
    with client.session_transaction() as cookie:
        cookie.update(login)
    return client


def _call_answered_in(app: Flask, call_number: int) -> float:
    """A signed greeting webhook of a new call: seconds until the caller hears the menu."""
    url = "http://localhost/ivr/voice"
    form = {"CallSid": f"CA{call_number:032d}", "From": "+821012345678", "To": "+827040001379"}
    signature = RequestValidator(signing_token(app.config["HOTLINE"])).compute_signature(url, form)
    started = time.monotonic()
    answer = app.test_client().post(url, data=form, headers={"X-Twilio-Signature": signature})
    elapsed = time.monotonic() - started
    assert answer.status_code == 200 and b"<Gather" in answer.data, answer.data
    return elapsed


def _open_transactions(database: str) -> int:
    """Transactions left open on the database by anyone: PostgreSQL's idle-in-transaction sessions; on
    SQLite, 1 when another connection cannot take the write lock at once."""
    url = make_url(database)
    if url.get_backend_name() == "sqlite":
        other = sqlite3.connect(str(url.database), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")
            other.execute("ROLLBACK")
            return 0
        except sqlite3.OperationalError:  # database is locked
            return 1
        finally:
            other.close()
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            return int(
                connection.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = :name AND state LIKE 'idle in transaction%'"
                    ),
                    {"name": url.database},
                ).scalar_one()
            )
    finally:
        admin.dispose()


def test_after_a_full_export_calls_are_answered_at_once(served: Flask, database: str) -> None:
    export = _supervisor_client(served).get(EXPORT)
    assert export.status_code == 200
    assert len(export.get_data().splitlines()) > 100  # the whole file, every ticket of the period
    assert _open_transactions(database) == 0
    assert _call_answered_in(served, 1) < AT_ONCE
    assert db.of(served).engine.pool.checkedout() == 0  # type: ignore[attr-defined]


def test_a_download_in_progress_holds_up_no_call_and_one_abandoned_leaves_nothing_open(
    served: Flask, database: str
) -> None:
    export = _supervisor_client(served).get(EXPORT, buffered=False)
    lines = iter(export.response)
    for _ in range(5):  # a slow client: the header and a few tickets so far
        next(lines)
    assert _call_answered_in(served, 2) < AT_ONCE
    export.close()  # the supervisor cancels the download
    assert _open_transactions(database) == 0
    assert _call_answered_in(served, 3) < AT_ONCE
    assert db.of(served).engine.pool.checkedout() == 0  # type: ignore[attr-defined]


PAGES = (
    "/supervisor/",
    "/supervisor/live.json?fragments=1",
    "/supervisor/reports",
    "/supervisor/reports.json",
    "/supervisor/export/monthly.csv?reason=test",
    EXPORT,
)


@contextmanager
def _a_call_being_saved(database: str, for_seconds: float | None = None) -> Iterator[None]:
    """Another connection in the middle of a write, as a webhook saving a call is: on SQLite it holds the
    one write lock; on PostgreSQL it holds a row lock."""
    url = make_url(database)
    if url.get_backend_name() == "sqlite":
        writer = sqlite3.connect(str(url.database), timeout=0, isolation_level=None, check_same_thread=False)
        writer.execute("BEGIN IMMEDIATE")
        done = threading.Timer(for_seconds, writer.execute, ("ROLLBACK",)) if for_seconds else None
        if done is not None:
            done.start()
        try:
            yield
        finally:
            if done is not None:
                done.join()
            else:
                writer.execute("ROLLBACK")
            writer.close()
        return
    engine = create_engine(database)
    try:
        with engine.connect() as connection:
            connection.execute(text("UPDATE users SET display_name = display_name WHERE username = 'boss'"))
            yield
            connection.rollback()
    finally:
        engine.dispose()


@pytest.mark.parametrize("path", PAGES)
def test_pages_and_exports_are_served_while_a_call_is_being_saved(
    served: Flask, database: str, path: str
) -> None:
    """Reads wait for no write lock and take none; on PostgreSQL their transactions are read-only, so a
    page that wrote would fail here."""
    client = _supervisor_client(served)
    if "/export/" in path and make_url(database).get_backend_name() == "sqlite":
        # A download first commits its access-log row (tickets.downloads), and SQLite has one write lock:
        # the export waits for the call's write, which takes milliseconds, and then starts at once.
        with _a_call_being_saved(database, for_seconds=0.3):
            started = time.monotonic()
            page = client.get(path)
            assert page.status_code == 200 and len(page.get_data()) > 0
            assert time.monotonic() - started < AT_ONCE
        assert _open_transactions(database) == 0
        return
    with _a_call_being_saved(database):
        started = time.monotonic()
        page = client.get(path)
        assert page.status_code == 200
        assert len(page.get_data()) > 0
        assert time.monotonic() - started < AT_ONCE
    assert _open_transactions(database) == 0
