"""Test fixtures: the schema built by the migrations, on SQLite and on PostgreSQL, each test rolled back.

PostgreSQL comes from HOTLINE_TEST_POSTGRES (default: the local server); each test run creates its own
database there and drops it at the end. HOTLINE_TEST_DATABASES names the backends. When it is unset, the
tests run on SQLite, and on PostgreSQL too when one answers (the header says which); CI sets it to
"sqlite,postgresql", and then an unreachable PostgreSQL fails the run instead of shrinking it.
"""

from __future__ import annotations

import os
import socket
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Connection, Engine, create_engine, make_url, text
from sqlalchemy.orm import Session

from ivr.app import create_app
from ivr.config import ROOT, HotlineConfig, load_config
from tests.url_builders import share_compiled_builders
from tickets import accounts
from tickets.clock import FrozenClock, frozen
from tickets.db import db, make_engine
from tickets.migrate import upgrade

# The live server and browser fixtures; registered here so their session-scoped parts exist once.
pytest_plugins = ["tests.live"]

POSTGRES_ADMIN_URL = os.environ.get(
    "HOTLINE_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres_answers() -> bool:
    url = make_url(POSTGRES_ADMIN_URL)
    try:
        socket.create_connection((url.host or "127.0.0.1", url.port or 5432), timeout=1).close()
    except OSError:
        return False
    return True


DATABASES = [
    name.strip()
    for name in os.environ.get(
        "HOTLINE_TEST_DATABASES", "sqlite,postgresql" if _postgres_answers() else "sqlite"
    ).split(",")
]


# HOTLINE_TEST_DAYS_AHEAD=395: the whole run with this process's wall clock moved that far ahead (CI does it
# once, to prove the suite passes on any date). time-machine moves the wall clock only; sleeps, timeouts
# and the monotonic clock stay real, which libfaketime could not promise.
DAYS_AHEAD = int(os.environ.get("HOTLINE_TEST_DAYS_AHEAD") or 0)


def pytest_configure(config: pytest.Config) -> None:
    config.add_cleanup(share_compiled_builders())
    if DAYS_AHEAD:
        import time_machine

        traveller = time_machine.travel(datetime.now(UTC) + timedelta(days=DAYS_AHEAD), tick=True)
        traveller.start()
        config.add_cleanup(traveller.stop)


def pytest_report_header() -> list[str]:
    header = [f"databases: {', '.join(DATABASES)}"]
    if DAYS_AHEAD:
        header.append(f"the wall clock is {DAYS_AHEAD} days ahead: {datetime.now(UTC):%Y-%m-%d}")
    if "postgresql" not in DATABASES:
        header.append(
            "PostgreSQL is not tested in this run (none answers, or HOTLINE_TEST_DATABASES says so)"
        )
    return header


# A Friday morning in Seoul (00:30 UTC = 09:30 KST), where every test's clock starts.
NOW = datetime(2026, 11, 27, 0, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def clock() -> Iterator[FrozenClock]:
    """The hotline's one clock, stopped at NOW: the suite passes on any date. Move it with `move_to`."""
    with frozen(NOW) as stopped:
        yield stopped


PRODUCTION_PASSWORD_HASH = accounts.PASSWORD_HASH_METHOD
# One pbkdf2 round: every test user would otherwise cost a real scrypt hash (about 130 ms).
CHEAP_PASSWORD_HASH = "pbkdf2:sha256:1"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes() -> Iterator[None]:
    """Cheap hashes for the whole session, shared fixtures (the live servers' demo users) included; the
    tests of hashing itself ask for `production_password_hash`."""
    accounts.PASSWORD_HASH_METHOD = CHEAP_PASSWORD_HASH
    yield
    accounts.PASSWORD_HASH_METHOD = PRODUCTION_PASSWORD_HASH


@pytest.fixture
def production_password_hash(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(accounts, "PASSWORD_HASH_METHOD", PRODUCTION_PASSWORD_HASH)
    return PRODUCTION_PASSWORD_HASH


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests talk to loopback only: a real Twilio, SMTP or webhook call would be a bug."""
    real_connect = socket.socket.connect

    def guarded(sock: socket.socket, address: Any) -> Any:
        host = address[0] if isinstance(address, tuple) else address
        if isinstance(host, str) and not (
            host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
        ):
            raise RuntimeError(f"test tried to reach {address!r}: only loopback is allowed")
        return real_connect(sock, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


def _postgres_database() -> Iterator[str]:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # pragma: no cover - depends on the machine
        pytest.fail(
            f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable ({error}); start it (.ci/run does) "
            "or set HOTLINE_TEST_DATABASES=sqlite",
            pytrace=False,
        )
    try:
        yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session", params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated, empty database of each kind, shared by the session (tests roll back their changes)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hotline.sqlite3'}"
        _migrate(url)
        yield url
    elif request.param == "postgresql":
        for url in _postgres_database():
            _migrate(url)
            yield url
    else:
        raise ValueError(f"unknown database {request.param!r} in HOTLINE_TEST_DATABASES")


def _migrate(url: str) -> None:
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


# Webhooks the database could not take go to a spool on disk: in tests, never the checkout's var/
_TEST_SPOOL = Path(tempfile.gettempdir()) / f"hotline-test-spool-{os.getpid()}"


def test_config(database_url: str = "sqlite://", **environ: str) -> HotlineConfig:
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "HOTLINE_SPOOL_DIR": str(_TEST_SPOOL),
        **environ,
    }
    return load_config(ROOT / "config.yaml", environ=env)


test_config.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


@pytest.fixture
def config(database_url: str) -> HotlineConfig:
    return test_config(database_url)


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """One connection in an outer transaction that is rolled back after the test."""
    with engine.connect() as connection:
        transaction = connection.begin()
        yield connection
        if transaction.is_active:
            transaction.rollback()


@pytest.fixture
def app(config: HotlineConfig, connection: Connection) -> Iterator[Flask]:
    app = create_app(config)
    app.config["TESTING"] = True
    db.of(app).bind_sessions(connection, join_transaction_mode="create_savepoint")
    with app.app_context():
        yield app
    db.of(app).session.remove()


@pytest.fixture
def session(app: Flask) -> Session:
    return db.session()


@pytest.fixture
def client(app: Flask) -> Any:
    return app.test_client()


@pytest.fixture
def tmp_config(tmp_path: Path) -> Path:
    """A copy of config.yaml to break in a test."""
    target = tmp_path / "config.yaml"
    target.write_text((ROOT / "config.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    return target
