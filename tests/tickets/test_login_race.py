"""Logins from real threads, each in its own committed transaction, on SQLite and PostgreSQL.

Parallel guesses must not all slip under the limit, and the slow password hash must not hold the database
while it runs (on SQLite every transaction holds the one write lock, and webhooks waited seconds behind
logins). These tests commit, so they use their own sessions and delete what they made.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.orm import Session

from tickets import accounts, auth
from tickets.models import LoginThrottle, User
from tickets.ticket_config import LoginConfig

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
GUESSES = 40
LIMITS = LoginConfig()


@pytest.fixture
def username(engine: Engine) -> Iterator[str]:
    """A user of this test's own, with the password "hotline1379"; removed afterwards with its counts."""
    name = f"race-{uuid.uuid4().hex[:8]}"
    with Session(engine) as session, session.begin():
        accounts.add_user(session, name, "consultant", password="hotline1379")
    yield name
    with Session(engine) as session, session.begin():
        session.execute(delete(User).where(User.username == name))
        session.execute(delete(LoginThrottle).where(LoginThrottle.address.startswith(name)))


def _try_at_once(engine: Engine, username: str, address: str, passwords: list[str]) -> Counter[str]:
    """One thread per password, all at the same moment; how each attempt ended."""
    start = threading.Barrier(len(passwords))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def guess(password: str) -> None:
        try:
            with Session(engine) as session:
                start.wait(timeout=30)
                auth.authenticate(session, username, password, NOW, address=address, config=LIMITS)
            outcome = "in"
        except auth.LoginLocked:
            outcome = "locked"
        except auth.LoginError:
            outcome = "wrong"
        except BaseException as error:  # noqa: BLE001 - reported by the test
            outcome = repr(error)
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=guess, args=(p,)) for p in passwords]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_parallel_guesses_check_no_more_passwords_than_the_limit(engine: Engine, username: str) -> None:
    limit = LIMITS.failures_per_username
    outcomes = _try_at_once(engine, username, f"{username}-guesser", [f"guess-{n}" for n in range(GUESSES)])
    assert outcomes == {"wrong": limit, "locked": GUESSES - limit}, outcomes


def test_the_password_is_checked_with_the_database_free(
    engine: Engine, username: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While the hash runs, another writer (a webhook) gets through at once."""
    probes: list[str] = []
    check = auth.check_password_hash

    def hash_while_probing(pwhash: str, password: str) -> bool:
        probes.append(_database_is_free(engine, username))
        return check(pwhash, password)

    monkeypatch.setattr(auth, "check_password_hash", hash_while_probing)
    for password in ("wrong-password", "hotline1379"):
        with Session(engine) as session:
            try:
                auth.authenticate(
                    session, username, password, NOW, address=f"{username}-office", config=LIMITS
                )
            except auth.LoginError:
                pass
    with Session(engine) as session:
        with pytest.raises(auth.LoginError):  # an unknown name costs a hash too
            auth.authenticate(
                session, f"{username}-nobody", "x", NOW, address=f"{username}-office", config=LIMITS
            )
    assert probes == ["free"] * 3


def _database_is_free(engine: Engine, username: str) -> str:
    """What another connection finds while a login checks a password: "free", or what is in the way."""
    with engine.connect() as other:
        if engine.dialect.name == "sqlite":
            driver = other.connection.dbapi_connection
            assert driver is not None
            driver.execute("PRAGMA busy_timeout=200")  # a webhook must not wait behind a hash
            try:
                with other.begin():
                    other.execute(update(User).where(User.username == username).values(on_duty=True))
            except Exception as error:  # noqa: BLE001 - "database is locked", reported by the test
                return f"a write waited and failed: {error}"
            finally:
                driver.execute("PRAGMA busy_timeout=30000")  # as make_engine set it, for the pool's next user
            return "free"
        idle: Any = other.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
        other.rollback()
        return "free" if idle == 0 else f"{idle} connection(s) idle in a transaction"
