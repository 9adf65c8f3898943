"""`hotline run` is a real server: gunicorn, with the scheduler embedded, and a SIGTERM mid-call lets the
caller's request finish before the process exits 0."""

from __future__ import annotations

import http.client
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from sqlalchemy import Engine, create_engine, delete, make_url, select, text
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ivr.config import ROOT
from tests.ops.test_deploy import free_port
from tickets.models import Call, SchedulerHeartbeat

HOTLINE = [sys.executable, "-m", "ivr.cli"]
TOKEN = "serving-test-auth-token"
CALL_SID = "CA" + "5" * 32


def start_hotline(database_url: str, tmp_path: Path, port: int, *command: str, **environ: str) -> Any:
    env = {
        **{k: v for k, v in os.environ.items() if k != "HOTLINE_CONFIG"},
        "PYTHONPATH": str(ROOT),
        "DATABASE_URL": database_url,
        "SECRET_KEY": "s" * 64,
        "TWILIO_AUTH_TOKEN": TOKEN,
        "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "HOTLINE_SPOOL_DIR": str(tmp_path / "spool"),
        **environ,
    }
    return subprocess.Popen(
        [*HOTLINE, *command, "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_until_serving(port: int, process: Any, seconds: float = 60) -> int:
    """Returns how many /healthz requests were answered meanwhile."""
    deadline, answered = time.monotonic() + seconds, 0
    while True:
        assert process.poll() is None, process.communicate()[1][-3000:]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            connection.request("GET", "/healthz")
            answered += 1
            if connection.getresponse().status == 200:
                return answered
        except OSError:
            pass
        finally:
            connection.close()
        assert time.monotonic() < deadline, f"nothing answers on {port}"
        time.sleep(0.1)


def post_signed(url: str, form: dict[str, str]) -> tuple[int, str]:
    """POST as Twilio does: the form signed with the auth token over the exact URL."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    try:
        connection.request(
            "POST",
            parts.path + (f"?{parts.query}" if parts.query else ""),
            body=urlencode(form),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": RequestValidator(TOKEN).compute_signature(url, form),
            },
        )
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def gather_action(twiml: str) -> str:
    gather = ET.fromstring(twiml).find("Gather")
    assert gather is not None, twiml
    return gather.attrib["action"]


@contextmanager
def call_row_locked(engine: Engine, database_url: str) -> Iterator[None]:
    """Hold the call's row (PostgreSQL) or the database's write lock (SQLite), so its next webhook waits."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database or "", isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield
        finally:
            connection.execute("ROLLBACK")
            connection.close()
        return
    with engine.connect() as connection, connection.begin():
        connection.execute(text("SELECT id FROM calls WHERE call_sid = :sid FOR UPDATE"), {"sid": CALL_SID})
        yield


def wait_for_a_blocked_webhook(engine: Engine, database_url: str) -> None:
    """Until the server's webhook is waiting on our lock: exactly on PostgreSQL, by a pause on SQLite."""
    if make_url(database_url).get_backend_name() == "sqlite":
        time.sleep(0.7)  # SQLite cannot say who waits for its lock; the request is long in by then
        return
    deadline = time.monotonic() + 5
    with engine.connect() as connection:
        while not connection.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock'"
            )
        ):
            assert time.monotonic() < deadline, "the webhook never reached the database"
            time.sleep(0.02)


@pytest.fixture
def database_file_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """The test database, emptied of what these tests leave (they commit: the server is another process)."""
    yield database_url
    engine = create_engine(database_url)
    with Session(engine) as session, session.begin():
        session.execute(delete(SchedulerHeartbeat))  # other tests expect no live scheduler
        session.execute(delete(Call).where(Call.call_sid == CALL_SID))
    engine.dispose()


@pytest.mark.slow
def test_sigterm_mid_call_answers_the_caller_then_exits_0(
    engine: Engine, database_file_url: str, tmp_path: Path
) -> None:
    port = free_port()
    process = start_hotline(database_file_url, tmp_path, port, "run")
    try:
        wait_until_serving(port, process)
        base = f"http://127.0.0.1:{port}"
        call = {"CallSid": CALL_SID, "From": "+821012345678", "To": "+827040001379", "CallStatus": "ringing"}
        status, greeting = post_signed(f"{base}/ivr/voice", call)
        assert status == 200, greeting
        field_step = gather_action(greeting)
        assert urlsplit(field_step).path == "/ivr/voice/field"

        answered: list[tuple[int, str]] = []
        with call_row_locked(engine, database_file_url):
            caller = threading.Thread(
                target=lambda: answered.append(post_signed(field_step, {**call, "Digits": "2"}))
            )
            caller.start()
            wait_for_a_blocked_webhook(engine, database_file_url)
            process.send_signal(signal.SIGTERM)
            signalled = time.monotonic()
            time.sleep(0.3)  # the server is stopping while the caller's request waits on the database
        caller.join(timeout=10)
        _, err = process.communicate(timeout=10)
        stopped_in = time.monotonic() - signalled
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err[-3000:]
    assert stopped_in < 10
    [(status, next_prompt)] = answered
    assert status == 200
    assert urlsplit(gather_action(next_prompt)).path == "/ivr/voice/support_type", next_prompt
    with Session(engine) as session:
        saved = session.scalar(select(Call).where(Call.call_sid == CALL_SID))
        assert saved is not None and saved.step == "support_type"  # the answer was committed, not spooled
        # the embedded scheduler ran in the server, and only once (one process beat)
        assert len(session.scalars(select(SchedulerHeartbeat)).all()) == 1
    assert "Scheduler has been shut down" in err


def healthz_requests_counted(port: int, token: str) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/metrics", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        body = response.read().decode()
    finally:
        connection.close()
    assert response.status == 200, body
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in body.splitlines()
        if line.startswith("hotline_http_requests_total{") and 'endpoint="health.healthz"' in line
    )


@pytest.mark.slow
def test_metrics_add_up_every_workers_requests(database_file_url: str, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        (ROOT / "config.yaml").read_text(encoding="utf-8").replace("  enabled: false", "  enabled: true", 1),
        encoding="utf-8",
    )
    port = free_port()
    token = "t" * 40
    process = start_hotline(
        database_file_url, tmp_path, port, "web", "--workers", "2",
        HOTLINE_CONFIG=str(config), METRICS_TOKEN=token,
    )  # fmt: skip
    try:
        wait_until_serving(port, process)
        before = healthz_requests_counted(port, token)
        for _ in range(20):  # new connections: both workers take some
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/healthz")
            assert connection.getresponse().status == 200
            connection.close()
        after = healthz_requests_counted(port, token)
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=30)
    assert after - before == 20  # every request, whichever of the two workers answered it (or the scrape)
    assert process.returncode == 0, err[-3000:]
