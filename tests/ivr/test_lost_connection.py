"""A webhook whose PostgreSQL connection dies (a restart, a failover) is answered as usual, so a callback
Twilio will not repeat is not lost and a caller hears the menu, not the apology: a connection that died in
the pool is replaced before use (pool_pre_ping), and one that dies during the work is replaced and the
work done again."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.signature import DEVELOPMENT_AUTH_TOKEN
from tests.conftest import DATABASES, test_config
from tickets.db import db

# Only a server can drop a connection: PostgreSQL only (SQLite's file has no connection to lose).
pytestmark = pytest.mark.parametrize(
    "database_url", [name for name in DATABASES if name == "postgresql"], indirect=True
)

CALL_SID = "CA" + "5" * 32
FORM = {"CallSid": CALL_SID, "From": "+821012345678", "To": "+827040001379", "CallStatus": "ringing"}


@pytest.fixture
def served(database_url: str) -> Iterator[Flask]:
    """The app on its own pooled engine (not the tests' rolled-back connection): what it writes commits,
    so it is removed afterwards."""
    app = create_app(test_config(database_url))
    with app.app_context():
        yield app
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM calls WHERE call_sid = :sid"), {"sid": CALL_SID})
        db.engine.dispose()


def _terminate(admin_url: str, pid: int) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    admin.dispose()


def _greet(app: Flask) -> Any:
    url = "http://localhost/ivr/voice"
    signature = RequestValidator(DEVELOPMENT_AUTH_TOKEN).compute_signature(url, FORM)
    return app.test_client().post(url, data=FORM, headers={"X-Twilio-Signature": signature})


def _turn() -> int | None:
    with db.engine.connect() as connection:
        turn = connection.execute(text("SELECT turn FROM calls WHERE call_sid = :s"), {"s": CALL_SID})
        return turn.scalar()


def test_a_greeting_after_the_pooled_connection_died_still_greets(served: Flask, database_url: str) -> None:
    assert served.test_client().get("/healthz").status_code == 200
    with db.engine.connect() as connection:  # the app's one pooled connection, used a moment ago
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    _terminate(database_url, pid)
    answer = _greet(served)
    assert answer.status_code == 200 and b"<Gather" in answer.data, answer.data
    assert _turn() == 1


def test_a_greeting_whose_connection_dies_midway_is_done_again(
    served: Flask, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    killed: list[int] = []

    @event.listens_for(db.engine, "before_cursor_execute")
    def _die_at_the_call_row(connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if not killed and "calls" in statement:  # the webhook's first look at its call row
            killed.append(connection.connection.dbapi_connection.info.backend_pid)
            _terminate(database_url, killed[0])

    answer = _greet(served)
    assert killed and answer.status_code == 200 and b"<Gather" in answer.data, answer.data
    assert "connection was lost" in caplog.text
    assert _turn() == 1
