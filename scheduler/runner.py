"""The APScheduler process: fixed job ids, each run inside an app context with its own transaction.

`hotline scheduler` runs it alone (BlockingScheduler); `hotline run` embeds one (BackgroundScheduler) in its
single process. Web workers never start one.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask
from sqlalchemy.orm import Session

from scheduler import heartbeat
from tickets.db import db, utcnow

log = logging.getLogger(__name__)

Job = Callable[[Flask, Session], None]


def in_app(app: Flask, job: Job, name: str) -> Callable[[], None]:
    """Run `job` in an app context and one transaction; log and swallow errors so the scheduler lives on."""

    def run() -> None:
        with app.app_context():
            try:
                with db.transaction() as session:
                    job(app, session)
            except Exception:
                log.exception("scheduled job %s failed", name)

    run.__name__ = name
    return run


def add_jobs(scheduler: BaseScheduler, app: Flask, jobs: dict[str, tuple[Job, dict[str, Any]]]) -> None:
    for job_id, (job, trigger) in jobs.items():
        scheduler.add_job(
            in_app(app, job, job_id),
            id=job_id,
            name=job_id,
            replace_existing=True,  # a restart replaces the job instead of adding a copy
            max_instances=1,
            coalesce=True,  # after downtime, one catch-up run instead of one per missed interval
            misfire_grace_time=None,  # late is better than never: a missed sweep still runs
            **trigger,
        )


def configure(scheduler: BaseScheduler, app: Flask) -> None:
    started_at = utcnow()
    name = f"{socket.gethostname()}:{os.getpid()}"

    def beat(_app: Flask, session: Session) -> None:
        heartbeat.beat(session, name, started_at)

    add_jobs(
        scheduler,
        app,
        {
            "heartbeat": (
                beat,
                {"trigger": "interval", "seconds": heartbeat.HEARTBEAT_SECONDS, "next_run_time": utcnow()},
            )
        },
    )
