"""A row per scheduler process, touched by a job, so /healthz and the dashboard know whether one is alive."""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tickets import clock
from tickets.models import SchedulerHeartbeat

HEARTBEAT_SECONDS = 15
# Alive means: beat within three missed beats. A sweep that takes long still beats from its own thread.
STALE_AFTER = timedelta(seconds=HEARTBEAT_SECONDS * 3)
FORGET_AFTER = timedelta(days=1)


def beat(session: Session, name: str, started_at: datetime, now: datetime | None = None) -> None:
    now = now or clock.now()
    row = session.get(SchedulerHeartbeat, name)
    if row is None:
        row = SchedulerHeartbeat(name=name, host=socket.gethostname(), pid=os.getpid(), started_at=started_at)
        session.add(row)
    row.host, row.pid, row.started_at, row.beat_at = socket.gethostname(), os.getpid(), started_at, now
    # Each process beats under its own name; forget the ones that stopped long ago.
    session.execute(delete(SchedulerHeartbeat).where(SchedulerHeartbeat.beat_at < now - FORGET_AFTER))
    session.flush()


def record_sweep(session: Session, name: str, started_at: datetime, seconds: float) -> None:
    """The SLA sweep of process `name` just succeeded, taking `seconds`: /metrics shows both."""
    row = session.get(SchedulerHeartbeat, name)
    if row is None:
        beat(session, name, started_at)
        row = session.get(SchedulerHeartbeat, name)
        assert row is not None
    row.sweep_succeeded_at, row.sweep_seconds = clock.now(), seconds
    session.flush()


def scheduler_status(session: Session, now: datetime | None = None) -> dict[str, Any]:
    now = now or clock.now()
    rows = session.scalars(select(SchedulerHeartbeat).order_by(SchedulerHeartbeat.beat_at.desc())).all()
    if not rows:
        return {"alive": False, "running": "none has run yet"}
    latest = rows[0]
    return {
        "alive": now - latest.beat_at <= STALE_AFTER,
        "last_beat_at": latest.beat_at.isoformat(),
        "host": latest.host,
        "pid": latest.pid,
        "processes": [
            {"name": r.name, "host": r.host, "pid": r.pid, "alive": now - r.beat_at <= STALE_AFTER}
            for r in rows
        ],
    }
