"""`hotline backup` while calls are filed, and `hotline restore` into a fresh database, on both databases."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import create_engine, make_url, select, text

from ivr import backup
from ivr.app import create_app
from ivr.cli import cli
from tests.conftest import DATABASES, POSTGRES_ADMIN_URL, test_config
from tickets import clock
from tickets.db import db, make_engine
from tickets.intake import open_ticket
from tickets.migrate import upgrade
from tickets.models import Ticket


@pytest.fixture(params=DATABASES)
def new_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], str]]:
    """Makes empty databases (no tables at all) of one kind, and drops them after the test."""
    made: list[str] = []

    def make() -> str:
        name = f"hotline_test_{uuid.uuid4().hex[:10]}"
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        made.append(name)
        return make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield make
    with admin.connect() as connection:
        for name in made:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def migrated(url: str) -> str:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@contextmanager
def hotline(url: str) -> Iterator[Flask]:
    """The app on `url`, as a command run against that database would have it."""
    app = create_app(test_config(url))
    with app.app_context():
        yield app
    db.of(app).engine.dispose()


def run(app: Flask, *args: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(cli, list(args))
    return result.exit_code, result.output


def file_call(app: Flask, number: int) -> str:
    """A caller's request, committed as a phone call's would be; returns its reference."""
    with db.transaction() as session:
        ticket = open_ticket(
            session,
            now=clock.now(),
            field="it",
            support_type="advice",
            language="ko",
            caller_number=f"+8210{number:08d}",
            callback_number=f"+8210{number:08d}",
        )
        return ticket.reference


def references(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return set(connection.scalars(select(Ticket.reference)))
    finally:
        engine.dispose()


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_backup_taken_while_calls_are_filed_restores_every_ticket_committed_before_it(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    source, target, archive = migrated(new_database()), new_database(), tmp_path / "hotline.backup"
    committed: list[str] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    with hotline(source) as app:

        def keep_filing_calls() -> None:
            try:
                with app.app_context():
                    while not stop.is_set():
                        committed.append(file_call(app, len(committed)))
            except BaseException as error:  # reported by the test below, not lost in the thread
                failures.append(error)

        caller = threading.Thread(target=keep_filing_calls)
        caller.start()
        try:
            wait_until(lambda: len(committed) >= 20)
            before = list(committed)
            status, output = run(app, "backup", str(archive))
            after = len(committed) + 5
            wait_until(lambda: len(committed) >= after)  # the calls went on
        finally:
            stop.set()
            caller.join()
        assert failures == []
        assert status == 0, output

    with hotline(target) as app:
        status, output = run(app, "restore", str(archive))
        assert status == 0, output

    restored = references(target)
    assert set(before) <= restored
    assert restored <= set(committed)  # no half-written ticket from a call in flight
    assert set(committed) - restored  # and the copy is of a moment, not of the end
    with hotline(target) as app:
        status, output = run(app, "check")
        assert "schema at head" in output


def test_restore_refuses_a_database_holding_data_unless_forced(
    new_database: Callable[[], str], tmp_path: Path
) -> None:
    source, target, archive = migrated(new_database()), migrated(new_database()), tmp_path / "hotline.backup"
    with hotline(source) as app:
        saved = file_call(app, 1)
        assert run(app, "backup", str(archive))[0] == 0
        status, output = run(app, "backup", str(archive))
        assert status == 1 and "exists already" in output
    with hotline(target) as app:
        # a migrated database without rows is as good as a fresh one
        status, output = run(app, "restore", str(archive))
        assert status == 0, output
        assert references(target) == {saved}
        newer = file_call(app, 2)

        status, output = run(app, "restore", str(archive))
        assert status == 1 and "--force" in output and "tickets" in output
        assert references(target) == {saved, newer}

        status, output = run(app, "restore", "--force", str(archive))
        assert status == 0, output
        assert references(target) == {saved}


def test_a_backup_is_restored_only_into_its_own_kind_of_database(tmp_path: Path) -> None:
    archive = tmp_path / "dump"
    archive.write_bytes(b"PGDMP\x01\x0e\x00")
    with pytest.raises(backup.BackupError, match="is a postgresql backup"):
        backup.restore(archive, f"sqlite:///{tmp_path / 'hotline.sqlite3'}")


def test_pg_tools_match_the_servers_major_version(tmp_path: Path) -> None:
    tools = {major: tmp_path / str(major) / "pg_dump" for major in (13, 15, 16, 17)}
    assert backup.postgres_tool("pg_dump", 15, tools) == backup.PostgresTool(tools[15])
    newer = backup.postgres_tool("pg_dump", 14, tools)
    assert newer.path == tools[15] and "no pg_dump 14 installed" in newer.note
    with pytest.raises(backup.BackupError, match="needs pg_dump 18 or newer"):
        backup.postgres_tool("pg_dump", 18, tools)
