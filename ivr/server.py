"""Serving the app through gunicorn, as production does: `hotline web` and `hotline run` (ivr/cli.py).

Workers are gthread workers: a few processes, each answering requests on a pool of threads (a webhook waits
on the database or the spool, not on the CPU). `hotline run` keeps to ONE worker and runs the embedded
scheduler in it, started after the fork (post_worker_init). Not in the master: a scheduler there would open
database connections and threads that every later fork copies, and a restarted worker would not stop it.
With one worker the scheduler runs once, and gunicorn restarts the two together if the worker dies.

Stopping (SIGTERM, or Ctrl-C, which is made just as graceful): the master stops accepting and asks each
worker to finish; a worker answers the requests in hand (up to GRACEFUL_SECONDS), then stops its scheduler,
which finishes the job in hand and hands its unsent outbox messages back. The exit status is 0.

Metrics: prometheus_client counts in each worker's own files under PROMETHEUS_MULTIPROC_DIR, which /metrics
adds up (ivr.metrics). This module makes that directory (or empties the one configured) before the workers
fork, drops a dead worker's gauges (child_exit) and removes the directory it made when the server stops.
"""

from __future__ import annotations

import gc
import importlib
import logging
import os
import shutil
import signal
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.arbiter import Arbiter
from gunicorn.glogging import Logger

from tickets.db import db

log = logging.getLogger(__name__)

WORKERS = 2  # `hotline web`; deploy/hotline-web.service runs 4
THREADS = 8
# In-flight requests get this long to finish at a stop; a webhook answers within database.answer_seconds.
GRACEFUL_SECONDS = 20
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


class _GracefulArbiter(Arbiter):
    """Ctrl-C (SIGINT) stops as gracefully as SIGTERM: gunicorn's default kills in-flight requests."""

    def handle_int(self) -> None:
        raise StopIteration  # what handle_term does: the run loop then halts gracefully


class _ThroughLogging(Logger):
    """gunicorn's own lines go through the root logger, so LOG_FORMAT=json covers them too (ivr.logs)."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            logger.handlers.clear()
            logger.propagate = True


class HotlineServer(BaseApplication):  # type: ignore[misc]  # gunicorn has no type hints
    def __init__(self, app: Flask, options: dict[str, Any]) -> None:
        self.application = app
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Flask:
        return self.application

    def run(self) -> None:
        _GracefulArbiter(self).run()


def serve(
    app: Flask,
    host: str,
    port: int,
    *,
    workers: int = WORKERS,
    threads: int = THREADS,
    embed_scheduler: bool = False,
) -> None:
    """Serve `app` until SIGTERM or Ctrl-C; `embed_scheduler`: one worker, which also runs the scheduler."""
    made_dir = _prepare_metrics_dir()
    # Loaded now, with its directory set: gunicorn calls child_exit from its SIGCHLD handler, and a first
    # import there, interrupted by a second worker's exit, failed as a circular import and stopped the server.
    importlib.import_module("prometheus_client.multiprocess")
    # Connections the master opened (config checks, the spool replay) must not be shared with the forks.
    db.of(app).engine.dispose()
    options: dict[str, Any] = {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "worker_class": "gthread",
        "workers": 1 if embed_scheduler else workers,
        "threads": threads,
        "graceful_timeout": GRACEFUL_SECONDS,
        "timeout": 60,  # a worker silent this long is restarted
        "proc_name": "hotline",
        "logger_class": _ThroughLogging,
        "accesslog": None,  # ivr.logs writes one line per request, with its request id
        "forwarded_allow_ips": "127.0.0.1,::1",  # X-Forwarded-Proto from the local nginx only
        "child_exit": _child_exit,
        "post_worker_init": _start_scheduler if embed_scheduler else _graceful_ctrl_c,
        "worker_exit": _stop_scheduler if embed_scheduler else _nothing,
    }
    freeze_loaded_objects()
    try:
        HotlineServer(app, options).run()
    finally:
        if made_dir is not None:
            shutil.rmtree(made_dir, ignore_errors=True)


def freeze_loaded_objects() -> None:
    """Put everything loaded so far (modules, the app, SQLAlchemy's mappers and statement caches) out of
    the garbage collector's reach, for the life of the process.

    A full collection otherwise walks all of it while holding the GIL, and every request in flight waits
    for it: under a burst those pauses were the slowest webhooks (bench/README.md). `hotline web` does it
    before gunicorn forks, which also leaves those pages shared between the workers instead of copied when
    the collector touches them; `ivr.wsgi` does it in each worker, once its app is built.
    """
    gc.freeze()


def _prepare_metrics_dir() -> Path | None:
    """Point prometheus_client at a directory of its own, empty: counts left by an earlier run would add
    up with this one's. Returns the directory if this process made it (and so removes it at the end).

    It must be set before any worker first imports prometheus_client (it reads the variable on import),
    which is why ivr.metrics imports it only when a request first needs it."""
    configured = os.environ.get(MULTIPROC_ENV)
    if configured:
        directory = Path(configured)
        directory.mkdir(parents=True, exist_ok=True)
        for stale in directory.glob("*.db"):
            stale.unlink()
        return None
    directory = Path(tempfile.mkdtemp(prefix="hotline-metrics-"))
    os.environ[MULTIPROC_ENV] = str(directory)
    return directory


def _child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # its live gauges leave with it; its counters stay


def _graceful_ctrl_c(worker: Any) -> None:
    """Ctrl-C reaches the workers too (the terminal signals the whole process group): finish, don't drop."""
    signal.signal(signal.SIGINT, worker.handle_exit)


def _nothing(server: Any, worker: Any) -> None:
    return None


def _start_scheduler(worker: Any) -> None:
    from apscheduler.schedulers.background import BackgroundScheduler

    from scheduler import runner

    app: Flask = worker.wsgi
    scheduler = BackgroundScheduler(timezone="UTC")
    runner.configure(scheduler, app)
    scheduler.start()
    worker.hotline_scheduler = scheduler

    def stopping(handle: Callable[[int, Any], None]) -> Callable[[int, Any], None]:
        def handler(signum: int, frame: Any) -> None:
            # Tell the delivery round at once, while the requests in hand finish: it stops taking new sends.
            app.extensions[runner.STOPPING].set()
            handle(signum, frame)

        return handler

    signal.signal(signal.SIGTERM, stopping(worker.handle_exit))
    signal.signal(signal.SIGINT, stopping(worker.handle_exit))


def _stop_scheduler(server: Any, worker: Any) -> None:
    from scheduler import runner

    scheduler = getattr(worker, "hotline_scheduler", None)
    if scheduler is not None:
        log.info("stopping the embedded scheduler: the job in hand finishes first")
        runner.shutdown(scheduler, worker.wsgi)
