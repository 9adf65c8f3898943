"""The APScheduler process: fixed job ids, each run inside an app context with its own transactions.

`hotline scheduler` runs it alone (BlockingScheduler); `hotline run` embeds one (BackgroundScheduler) in its
single worker process (ivr.server). Web workers never start one. Either stops through `shutdown`: the job in
hand finishes, and outbox messages claimed but not yet sent are handed back at once (not after the lease).

Every job has a fixed id and `replace_existing=True` (a restart replaces it instead of adding a copy) and
`max_instances=1`. Missed runs are coalesced into one: the sweep and the delivery catch up on everything due
in a single run, so running them once per missed interval would only repeat work. Their misfire grace is
unlimited (late is better than never); the heartbeat's is short (a late beat says nothing), and the digest
may start up to three hours late (after midday a morning digest is noise).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from apscheduler.schedulers.base import BaseScheduler
from flask import Flask

from scheduler import access_checkpoint, heartbeat, retention
from scheduler.delivery import build_channels, deliver_due_messages
from scheduler.digest import send_daily_digest
from scheduler.referral_followup import FollowUpSettings, follow_up_referrals
from scheduler.sweep import AlertSettings, sweep
from tickets import clock
from tickets.callbacks import remind_due_callbacks
from tickets.db import db
from tickets.queue import release_stale_assignments

log = logging.getLogger(__name__)

EXTRA_JOBS = "hotline_scheduler_jobs"  # app.extensions: job id -> (job, interval in seconds)
SMS_EXTENSION = "telephony"  # app.extensions key of ivr.gateway's Telephony (its send_sms sends our SMS)
DELIVERY_SECONDS = 15
RELEASE_SECONDS = 300
CALLBACK_SECONDS = 60  # a promised callback time is told within a minute
STOPPING = "hotline_scheduler_stopping"  # app.extensions: a threading.Event set when the scheduler stops


def in_app(app: Flask, job: Callable[[], None], name: str) -> Callable[[], None]:
    """Run `job` in an app context; log and swallow errors so the scheduler lives on."""

    def run() -> None:
        with app.app_context():
            try:
                job()
            except Exception:
                log.exception("scheduled job %s failed", name)

    run.__name__ = name
    return run


def add_job(
    scheduler: BaseScheduler,
    app: Flask,
    job_id: str,
    job: Callable[[], None],
    *,
    grace: int | None,
    **trigger: Any,
) -> None:
    scheduler.add_job(
        in_app(app, job, job_id),
        id=job_id,
        name=job_id,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=grace,
        **trigger,
    )


def configure(scheduler: BaseScheduler, app: Flask) -> None:
    config = app.config["HOTLINE"]
    settings = AlertSettings.from_config(config)
    referral_settings = FollowUpSettings.from_config(config)
    notifications = settings.notifications
    telephony = app.extensions.get(SMS_EXTENSION)
    # Built now, outside any app context (gunicorn's post_worker_init): the app's own transactions.
    channels = build_channels(notifications, telephony, db.of(app).transaction, recordings=telephony)
    hours = settings.deadlines.hours
    started_at = clock.now()
    name = f"{socket.gethostname()}:{os.getpid()}"
    stopping = app.extensions[STOPPING] = threading.Event()

    def beat() -> None:
        with db.transaction() as session:
            heartbeat.beat(session, name, started_at)

    def escalate() -> None:
        now = clock.now()
        began = time.monotonic()
        swept = sweep(db.transaction, settings, now)
        with db.transaction() as session:  # for /metrics: the scheduler may be another process
            heartbeat.record_sweep(session, name, started_at, time.monotonic() - began)
        if swept:
            log.info("SLA sweep: %d alert(s)", len(swept))
        followed = follow_up_referrals(db.transaction, referral_settings, now)
        if followed:
            log.info("referral follow-up: %d reminder(s), alert(s) or expiry(ies)", len(followed))

    def deliver() -> None:
        report = deliver_due_messages(
            db.transaction, channels, notifications, clock.now(), clock=clock.now, stopping=stopping
        )
        if report.sent or report.retrying or report.dead or report.lost or report.released:
            log.info(
                "outbox: %d sent, %d to retry, %d dead, %d taken over by another scheduler, "
                "%d handed back (stopping)",
                report.sent, report.retrying, report.dead, report.lost, report.released,
            )  # fmt: skip

    def digest() -> None:
        with db.transaction() as session:
            send_daily_digest(session, hours, notifications, clock.now(), config.public_base_url)

    add_job(
        scheduler, app, "heartbeat", beat, grace=heartbeat.HEARTBEAT_SECONDS,
        trigger="interval", seconds=heartbeat.HEARTBEAT_SECONDS, next_run_time=clock.now(),
    )  # fmt: skip
    add_job(
        scheduler, app, "sla_sweep", escalate, grace=None,
        trigger="interval", seconds=config.scheduler.sweep_interval_seconds, next_run_time=clock.now(),
    )  # fmt: skip
    add_job(
        scheduler, app, "outbox_delivery", deliver, grace=None,
        trigger="interval", seconds=DELIVERY_SECONDS, next_run_time=clock.now(),
    )  # fmt: skip
    add_job(
        scheduler, app, "sla_digest", digest, grace=3 * 3600,
        trigger="cron", day_of_week="mon-fri", hour=notifications.digest_time.hour,
        minute=notifications.digest_time.minute, timezone=hours.timezone,
    )  # fmt: skip

    def remind_callbacks() -> None:
        with db.transaction() as session:
            told = remind_due_callbacks(session, clock.now(), config.timezone)
        if told:
            log.info("promised callbacks due: %d holder(s) told", len(told))

    add_job(
        scheduler, app, "callback_reminders", remind_callbacks, grace=None,
        trigger="interval", seconds=CALLBACK_SECONDS, next_run_time=clock.now(),
    )  # fmt: skip

    def checkpoint_access_log() -> None:
        with db.transaction() as session:
            access_checkpoint.nightly_checkpoint(session, clock.now(), config.timezone, notifications)
        with db.transaction() as session:
            purged = access_checkpoint.purge_expired(
                session, clock.now(), config.timezone, config.privacy.access_log_years
            )
        if purged:
            log.info("access log: %d row(s) past retention purged", purged)

    add_job(
        scheduler, app, access_checkpoint.JOB_ID, checkpoint_access_log, grace=12 * 3600,
        trigger="cron", hour=access_checkpoint.RUN_AT.hour, minute=access_checkpoint.RUN_AT.minute,
        timezone=config.timezone,
    )  # fmt: skip

    def enforce_retention() -> None:
        done = retention.purge(db.transaction, clock.now(), config.privacy.retention, config.timezone)
        if done:
            log.info(
                "retention: recordings of %d ticket(s) deleted, %d ticket(s) masked, %d anonymised, "
                "%d missed call(s) anonymised, %d unproved web request(s) and %d login throttle row(s) "
                "deleted",
                len(done.recordings), len(done.masked), len(done.anonymised), len(done.missed_calls),
                done.web_requests, done.throttle_rows,
            )  # fmt: skip

    add_job(
        scheduler, app, retention.JOB_ID, enforce_retention, grace=12 * 3600,
        trigger="cron", hour=retention.RUN_AT.hour, minute=retention.RUN_AT.minute, timezone=config.timezone,
    )  # fmt: skip
    # Jobs the other packages register (ivr: the webhook spool's replay, the unfiled-call recovery):
    # the scheduler may not import them, so they come through the app, each with its fixed id.
    for job_id, (job, seconds) in app.extensions.get(EXTRA_JOBS, {}).items():
        add_job(scheduler, app, job_id, job, grace=None,
                trigger="interval", seconds=seconds, next_run_time=clock.now())  # fmt: skip
    add_job(scheduler, app, "release_stale_assignments", _release_stale_job(app, settings), grace=None,
            trigger="interval", seconds=RELEASE_SECONDS)  # fmt: skip


def shutdown(scheduler: BaseScheduler, app: Flask) -> None:
    """Stop: the job in hand finishes its transaction; a delivery round sends only what it has started
    and hands the rest of its claimed messages back. Safe to call twice."""
    stopping = app.extensions.get(STOPPING)
    if stopping is not None:
        stopping.set()
    if scheduler.running:
        scheduler.shutdown(wait=True)


def _release_stale_job(app: Flask, settings: AlertSettings) -> Callable[[], None]:
    """Assignments nobody acted on for a working day go back to the pool (tickets.queue decides which)."""
    routing = app.config["HOTLINE"].routing
    hours = settings.deadlines.hours

    def release() -> None:
        now = clock.now()
        cutoff = hours.back(now, routing.release_unclaimed_after_working_hours * 3600)
        with db.transaction() as session:
            released = release_stale_assignments(session, now, assigned_before=cutoff)
        if released:
            log.info("released %d untouched assignment(s)", len(released))

    return release
