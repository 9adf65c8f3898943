"""Benchmark: GET /api/v1/queue and GET /api/v1/tickets?overdue=true as tickets pile up; claims per second.

    .venv/bin/python bench/callback_queue.py  # 10,000 then 1,000,000 tickets, both databases
    .venv/bin/python bench/callback_queue.py --sizes 2000,20000  # quick, while developing

The backlog of open tickets stays the same (3,000, a tenth overdue) while history grows, as at a real
hotline: the two requests should barely slow down (indexes, no full scans). Requests go through the whole app
(bearer auth, query, JSON) with Flask's test client; the database is a SQLite file in /tmp or a scratch
PostgreSQL database on 127.0.0.1 (HOTLINE_BENCH_POSTGRES, default the local server), dropped at the end.
Then eight threads, each a consultant with its own connection, race to claim 2,000 pool tickets on PostgreSQL.
"""

# ruff: noqa: E402  (sys.path is fixed before the imports)
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project's packages

import argparse
import os
import statistics
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Engine, create_engine, insert, make_url, select, text
from sqlalchemy.orm import Session

from ivr.app import create_app
from ivr.config import ROOT, load_config
from tickets import accounts, queue, sla
from tickets.db import db, make_engine
from tickets.migrate import upgrade
from tickets.models import Ticket, User

POSTGRES = os.environ.get("HOTLINE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
FIELDS = ("it", "machinery", "electronics", "bio", "chemistry", "energy")
OPEN_BACKLOG = 3000
REQUESTS = 200
NOW = datetime.now(UTC)


def ticket_rows(start: int, count: int, consultants: list[int]) -> list[dict[str, Any]]:
    """History (closed) first, so the open backlog is the newest OPEN_BACKLOG tickets at every size."""
    rows = []
    for i in range(start, start + count):
        created = NOW - timedelta(minutes=(10_000_000 - i))
        rows.append(
            {
                "reference": f"{i // 10000:04d}-{i % 10000:04d}",
                "field": FIELDS[i % len(FIELDS)],
                "language": "ko",
                "status": "closed",
                "incomplete": False,
                "created_at": created,
                "updated_at": created,
                "paused_seconds": 0,
                "escalation_level": 0,
                "sla_round": 0,
                "callback_number": f"+8210{i % 100_000_000:08d}",
                "sla_due_at": created + timedelta(days=3),
                "assignee_id": consultants[i % len(consultants)],
            }
        )
    return rows


def bulk_insert(engine: Engine, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as connection:
        for chunk in range(0, len(rows), 20_000):
            connection.execute(insert(Ticket.__table__), rows[chunk : chunk + 20_000])


def open_backlog(engine: Engine, consultants: list[int]) -> None:
    """Make the newest tickets the open backlog: assigned, due within three days, a tenth overdue."""
    with engine.begin() as connection:
        newest = connection.execute(
            select(Ticket.id).order_by(Ticket.id.desc()).limit(OPEN_BACKLOG)
        ).scalars().all()  # fmt: skip
        connection.execute(text("UPDATE tickets SET status = 'closed' WHERE status <> 'closed'"))
        for n, ticket_id in enumerate(newest):
            due = NOW - timedelta(hours=n % 50 + 1) if n % 10 == 0 else NOW + timedelta(hours=n % 70 + 1)
            connection.execute(
                text("UPDATE tickets SET status = :s, sla_due_at = :d, assignee_id = :a WHERE id = :id"),
                {"s": ("assigned", "in_progress", "waiting")[n % 3], "d": due,
                 "a": consultants[n % len(consultants)], "id": ticket_id},
            )  # fmt: skip
        connection.execute(text("ANALYZE"))


def timed(client: Any, path: str, token: str) -> tuple[float, float]:
    samples = []
    headers = {"Authorization": f"Bearer {token}"}
    for _ in range(10):
        client.get(path, headers=headers)  # warm up
    for _ in range(REQUESTS):
        began = time.perf_counter()
        response = client.get(path, headers=headers)
        samples.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, response.get_data(as_text=True)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.99) - 1]


def scratch_database(kind: str) -> tuple[str, Any]:
    if kind == "sqlite":
        path = Path(tempfile.mkdtemp()) / "bench.sqlite3"
        return f"sqlite:///{path}", lambda: path.unlink(missing_ok=True)
    admin = create_engine(POSTGRES, isolation_level="AUTOCOMMIT")
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(POSTGRES).set(database=name).render_as_string(hide_password=False), drop


def bench_reads(kind: str, sizes: list[int]) -> None:
    url, drop = scratch_database(kind)
    try:
        engine = make_engine(url)
        upgrade(engine)
        config = load_config(ROOT / "config.yaml", environ={"DATABASE_URL": url, "SECRET_KEY": "bench"})
        app = create_app(config)
        with app.app_context(), db.transaction() as session:
            people = [
                accounts.add_user(session, f"{FIELDS[i % 6]}-{i}", "consultant", fields=[FIELDS[i % 6]])
                for i in range(60)
            ]
            boss = accounts.add_user(session, "boss", "supervisor", fields=list(FIELDS))
            consultant_token = accounts.issue_token(session, people[0])
            boss_token = accounts.issue_token(session, boss)
            consultant_ids = [p.id for p in people]
        client = app.test_client()
        have, results = 0, {}
        for size in sizes:
            began = time.perf_counter()
            bulk_insert(engine, ticket_rows(have, size - have, consultant_ids))
            have = size
            open_backlog(engine, consultant_ids)
            loaded = time.perf_counter() - began
            queue_p = timed(client, "/api/v1/queue", consultant_token)
            overdue_p = timed(client, "/api/v1/tickets?overdue=true", boss_token)
            results[size] = (queue_p, overdue_p)
            print(
                f"{kind:<10} {size:>9,} tickets (loaded in {loaded:5.1f}s)  "
                f"GET /queue p50 {queue_p[0]:6.2f} ms p99 {queue_p[1]:6.2f} ms   "
                f"GET /tickets?overdue=true p50 {overdue_p[0]:6.2f} ms p99 {overdue_p[1]:6.2f} ms",
                flush=True,
            )
        small, large = results[sizes[0]], results[sizes[-1]]
        print(
            f"{kind:<10} growth {sizes[0]:,} -> {sizes[-1]:,}: /queue p50 x{large[0][0] / small[0][0]:.2f}, "
            f"overdue p50 x{large[1][0] / small[1][0]:.2f}",
            flush=True,
        )
        engine.dispose()
        db.of(app).engine.dispose()
    finally:
        drop()


def bench_claims(pool_size: int = 2000, workers: int = 8) -> None:
    url, drop = scratch_database("postgresql")
    try:
        engine = make_engine(url, pool_size=workers + 2)
        upgrade(engine)
        sla_app = Flask(__name__)  # the claims stamp deadlines by the config's SLA, found in its context
        sla_app.config["HOTLINE"] = load_config(ROOT / "config.yaml", environ={"DATABASE_URL": url})
        sla.init_app(sla_app)
        with Session(engine) as session, session.begin():
            users = [
                accounts.add_user(session, f"it-{i}", "consultant", fields=["it"]) for i in range(workers)
            ]
            user_ids = [u.id for u in users]
        rows = ticket_rows(0, pool_size, user_ids)
        for row in rows:
            row.update(status="new", assignee_id=None, field="it", sla_due_at=NOW + timedelta(days=3))
        bulk_insert(engine, rows)
        won = [0] * workers
        lost = [0] * workers
        barrier = threading.Barrier(workers)

        def consultant(n: int) -> None:
            # Each takes the pool's first ticket, as a queue sorted by deadline shows it; a lost race is a 409
            # and they take the next first one. Everyone aims at the same ticket: the worst case for claims.
            with sla_app.app_context(), Session(engine) as session:
                barrier.wait()
                while True:
                    with session.begin():
                        first = session.scalar(
                            select(Ticket.id).where(Ticket.status == "new").order_by(Ticket.id).limit(1)
                        )
                    if first is None:
                        return
                    try:
                        with session.begin():
                            ticket = session.get(Ticket, first, populate_existing=True)
                            queue.claim(session, ticket, session.get(User, user_ids[n]), now=NOW)
                        won[n] += 1
                    except queue.ClaimConflict:
                        lost[n] += 1

        threads = [threading.Thread(target=consultant, args=(n,)) for n in range(workers)]
        began = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - began
        assert sum(won) == pool_size, (sum(won), pool_size)
        print(
            f"postgresql claims: {workers} consultants racing over {pool_size:,} pool tickets: "
            f"{sum(won) / elapsed:,.0f} successful claims/s ({sum(lost):,} lost races answered 409), "
            f"each ticket claimed exactly once",
            flush=True,
        )
        engine.dispose()
    finally:
        drop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="10000,1000000", help="ticket counts, ascending")
    parser.add_argument("--databases", default="postgresql,sqlite")
    parser.add_argument("--claims", type=int, default=2000, help="pool tickets for the claim race (0: skip)")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    for kind in args.databases.split(","):
        bench_reads(kind, sizes)
    if args.claims and "postgresql" in args.databases:
        bench_claims(args.claims)


if __name__ == "__main__":
    main()
