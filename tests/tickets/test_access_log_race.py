"""Writers appending at the same moment, each in its own transaction and thread, never fork the chain.

These commit (real concurrency needs real transactions), and committed rows of the access log cannot be
deleted, so each run gets a database of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tests.conftest import DATABASES, _migrate, _postgres_database
from tickets import access_chain, access_log
from tickets.access_log import AccessLogEntry
from tickets.db import make_engine

WRITERS = 12


@pytest.fixture
def own_engine(tmp_path) -> Iterator[Engine]:
    if "postgresql" not in DATABASES:
        pytest.skip("PostgreSQL is not tested in this run")
    for url in _postgres_database():
        _migrate(url)
        engine = make_engine(url, pool_size=WRITERS)
        yield engine
        engine.dispose()


def test_concurrent_appends_make_one_unbroken_chain(own_engine: Engine) -> None:
    start = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with Session(own_engine) as session, session.begin():
                start.wait(timeout=30)
                access_log.record(session, actor=None, action="view", subjects=[f"0000-{number:04d}"])
        except BaseException as error:  # reported below
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    with Session(own_engine) as session:
        rows = session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)).all()
        assert [r.id for r in rows] == list(range(1, WRITERS + 1))
        assert len({r.prev_hash for r in rows}) == WRITERS  # no two rows chained onto the same one
        assert access_chain.verify(session).intact
