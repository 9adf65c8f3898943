# ruff: noqa: E402  (the path is fixed before the imports, see below)
"""The supervisor dashboard and its live reports at 250,000 and 1,000,000 tickets on PostgreSQL.

    .venv/bin/python bench/dashboard.py                    # both sizes
    .venv/bin/python bench/dashboard.py --sizes 250000     # one size
    HOTLINE_BENCH_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the default)

Builds a scratch database per size (migrated by Alembic, filled with COPY through psycopg: ten years of
history, nearly all of it closed, the last days still open, alerts, callback attempts, today's calls), runs
VACUUM ANALYZE as autovacuum would, then times the live dashboard through the whole Flask stack and each
report over the last 30 and the last 365 days (median of several runs). 250,000 tickets are ten busy years
of this hotline (about 25,000 a year); 1,000,000 is there to show the trend, without a target. Targets at
250,000: the live dashboard under 100 ms, a year's whole report and reports.json under 300 ms. The
database is dropped at the end. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))  # the project's packages, also without an editable install

import argparse
import os
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from sqlalchemy import create_engine, make_url, select, text

from ivr.app import create_app
from ivr.config import ROOT, load_config
from supervisor import overview, reports
from supervisor.reports import Period
from tickets import auth, clock
from tickets.db import db, make_engine
from tickets.migrate import upgrade
from tickets.models import User

ADMIN_URL = os.environ.get("HOTLINE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
YEARS = 10
FIELDS = ("it", "machinery", "electronics", "bio", "chemistry", "energy", "general")
SUPPORT_TYPES = ("equipment", "advice", "rnd", "information", "transfer", "staffing", "other", None)
OUTCOMES = ("reached", "reached", "reached", "no_answer", "busy", "voicemail")
RUNS = 5


def _psycopg_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def fill(url: str, count: int, seed: int = 1379) -> dict[str, int]:
    """COPY `count` tickets and what hangs off them; returns row counts."""
    rng = random.Random(seed)
    span = timedelta(days=365 * YEARS).total_seconds()
    consultants: list[tuple[int, str]] = []
    counts = {"tickets": count, "attempts": 0, "escalations": 0, "calls": 0}
    with psycopg.connect(_psycopg_url(url)) as conn:
        with conn.cursor() as cur:
            for index, field_key in enumerate(FIELDS[:-1]):
                for seat in (1, 2):
                    cur.execute(
                        "INSERT INTO users (username, display_name, role, active, on_duty,"
                        " created_at) VALUES (%s, %s, 'consultant', true, %s, %s) RETURNING id",
                        (f"{field_key}-{seat}", f"상담위원 {index}-{seat}", seat == 1, NOW),
                    )
                    user_id = cur.fetchone()[0]  # type: ignore[index]
                    cur.execute(
                        "INSERT INTO user_fields (user_id, field) VALUES (%s, %s)", (user_id, field_key)
                    )
                    consultants.append((user_id, field_key))
            cur.execute(
                "INSERT INTO users (username, display_name, role, active, on_duty, created_at)"
                " VALUES ('bench-supervisor', '감독자', 'supervisor', true, true, %s)",
                (NOW,),
            )
        by_field = {f: [u for u, uf in consultants if uf == f] for f in FIELDS}
        columns = (
            "id, reference, field, support_type, language, callback_number, status, assignee_id,"
            " incomplete, created_at, updated_at, first_attempt_at, resolved_at, closed_at, sla_due_at,"
            " next_escalation_at, paused_seconds, escalation_level, sla_round, unreached_notified_at"
        )
        attempts: list[tuple[Any, ...]] = []
        escalations: list[tuple[Any, ...]] = []
        with conn.cursor() as cur, cur.copy(f"COPY tickets ({columns}) FROM STDIN") as copy:
            for ticket_id in range(1, count + 1):
                # Most tickets are history; the newest ~0.3% are still being worked on.
                age = span * (1 - (ticket_id / count)) + rng.random() * 3600
                created = NOW - timedelta(seconds=age)
                due = created + timedelta(days=3)
                field_key = rng.choice(FIELDS)
                recent = age < 5 * 86400
                status = rng.choice(("new", "assigned", "in_progress", "waiting")) if recent else "closed"
                first_attempt = created + timedelta(seconds=rng.randrange(1800, 2 * 86400))
                first_attempt = first_attempt if first_attempt < NOW and status != "new" else None
                finished = None
                if status == "closed":
                    finished = created + timedelta(seconds=rng.randrange(3 * 3600, 4 * 86400))
                assignee = (
                    rng.choice(by_field[field_key]) if status != "new" and by_field[field_key] else None
                )
                level = 0
                if due - timedelta(hours=24) <= (finished or NOW):
                    escalations.append((ticket_id, 0, due - timedelta(hours=24), recent))
                if due <= (finished or NOW):
                    escalations.append((ticket_id, 1, due, recent))
                    level = 1
                copy.write_row(
                    (
                        ticket_id,
                        f"{ticket_id // 10000:04d}-{ticket_id % 10000:04d}",
                        field_key,
                        rng.choice(SUPPORT_TYPES),
                        "ko",
                        f"+8210{rng.randrange(10**8):08d}",
                        status,
                        assignee,
                        rng.random() < 0.03,
                        created,
                        finished or created,
                        first_attempt,
                        None,
                        finished,
                        due,
                        None if finished else due,
                        0,
                        level,
                        1,
                        created if rng.random() < 0.02 else None,
                    )
                )
                if first_attempt is not None:
                    at = first_attempt
                    for _ in range(1 + (rng.random() < 0.3)):
                        attempts.append((ticket_id, assignee, rng.choice(OUTCOMES), at))
                        at += timedelta(hours=3)
        with (
            conn.cursor() as cur,
            cur.copy("COPY callback_attempts (ticket_id, user_id, outcome, at) FROM STDIN") as copy,
        ):
            for row in attempts:
                copy.write_row(row)
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY escalations (ticket_id, level, due_at, created_at, acknowledged_at, sla_round)"
                " FROM STDIN"
            ) as copy,
        ):
            for ticket_id, level, due, recent in escalations:
                copy.write_row((ticket_id, level, due, due, None if recent else due, 1))
        today = datetime(2026, 11, 27, 0, 0, tzinfo=UTC) - timedelta(hours=9)
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY calls (call_sid, language, state, turn, status, flow_completed, started_at, updated_at)"
                " FROM STDIN"
            ) as copy,
        ):
            for n in range(300):
                started = today + timedelta(seconds=rng.randrange(12 * 3600))
                copy.write_row(
                    (f"CAbench{n:026d}", "ko", "{}", 0, "completed", rng.random() < 0.8, started, started)
                )
        cur = conn.cursor()
        cur.execute("SELECT setval(pg_get_serial_sequence('tickets', 'id'), %s)", (count,))
        conn.commit()
        counts.update(attempts=len(attempts), escalations=len(escalations), calls=300)
    with psycopg.connect(_psycopg_url(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    return counts


def timed(action: Callable[[], Any], runs: int = RUNS) -> float:
    """Median milliseconds of `runs` runs after one warm-up."""
    action()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def measure(url: str) -> list[tuple[str, float]]:
    config = load_config(ROOT / "config.yaml", environ={"DATABASE_URL": url, "SECRET_KEY": "bench"})
    app = create_app(config)
    clock.set_source(lambda: NOW)
    client = app.test_client()
    with app.app_context():
        supervisor = db.session.scalars(select(User).where(User.username == "bench-supervisor")).one()
        login = auth.session_for(supervisor, NOW)
        db.session.remove()
    with client.session_transaction() as cookie:
        cookie.update(login)

    def get(path: str) -> Callable[[], Any]:
        def run() -> None:
            response = client.get(path)
            assert response.status_code == 200, (path, response.status_code)
            response.get_data()

        return run

    types = config.flow and tuple(o.key for o in config.flow.support_types)
    results: list[tuple[str, float]] = [
        ("GET /supervisor/live.json (whole dashboard)", timed(get("/supervisor/live.json")))
    ]
    results.append(("GET /supervisor/ (page, rendered)", timed(get("/supervisor/"))))
    with app.app_context():
        session = db.session
        results.append(
            (
                "  overview only (all live queries)",
                timed(lambda: overview.overview(session, NOW, "Asia/Seoul")),
            )
        )
        for days in (30, 365):
            period = Period(date(2026, 11, 27) - timedelta(days=days - 1), date(2026, 11, 27))
            one_field = Period(period.first, period.last, "bio")
            for name, action in (
                (
                    "volume by field × support type",
                    lambda p=period: reports.volume_by_field_and_support_type(session, p),
                ),
                ("SLA compliance", lambda p=period: reports.sla_compliance(session, p, NOW)),
                ("median/p90 to first callback", lambda p=period: reports.time_to_first_callback(session, p)),
                ("median/p90 to close", lambda p=period: reports.time_to_close(session, p)),
                ("escalations per level", lambda p=period: reports.escalations_by_level(session, p)),
                ("unreached callbacks", lambda p=period: reports.unreached_callbacks(session, p)),
                ("daily volume + compliance", lambda p=period: reports.daily(session, p, NOW)),
                ("monthly report", lambda p=period: reports.monthly(session, p, NOW, types)),
                ("whole report", lambda p=period: reports.build_report(session, p, NOW, types)),
                (
                    "whole report, one field (bio)",
                    lambda p=one_field: reports.build_report(session, p, NOW, types),
                ),
            ):
                results.append((f"  {days:>3} days: {name}", timed(action)))
        db.session.remove()
    first = f"{date(2026, 11, 27) - timedelta(days=29)}"
    results.append(
        ("GET /supervisor/reports (30 days, page + charts)", timed(get(f"/supervisor/reports?first={first}")))
    )
    results.append(
        ("GET /supervisor/reports.json (365 days)", timed(get("/supervisor/reports.json?first=2025-11-28")))
    )
    db.of(app).engine.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="250000,1000000", help="ticket counts, comma-separated")
    parser.add_argument(
        "--keep", action="store_true", help="keep the databases (named hotline_bench_dashboard_N)"
    )
    parser.add_argument("--reuse", action="store_true", help="measure kept databases again without refilling")
    args = parser.parse_args()
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    table: dict[str, dict[int, float]] = {}
    sizes = [int(s) for s in args.sizes.split(",")]
    for size in sizes:
        keep = args.keep or args.reuse
        name = (
            f"hotline_bench_dashboard_{size}" if keep else f"hotline_bench_dashboard_{uuid.uuid4().hex[:8]}"
        )
        url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)
        try:
            if not args.reuse:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                engine = make_engine(url)
                upgrade(engine)
                engine.dispose()
                start = time.perf_counter()
                counts = fill(url, size)
                print(f"{size:,} tickets: loaded {counts} in {time.perf_counter() - start:.1f}s", flush=True)
            for label, ms in measure(url):
                table.setdefault(label, {})[size] = ms
                print(f"  {label:<58} {ms:8.1f} ms", flush=True)
        finally:
            if not keep:
                with admin.connect() as connection:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        print(f"\n{'':<60}{small:>10,}{large:>12,}   ratio")
        for label, by_size in table.items():
            ratio = by_size[large] / by_size[small] if by_size[small] else float("nan")
            print(f"{label:<60}{by_size[small]:>8.1f}ms{by_size[large]:>10.1f}ms  ×{ratio:.1f}")


if __name__ == "__main__":
    main()
