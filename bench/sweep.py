"""One SLA sweep over a big table: does its cost follow what is due, or the size of the table?

For each backend (SQLite file, PostgreSQL on 127.0.0.1) a fresh database gets N tickets of which 10,000 are
due (breached an hour ago, level 1 to write), then one sweep runs and is timed. N is 100,000 and 1,000,000;
the ratio of the two sweep times should be about 1.

    .venv/bin/python bench/sweep.py [--small] [--only sqlite|postgresql]

--small divides every count by 10 (for a quick look). PostgreSQL comes from HOTLINE_BENCH_POSTGRES (default:
the local server as user postgres); each run creates and drops its own database.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages

from sqlalchemy import Engine, create_engine, make_url, text  # noqa: E402
from sqlalchemy.orm import Session, sessionmaker  # noqa: E402

from ivr.config import ROOT, load_config  # noqa: E402
from scheduler.sweep import AlertSettings, sweep  # noqa: E402
from tickets import accounts  # noqa: E402
from tickets.db import make_engine  # noqa: E402
from tickets.migrate import upgrade  # noqa: E402

POSTGRES = os.environ.get("HOTLINE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
COLUMNS = (
    "reference, field, language, status, incomplete, created_at, updated_at, paused_seconds, "
    "escalation_level, sla_round, sla_started_at, sla_due_at, next_escalation_at"
)


def rows(total: int, due: int) -> Iterator[tuple[object, ...]]:
    """`due` tickets breached an hour ago; the others came in over the last 47 hours (warning ahead)."""
    for i in range(total):
        if i < due:
            created = NOW - timedelta(hours=73)
            next_at = NOW - timedelta(hours=1)
        else:
            created = NOW - timedelta(seconds=(i * 7) % (47 * 3600))
            next_at = created + timedelta(hours=48)
        yield (
            f"{i // 10000:04d}-{i % 10000:04d}",
            "it",
            "ko",
            "new",
            False,
            created,
            created,
            0,
            0,
            0,
            created,
            created + timedelta(hours=72),
            next_at,
        )


def fill_sqlite(engine: Engine, total: int, due: int) -> None:
    placeholders = ", ".join("?" for _ in COLUMNS.split(","))
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("BEGIN")
        iso = lambda v: v.isoformat(sep=" ") if isinstance(v, datetime) else v  # noqa: E731
        cursor.executemany(
            f"INSERT INTO tickets ({COLUMNS}) VALUES ({placeholders})",
            (tuple(iso(v) for v in row) for row in rows(total, due)),
        )
        cursor.execute("COMMIT")
        cursor.execute("ANALYZE")
    finally:
        raw.close()


def fill_postgresql(engine: Engine, total: int, due: int) -> None:
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY tickets ({COLUMNS}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            for row in rows(total, due):
                copy.write_row(row)
        raw.commit()
        cursor.execute("ANALYZE tickets")
        raw.commit()
    finally:
        raw.close()


@contextmanager
def database(kind: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as folder:
            yield f"sqlite:///{folder}/bench.sqlite3"
        return
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(POSTGRES).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def one_sweep(kind: str, total: int, due: int) -> tuple[float, float, int]:
    with database(kind) as url:
        engine = make_engine(url)
        upgrade(engine)
        started = time.perf_counter()
        (fill_sqlite if kind == "sqlite" else fill_postgresql)(engine, total, due)
        filled = time.perf_counter() - started
        factory = sessionmaker(bind=engine, expire_on_commit=False)
        with factory.begin() as session:
            accounts.add_user(session, "boss", "supervisor", fields=["it"], phone="010-5555-0002")

        @contextmanager
        def transaction() -> Iterator[Session]:
            with factory.begin() as session:
                yield session

        config = load_config(ROOT / "config.yaml", environ={"DATABASE_URL": url})
        settings = AlertSettings.from_config(config)
        started = time.perf_counter()
        swept = sweep(transaction, settings, NOW)
        elapsed = time.perf_counter() - started
        engine.dispose()
        return filled, elapsed, len(swept)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", action="store_true", help="every count divided by 10")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    args = parser.parse_args()
    scale = 10 if args.small else 1
    due = 10_000 // scale
    sizes = (100_000 // scale, 1_000_000 // scale)
    for kind in (args.only,) if args.only else ("sqlite", "postgresql"):
        times = []
        for total in sizes:
            filled, elapsed, swept = one_sweep(kind, total, due)
            assert swept == due, f"swept {swept}, expected {due}"
            times.append(elapsed)
            print(
                f"{kind:<10} {total:>9,} tickets, {due:,} due: sweep {elapsed:6.2f} s "
                f"({due / elapsed:,.0f} escalations/s; filling took {filled:.1f} s)",
                flush=True,
            )
        print(f"{kind:<10} ratio {sizes[1]:,} / {sizes[0]:,} tickets: {times[1] / times[0]:.2f}", flush=True)


if __name__ == "__main__":
    main()
