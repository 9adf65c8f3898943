"""`hotline scheduler` as its own process: on SIGTERM it finishes the sweep in hand, then exits cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from tests.scheduler.test_sweep_processes import HOTLINE, ROOT, due_tickets, escalation_counts  # noqa: F401
from tickets.models import SchedulerHeartbeat


@pytest.mark.slow
@pytest.mark.parametrize("due_tickets", [2000], indirect=True)
def test_sigterm_mid_sweep_finishes_the_sweep_then_exits_0(
    engine: Engine,
    database_url: str,
    due_tickets: list[int],  # noqa: F811
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test"}
    env.pop("HOTLINE_CONFIG", None)
    process = subprocess.Popen(
        [*HOTLINE, "scheduler"], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        # Poll until the first batch of the sweep has committed: the sweep is then in hand.
        deadline = time.monotonic() + 90
        while not escalation_counts(engine, due_tickets):
            assert process.poll() is None, process.communicate()[1][-2000:]
            assert time.monotonic() < deadline, "the scheduler never swept"
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err[-2000:]
    assert "finishing the job in hand" in err
    counts = escalation_counts(engine, due_tickets)
    assert set(counts) == set(due_tickets), "the sweep in hand was cut short"
    assert set(counts.values()) == {1}
    with Session(engine) as session, session.begin():
        assert session.scalar(select(func.count()).select_from(SchedulerHeartbeat)) >= 1
        session.execute(delete(SchedulerHeartbeat))  # other tests expect no live scheduler
