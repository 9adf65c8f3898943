"""The hotline on a fault-test database: migrated and seeded as the CLI does it, the webhooks under
gunicorn as deployed (ivr.wsgi:app), the scheduler as `hotline scheduler`.

Every process runs this checkout's code (PYTHONPATH is the repository root), talks to 127.0.0.1 only, and
has no Twilio credentials (SMS go to the log channel). Output goes to one log file per scenario, which is
how the report tells "only in the log" from "nowhere".
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.orm import Session

from ivr.config import ROOT, load_config
from tests.tickets.conftest import sla_app
from tickets import demo
from tickets.db import make_engine
from tickets.migrate import upgrade

# not `python -m ivr.cli`: that only imports the module (no __main__ guard; the `hotline` script calls main)
HOTLINE = [sys.executable, "-c", "from ivr.cli import main; main()"]
GUNICORN = [sys.executable, "-m", "gunicorn"]
WORKERS, THREADS = 2, 8  # the PostgreSQL deployment of bench/webhooks.py: one process per core


@dataclass(frozen=True)
class Deployment:
    """One database and the environment every hotline process of a scenario shares."""

    database_url: str
    log: Path
    spool: Path  # webhooks the database could not take wait here for the scheduler's replay

    def environment(self) -> dict[str, str]:
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("TWILIO_", "HOTLINE_", "PUBLIC_BASE_URL", "SMTP_"))
        }
        env.update(
            DATABASE_URL=self.database_url,
            SECRET_KEY="fault-tests",
            HOTLINE_SPOOL_DIR=str(self.spool),
            PYTHONPATH=str(ROOT),
        )
        return env

    def prepare(self) -> None:
        """What `hotline db upgrade` and `hotline demo seed` do (consultants in every field for routing),
        in this process: two more interpreters per scenario cost seconds on a busy machine."""
        engine = make_engine(self.database_url)
        try:
            upgrade(engine)
            config = load_config(environ={"DATABASE_URL": self.database_url, "SECRET_KEY": "fault-tests"})
            with sla_app(config).app_context(), Session(engine) as session, session.begin():
                demo.seed(session, config)
        finally:
            engine.dispose()

    @contextmanager
    def process(self, command: list[str]) -> Iterator[subprocess.Popen[bytes]]:
        """A long-running process, stopped with SIGTERM (SIGKILL after 20 s) when the block ends."""
        with self.log.open("ab") as out:
            process = subprocess.Popen(command, cwd=ROOT, env=self.environment(), stdout=out, stderr=out)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    @contextmanager
    def web(self, port: int) -> Iterator[str]:
        """gunicorn serving the webhooks on 127.0.0.1:`port`; yields its base URL once the app answers."""
        command = [
            *GUNICORN, "--workers", str(WORKERS), "--worker-class", "gthread", "--threads", str(THREADS),
            "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--graceful-timeout", "5",
            "ivr.wsgi:app",
        ]  # fmt: skip
        base_url = f"http://127.0.0.1:{port}"
        with self.process(command) as server:
            deadline = time.monotonic() + 60
            while not _answers(f"{base_url}/healthz"):
                if server.poll() is not None:
                    raise RuntimeError(f"gunicorn exited with {server.returncode}; see {self.log}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn did not answer on {port}; see {self.log}")
                time.sleep(0.1)
            yield base_url

    def scheduler(self) -> AbstractContextManager[subprocess.Popen[bytes]]:
        """`hotline scheduler`: every job the runner configures (sweeps, delivery, recovery, replays)."""
        return self.process([*HOTLINE, "scheduler"])


def _answers(url: str) -> bool:
    """Whether a worker answers 200: gunicorn's master listens before its workers have loaded the app, and
    calls placed then would wait out Twilio's timeout behind their start-up (several scenarios at once
    start ten workers together), a fault of the harness, not of the hotline."""
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return bool(reply.status == 200)
    except urllib.error.HTTPError as error:
        error.close()
        return False
    except OSError:  # refused, reset or timed out
        return False
