"""Whole calls under gunicorn while the PostgreSQL under them restarts, stops, freezes or turns read-only.

Each scenario: 40 callers (tests.faults.callers) dial in, staggered, on a fresh database of a throwaway
cluster (tests.faults.cluster); a few seconds in, the fault strikes and lasts 20 s; when every call has
ended, `hotline scheduler` runs (its replay and recovery jobs catch up) until every call is right or
CATCH_UP seconds have passed. Then, for every call: exactly one ticket (incomplete when the caller was
cut off), the reference the caller was read is that ticket, no recording only in the log, and the apology
heard at most once. The table (placed, filed, missing, duplicates, apologies, Twilio timeouts…) and the
calls that went wrong, with where each was last seen, are printed (`pytest -s`).

PostgreSQL's binaries come from /usr/lib/postgresql/*/bin; without them the module is skipped, unless
HOTLINE_TEST_DATABASES names postgresql (CI does), which makes them required.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.faults.callers import Pace, place_calls
from tests.faults.cluster import ThrowawayCluster, free_port, postgres_bin_dir
from tests.faults.outcome import Table, read_outcomes
from tests.faults.processes import Deployment

pytestmark = [pytest.mark.slow, pytest.mark.faults]

PACE = Pace(calls=40, stagger=12.0, think=(4.0, 6.0))  # calls of 20-30 s; a real caller takes about 90 s
FAULT_AT = 8.0  # seconds after the first call: every call is in progress or about to start
FAULT_SECONDS = 20.0
CATCH_UP = 45.0  # seconds the scheduler gets after the last call ends: the spool is replayed twice

Fault = Callable[[ThrowawayCluster, str], None]


def no_fault(cluster: ThrowawayCluster, database: str) -> None:
    """The control: the harness itself files every call when nothing goes wrong."""


def restart(cluster: ThrowawayCluster, database: str) -> None:
    cluster.restart()


def stop(cluster: ThrowawayCluster, database: str) -> None:
    cluster.stop()
    try:
        time.sleep(FAULT_SECONDS)
    finally:
        cluster.start()


def freeze(cluster: ThrowawayCluster, database: str) -> None:
    try:
        cluster.freeze()
        time.sleep(FAULT_SECONDS)
    finally:
        cluster.thaw()


def read_only(cluster: ThrowawayCluster, database: str) -> None:
    try:
        cluster.set_read_only(database, True)
        time.sleep(FAULT_SECONDS)
    finally:
        cluster.set_read_only(database, False)


class Striking(threading.Thread):
    """The fault, FAULT_AT seconds from now, in its own thread; `join` raises what it raised."""

    def __init__(self, fault: Fault, cluster: ThrowawayCluster, database: str) -> None:
        super().__init__(daemon=True)
        self.fault, self.cluster, self.database = fault, cluster, database
        self.error: BaseException | None = None

    def run(self) -> None:
        time.sleep(FAULT_AT)
        try:
            self.fault(self.cluster, self.database)
        except Exception as error:  # handed to the test thread by join
            self.error = error

    def join(self, timeout: float | None = None) -> None:
        super().join(timeout)
        if self.error is not None:
            raise RuntimeError(f"the fault {self.fault.__name__} failed") from self.error


def _postgres_required() -> bool:
    return "postgresql" in os.environ.get("HOTLINE_TEST_DATABASES", "")


@pytest.fixture
def cluster() -> Iterator[ThrowawayCluster]:
    """A cluster of the scenario's own: a freeze or a stop strikes no other scenario running beside it
    (`pytest -n 5` runs the five at once, as `make test` does)."""
    listed = os.environ.get("HOTLINE_TEST_DATABASES")
    if listed is not None and not _postgres_required():
        pytest.skip("HOTLINE_TEST_DATABASES leaves PostgreSQL out; the fault tests need it")
    bin_dir = postgres_bin_dir()
    if bin_dir is None:
        reason = "no /usr/lib/postgresql/*/bin/initdb (apt-get install postgresql)"
        if _postgres_required():
            pytest.fail(f"{reason}: HOTLINE_TEST_DATABASES requires PostgreSQL", pytrace=False)
        pytest.skip(f"{reason}; CI requires it")
    with ThrowawayCluster(bin_dir) as running:
        yield running


def run_scenario(cluster: ThrowawayCluster, name: str, fault: Fault, workdir: Path) -> Table:
    database = f"hotline_faults_{name.replace(' ', '_')}_{uuid.uuid4().hex[:6]}"
    deployment = Deployment(cluster.create_database(database), workdir / f"{database}.log", workdir / "spool")
    deployment.prepare()
    with deployment.web(free_port()) as base_url:
        striking = Striking(fault, cluster, database)
        striking.start()
        try:
            placed = place_calls(base_url, PACE)
        finally:
            striking.join()
        with deployment.scheduler():
            deadline = time.monotonic() + CATCH_UP
            while True:
                table = Table(name, read_outcomes(deployment.database_url, placed, deployment.log))
                if not table.wrong or time.monotonic() > deadline:
                    break
                time.sleep(2)
    print("\n" + table.render() + f"\n  (server and scheduler log: {deployment.log})")
    return table


@pytest.mark.parametrize(
    ("name", "fault"),
    [
        ("no fault", no_fault),
        ("restart", restart),
        ("20 s stop", stop),
        ("20 s freeze", freeze),
        ("20 s read-only", read_only),
    ],
    ids=["no-fault", "restart", "stop", "freeze", "read-only"],
)
def test_every_call_is_filed_once_through_a_database_fault(
    cluster: ThrowawayCluster, name: str, fault: Fault, tmp_path: Path
) -> None:
    table = run_scenario(cluster, name, fault, tmp_path)
    figures = table.figures()
    assert figures["placed"] == PACE.calls
    if fault is no_fault:  # the control: the checks above saw whole calls, not calls that never began
        assert figures["read a reference"] == PACE.calls, table.render()
    if table.wrong:
        pytest.fail(f"{len(table.wrong)} of {PACE.calls} calls went wrong:\n{table.render()}", pytrace=False)
