"""GET /healthz for load balancers and monitoring: does the database take writes, is a scheduler alive.

Anyone who reaches the app can read it, so it says how things are, not where they run: which host and
process runs the scheduler is on the supervisor dashboard, behind a login.

- 200 `{"status": "ok", "database": "ok", "scheduler": "ok"}`;
- 200 `{"status": "degraded", ..., "scheduler": "stopped"}`: calls are still taken and tickets saved, but no
  deadline is swept and nothing is sent until a scheduler runs (a load balancer keeps the web worker);
- 503 `{"status": "error", "database": "unavailable"}`: unreachable, or refusing writes (a read-only database
  or a standby), which `SELECT 1` alone reported as fine. Every call would fail, so take the worker out.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from flask import Blueprint, Flask, jsonify
from sqlalchemy import insert
from sqlalchemy.orm import Session

from scheduler.heartbeat import scheduler_status
from tickets import clock
from tickets.db import db
from tickets.models import SchedulerHeartbeat

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz() -> Any:
    session = db.session()
    try:
        alive = scheduler_status(session)["alive"]
        _write_and_undo(session)
    except (
        Exception
    ) as error:  # SQLAlchemy's, or the driver's own (SQLite's BEGIN IMMEDIATE hook raises those)
        log.warning("/healthz: the database is unavailable: %r", error)
        return jsonify(status="error", database="unavailable"), 503
    finally:
        session.rollback()
    return jsonify(
        status="ok" if alive else "degraded", database="ok", scheduler="ok" if alive else "stopped"
    )


def _write_and_undo(session: Session) -> None:
    """Insert a heartbeat row that the caller rolls back: the cheapest proof that the database takes writes.

    The name is new each time, so two probes at once do not wait on each other's row."""
    now = clock.now()
    probe = {"name": f"healthz-{uuid.uuid4().hex}", "host": "-", "pid": 0, "started_at": now, "beat_at": now}
    session.execute(insert(SchedulerHeartbeat).values(**probe))


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
