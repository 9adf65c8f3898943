"""Migration 0002 on a database already in use: people, their fields and API tokens all come through.

On SQLite a migration that copies the users table would drop the old one, and with foreign keys on that
deletes every token and field row hanging off it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.conftest import DATABASES, _postgres_database
from tickets.db import make_engine
from tickets.migrate import upgrade


@pytest.fixture(params=DATABASES)
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
    else:
        yield from _postgres_database()


def test_users_keep_their_tokens_and_fields_through_0002(empty_database: str) -> None:
    engine = make_engine(empty_database)
    try:
        upgrade(engine, "0001")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (id, username, display_name, role, active, on_duty, failed_logins,"
                    " created_at) VALUES (1, 'it-kim', 'Kim', 'consultant', true, true, 3, :now)"
                ),
                {"now": "2026-11-27 00:30:00"},
            )
            connection.execute(text("INSERT INTO user_fields (user_id, field) VALUES (1, 'it')"))
            connection.execute(
                text("INSERT INTO api_tokens (user_id, token_hash, created_at) VALUES (1, 'abc', :now)"),
                {"now": "2026-11-27 00:30:00"},
            )
        upgrade(engine)
        with engine.connect() as connection:
            assert connection.execute(text("SELECT username, session_version FROM users")).all() == [
                ("it-kim", 0)
            ]
            assert connection.execute(text("SELECT field FROM user_fields")).scalars().all() == ["it"]
            assert connection.execute(text("SELECT token_hash FROM api_tokens")).scalars().all() == ["abc"]
    finally:
        engine.dispose()
