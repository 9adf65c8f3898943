"""/healthz tells a load balancer whether the database takes writes and whether a scheduler is alive,
and tells the public nothing more."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.orm import Session

from ivr.app import create_app
from scheduler import heartbeat
from tests.conftest import POSTGRES_ADMIN_URL, _migrate, _postgres_database, test_config
from tickets.clock import FrozenClock
from tickets.db import db


def test_a_beating_scheduler_is_ok_and_a_silent_one_degraded(
    client: Any, session: Session, clock: FrozenClock
) -> None:
    assert client.get("/healthz").json == {"status": "degraded", "database": "ok", "scheduler": "stopped"}
    heartbeat.beat(session, "host-a:4242", clock() - timedelta(hours=1))
    session.commit()  # to the test's savepoint: /healthz rolls its own session back
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "scheduler": "ok"}
    clock.advance(seconds=heartbeat.STALE_AFTER.total_seconds() + 1)
    response = client.get("/healthz")
    assert response.status_code == 200  # the web still takes calls: keep it behind the load balancer
    assert response.json["status"] == "degraded" and response.json["scheduler"] == "stopped"


def test_where_the_scheduler_runs_is_not_public(client: Any, session: Session, clock: FrozenClock) -> None:
    heartbeat.beat(session, "host-a:4242", clock())
    session.commit()
    page = client.get("/healthz").get_data(as_text=True)
    for detail in ("host-a", "4242", socket.gethostname(), "pid", "processes"):
        assert detail not in page


def test_an_unreachable_database_answers_503() -> None:
    app = create_app(test_config("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "error", "database": "unavailable"}  # no driver error for the public


@pytest.fixture
def own_database(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of the run's kind that this test alone uses, so it may make it read-only."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'own.sqlite3'}"
        _migrate(url)
        yield url
        return
    for url in _postgres_database():
        _migrate(url)
        yield url


def _make_read_only(app: Flask, url: str) -> None:
    """The next connections of `app` to `url` refuse writes and still answer SELECT 1."""
    engine = db.of(app).engine
    if url.startswith("sqlite"):
        event.listen(engine, "connect", lambda dbapi, _record: dbapi.execute("PRAGMA query_only = ON"))
    else:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = make_url(url).database
            connection.execute(text(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on'))
        admin.dispose()
    engine.dispose()  # the pooled connections were opened writable


def test_a_database_that_refuses_writes_answers_503(own_database: str) -> None:
    app = create_app(test_config(own_database))
    try:
        assert app.test_client().get("/healthz").status_code == 200
        _make_read_only(app, own_database)
        if not own_database.startswith("sqlite"):  # (SQLite: every transaction here begins IMMEDIATE)
            with app.app_context():
                assert db.session.execute(text("SELECT 1")).scalar() == 1  # "SELECT 1" alone said "ok"
                db.session.remove()
        response = app.test_client().get("/healthz")
        assert response.status_code == 503
        assert response.json == {"status": "error", "database": "unavailable"}
    finally:
        db.of(app).engine.dispose()
