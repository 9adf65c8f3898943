"""Pooled PostgreSQL connections: one the server dropped while it sat in the pool is replaced, not handed
out (make_engine's pool_pre_ping), however short a time ago it was used."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import QueuePool

from tests.conftest import DATABASES
from tickets.db import make_engine

# Only a server can drop a connection: these run on PostgreSQL (SQLite's file has no connection to lose).
pytestmark = pytest.mark.parametrize(
    "database_url", [name for name in DATABASES if name == "postgresql"], indirect=True
)


@pytest.fixture
def pooled(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url, poolclass=QueuePool, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


def _drop_the_pooled_connection(engine: Engine, admin_url: str) -> int:
    """Return one connection to the pool, then have the server end it behind the pool's back."""
    with engine.connect() as connection:
        pid = int(connection.execute(text("SELECT pg_backend_pid()")).scalar_one())
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": pid})
    admin.dispose()
    return pid


def test_a_connection_dropped_a_moment_after_use_is_replaced(pooled: Engine, database_url: str) -> None:
    dropped = _drop_the_pooled_connection(pooled, database_url)
    with pooled.connect() as connection:
        assert connection.execute(text("SELECT pg_backend_pid()")).scalar_one() != dropped
