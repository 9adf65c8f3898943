"""The scheduler's jobs: fixed ids, no copies on restart, the digest on Seoul working-day mornings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import runner
from scheduler.digest import send_daily_digest
from tests.scheduler.sla_helpers import people, settings, ticket_at
from tickets.business_hours import BusinessHours
from tickets.models import OutboxMessage


def test_jobs_have_fixed_ids_and_a_restart_adds_no_copies(app: Flask) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.start(paused=True)  # jobs go to the store at once, as in a running scheduler
    try:
        runner.configure(scheduler, app)
        runner.configure(scheduler, app)  # configured again, as after a restart with a persistent job store
        jobs = {job.id: job for job in scheduler.get_jobs()}
        count = len(scheduler.get_jobs())
    finally:
        scheduler.shutdown(wait=False)
    assert set(jobs) == {
        "heartbeat",
        "sla_sweep",
        "outbox_delivery",
        "sla_digest",
        "release_stale_assignments",
        "webhook_spool_replay",
        "unfiled_call_recovery",
        "access_log_checkpoint",
        "privacy_retention",
        "callback_reminders",
    }
    assert count == len(jobs)
    assert jobs["sla_sweep"].trigger.interval == timedelta(seconds=60)
    assert jobs["sla_sweep"].coalesce and jobs["sla_sweep"].misfire_grace_time is None


def test_the_digest_fires_at_nine_in_seoul_on_weekdays(app: Flask) -> None:
    scheduler = BackgroundScheduler(timezone="UTC")
    runner.configure(scheduler, app)
    trigger = scheduler.get_job("sla_digest").trigger
    friday_evening = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)  # 19:00 in Seoul
    assert trigger.get_next_fire_time(None, friday_evening) == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)


def test_the_digest_goes_once_per_day_and_not_on_holidays(session: Session, config: Any) -> None:
    s = settings(config)
    people(session)
    created = datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    overdue = ticket_at(session, s, created)
    hours = BusinessHours()
    monday_nine = datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert send_daily_digest(session, hours, s.notifications, monday_nine) == 2  # two supervisors, console
    assert send_daily_digest(session, hours, s.notifications, monday_nine + timedelta(minutes=1)) == 0
    digest = session.scalars(select(OutboxMessage).where(OutboxMessage.key.like("digest:%"))).first()
    assert digest is not None and "기한 초과 1건" in digest.payload["text"]
    assert overdue.reference in digest.payload["text"]
    christmas = datetime(2026, 12, 25, 0, 0, tzinfo=UTC)
    assert send_daily_digest(session, hours, s.notifications, christmas) == 0
