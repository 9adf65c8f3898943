"""The migrations build the schema the models describe, on SQLite and PostgreSQL, and are safe to rerun."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from tickets.db import Base
from tickets.migrate import upgrade


def test_models_and_migrations_agree(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], f"models and migrations differ, run `make initial-migration`: {diff}"


def test_upgrade_twice_changes_nothing(engine: Engine) -> None:
    before = sorted(inspect(engine).get_table_names())
    upgrade(engine)
    upgrade(engine)
    assert sorted(inspect(engine).get_table_names()) == before
    assert {"calls", "tickets", "users", "escalations", "outbox", "ticket_events"} <= set(before)
