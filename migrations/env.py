"""Alembic environment: the models' metadata, and the connection handed in by `hotline db upgrade`."""

from __future__ import annotations

import os

from alembic import context

import tickets.access_log  # noqa: F401  (the access log's tables)
import tickets.models  # noqa: F401  (registers every table on the metadata)
from tickets.db import Base, make_engine
from tickets.migrate import migration_connection

config = context.config
target_metadata = Base.metadata


def _url() -> str:
    from ivr.config import ROOT

    return os.environ.get("DATABASE_URL") or f"sqlite:///{ROOT / 'var' / 'hotline.sqlite3'}"


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    with migration_connection(engine) as connection:
        _run(connection)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
