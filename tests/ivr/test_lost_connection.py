"""A webhook whose pooled PostgreSQL connection died a moment ago (a restart, a failover) is answered
as usual: the connection is replaced and the work done again, so a callback Twilio will not repeat is
not lost and a caller hears the menu, not the apology."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
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
        assert db.engine is not None
        with db.engine.begin() as connection:
            connection.execute(text("DELETE FROM calls WHERE call_sid = :sid"), {"sid": CALL_SID})
        db.engine.dispose()


def _kill_the_pooled_connection(app: Flask, admin_url: str) -> None:
    """The app's one pooled connection, used a moment ago (so not pinged), ended by the server."""
    assert app.test_client().get("/healthz").status_code == 200
    assert db.engine is not None
    with db.engine.connect() as connection:
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()


def test_a_greeting_on_a_connection_that_just_died_still_greets(
    served: Flask, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    _kill_the_pooled_connection(served, database_url)
    url = "http://localhost/ivr/voice"
    signature = RequestValidator(DEVELOPMENT_AUTH_TOKEN).compute_signature(url, FORM)
    answer = served.test_client().post(url, data=FORM, headers={"X-Twilio-Signature": signature})
    assert answer.status_code == 200 and b"<Gather" in answer.data, answer.data
    assert "connection was lost" in caplog.text
    assert db.engine is not None
    with db.engine.connect() as connection:
        turn = connection.execute(
            text("SELECT turn FROM calls WHERE call_sid = :s"), {"s": CALL_SID}
        ).scalar()
    assert turn == 1
