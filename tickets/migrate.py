"""Run the Alembic migrations on an engine: `hotline db upgrade`, the tests and the benchmarks use this."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine

ROOT = Path(__file__).resolve().parent.parent


def alembic_config() -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("script_location", str(ROOT / "migrations"))
    return config


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection for migrating, in its transaction.

    SQLite alters a table by copying it (Alembic's batch mode): with foreign keys on, dropping the old copy
    cascades to the rows that point at it, and every user would lose their fields and API tokens. As
    Alembic's documentation advises, foreign keys are off while migrating (the pragma cannot change inside
    a transaction), and the connection is discarded afterwards rather than pooled with them off.
    """
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            connection.connection.dbapi_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        try:
            with connection.begin():
                yield connection
        finally:
            if sqlite:
                connection.invalidate()


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = alembic_config()
    with migration_connection(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
