"""Pooled PostgreSQL connections: one the server dropped while it sat idle is replaced, not handed out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.pool import QueuePool

from tests.conftest import DATABASES
from tickets.db import ping_after_idle

# Only a server can drop a connection: these run on PostgreSQL (SQLite's file has no connection to lose).
pytestmark = pytest.mark.parametrize(
    "database_url", [name for name in DATABASES if name == "postgresql"], indirect=True
)


@pytest.fixture
def postgresql_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def pooled(postgresql_url: str) -> Iterator[Engine]:
    engine = create_engine(postgresql_url, poolclass=QueuePool, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _drop_the_pooled_connection(engine: Engine, admin_url: str) -> int:
    """Return one connection to the pool, then have the server end it behind the pool's back."""
    with engine.connect() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    admin.dispose()
    return pid


def test_a_connection_dropped_while_idle_is_replaced(pooled: Engine, postgresql_url: str) -> None:
    ping_after_idle(pooled, idle_seconds=0)
    dropped = _drop_the_pooled_connection(pooled, postgresql_url)
    with pooled.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != dropped


def test_a_connection_used_a_moment_ago_is_not_pinged(pooled: Engine, postgresql_url: str) -> None:
    """The cheap side of the bargain, shown by its failure: within the idle time nothing checks."""
    ping_after_idle(pooled, idle_seconds=3600)
    _drop_the_pooled_connection(pooled, postgresql_url)
    with pytest.raises(OperationalError), pooled.connect() as connection:
        connection.execute(text("SELECT 1"))
