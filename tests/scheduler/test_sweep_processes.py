"""Exactly once across processes: two `hotline sla sweep` at once, and one killed mid-run then rerun.

These commit for real (each process has its own connections), so they build their own tickets and remove
them afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from tests.conftest import test_config
from tests.scheduler.sla_helpers import DUE, T0
from tickets import accounts
from tickets.models import Escalation, OutboxMessage, Status, Ticket, TicketEvent, User
from tickets.sla import SlaDeadlines

ROOT = Path(__file__).resolve().parents[2]
HOTLINE = [sys.executable, "-c", "from ivr.cli import main; main()"]
NOW = (DUE + timedelta(hours=1)).isoformat()


@pytest.fixture
def due_tickets(engine: Engine, database_url: str, request: pytest.FixtureRequest) -> Iterator[list[int]]:
    count = request.param
    deadlines = SlaDeadlines(test_config(database_url).scheduler.sla)
    factory = sessionmaker(bind=engine, expire_on_commit=False)
    prefix = f"8{os.getpid() % 1000:03d}"
    with factory.begin() as session:
        boss = accounts.add_user(
            session, f"proc-boss-{prefix}", "supervisor", fields=["it"], phone="010-7777-0001"
        )
        for i in range(count):
            ticket = Ticket(
                reference=f"{prefix}-{i:04d}",
                field="it",
                status=Status.NEW,
                created_at=T0 + timedelta(seconds=i),
            )
            ticket.escalation_level, ticket.paused_seconds, ticket.sla_round = 0, 0, 0
            deadlines.stamp(ticket, T0)
            session.add(ticket)
        session.flush()
        ids = list(session.scalars(select(Ticket.id).where(Ticket.reference.like(f"{prefix}-%"))))
        boss_id = boss.id
    try:
        yield ids
    finally:
        with factory.begin() as session:
            session.execute(OutboxMessage.__table__.delete().where(OutboxMessage.ticket_id.in_(ids)))
            session.execute(TicketEvent.__table__.delete().where(TicketEvent.ticket_id.in_(ids)))
            session.execute(Escalation.__table__.delete().where(Escalation.ticket_id.in_(ids)))
            session.execute(Ticket.__table__.delete().where(Ticket.id.in_(ids)))
            session.execute(User.__table__.delete().where(User.id == boss_id))


def sweep_process(database_url: str, batch_size: int, *, niceness: int = 0) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "test"}
    env.pop("HOTLINE_CONFIG", None)
    command = [*HOTLINE, "sla", "sweep", "--now", NOW, "--json", "--batch-size", str(batch_size)]
    if niceness:
        command = ["nice", "-n", str(niceness), *command]
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def escalation_counts(engine: Engine, ids: list[int]) -> dict[int, int]:
    with Session(engine) as session:
        rows = session.execute(
            select(Escalation.ticket_id, func.count())
            .where(Escalation.ticket_id.in_(ids))
            .group_by(Escalation.ticket_id)
        )
        return {ticket_id: n for ticket_id, n in rows}


def assert_each_escalated_once_with_its_messages(engine: Engine, ids: list[int]) -> None:
    counts = escalation_counts(engine, ids)
    assert set(counts) == set(ids) and set(counts.values()) == {1}
    with Session(engine) as session:
        per_ticket = session.execute(
            select(OutboxMessage.ticket_id, func.count())
            .where(OutboxMessage.ticket_id.in_(ids))
            .group_by(OutboxMessage.ticket_id)
        ).all()
        events = session.scalar(
            select(func.count()).where(TicketEvent.ticket_id.in_(ids), TicketEvent.type == "escalated")
        )
    # Level 1 goes to the field's supervisor by SMS and console (e-mail is off in config.yaml).
    assert len(per_ticket) == len(ids) and {n for _, n in per_ticket} == {2}
    assert events == len(ids)


@pytest.mark.slow
@pytest.mark.parametrize("due_tickets", [300], indirect=True)
def test_two_sweeps_at_once_escalate_each_ticket_once(
    engine: Engine, database_url: str, due_tickets: list[int]
) -> None:
    processes = [sweep_process(database_url, batch_size=20) for _ in range(2)]
    outputs = [p.communicate(timeout=120) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-2000:] for _, err in outputs]
    swept = [{e["reference"] for e in json.loads(out)["escalations"]} for out, _ in outputs]
    assert not swept[0] & swept[1]
    assert len(swept[0] | swept[1]) == len(due_tickets)
    assert_each_escalated_once_with_its_messages(engine, due_tickets)


@pytest.mark.slow
@pytest.mark.parametrize("due_tickets", [1500], indirect=True)
def test_a_sweep_killed_mid_run_then_rerun_loses_and_doubles_nothing(
    engine: Engine, database_url: str, due_tickets: list[int]
) -> None:
    # At a lower priority, so that on a busy machine this test, watching it, is not the one left waiting
    # for the CPU until the sweep has finished. Not the lowest: beside another pytest worker the sweep
    # then got so little CPU that it did not reach 50 escalations within the minute.
    process = sweep_process(database_url, batch_size=5, niceness=10)
    deadline = time.monotonic() + 60
    while sum(escalation_counts(engine, due_tickets).values()) < 50:
        assert process.poll() is None, "the sweep finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    done = sum(escalation_counts(engine, due_tickets).values())
    assert 0 < done < len(due_tickets)  # killed in the middle
    rerun = sweep_process(database_url, batch_size=500)
    out, err = rerun.communicate(timeout=120)
    assert rerun.returncode == 0, err[-2000:]
    assert len(json.loads(out)["escalations"]) == len(due_tickets) - done
    assert_each_escalated_once_with_its_messages(engine, due_tickets)
