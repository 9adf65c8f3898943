"""Whole calls through the Twilio webhooks under gunicorn on loopback: latency under a burst.

    .venv/bin/python bench/webhooks.py                                        # both databases, ~5 minutes
    .venv/bin/python bench/webhooks.py --databases postgresql --calls 200 --seconds 20   # a quick look
    HOTLINE_BENCH_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the default)

A call is the full Korean flow, seven signed requests as Twilio sends them: POST /ivr/voice, the steps
field, support_type (1), callback (1) and message (a 30 s recording), then the recording and status
callbacks. The calls spread over the six fields in turn. Every request carries a valid X-Twilio-Signature
that the app checks, and every step is posted to the action URL the previous TwiML named (with its turn
number), so the app does exactly the work of a real call.

For each burst size in `--calls`, that many calls are in progress at once for `--seconds`, each caller
waiting a think time drawn from `--think` seconds (listening to a prompt, pressing a key) between its
requests; a finished call is replaced by a new one. Reported: p50, p99 and max of every webhook response,
the p99 of each kind of request, and per whole call gunicorn's CPU time and the time its threads were
ready to run but waited for a CPU (both from /proc/*/task/*/schedstat: on a shared machine the CPU time is
steadier than the latencies, and the wait shows how much of them the other work on the machine took).
Any answer but 200 stops the run, and after each database the script checks that every call it placed
left exactly one complete ticket with its recording: no call lost.

gunicorn runs `--gunicorn WORKERSxTHREADS` (one thread: gunicorn's sync worker; more: gthread, as
`hotline web` serves). SQLite defaults to one process with 8 threads: it lets one
transaction at a time write the file and every webhook writes, so a second process would only wait in
SQLite's sleeping busy handler, while the threads of one process take turns on a lock (ivr.webhooks).
PostgreSQL defaults to `hotline web`'s own setting, 2 × 8.

The load generator is one asyncio process with hand-written HTTP/1.1 (keep-alive where the worker allows
it) and HMAC signatures computed directly (checked once against twilio's RequestValidator), so it costs
little of the CPUs it shares with the servers. Traffic goes to 127.0.0.1 only; the scratch databases are
removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import hmac
import itertools
import os
import random
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from ivr.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402

ADMIN_URL = os.environ.get("HOTLINE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEPLOYMENT = {"sqlite": (1, 8), "postgresql": (2, 8)}  # gunicorn (workers, threads); see above
# (database, calls at once): the p99 of every webhook response must stay under this (bench/README.md)
TARGET_P99_MS = {("sqlite", 50): 50, ("postgresql", 50): 50, ("postgresql", 200): 250}
ACCOUNT_SID = "AC" + "0" * 32
RECORDING = {
    "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE",
    "RecordingDuration": "30",
}
FIELDS = "123456"
# (step, what the caller sends): a field (in turn), support type 1, "call me back on this number",
# a 30 s message
STEPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("field", {}),
    ("support_type", {"Digits": "1"}),
    ("callback", {"Digits": "1"}),
    ("message", {**RECORDING, "Digits": "#"}),
)
_ACTION = re.compile(rb'action="([^"]+)"')
_CALLERS = itertools.count()  # every call from its own number (010-9xxx-xxxx): no repeat-call linking
_FIELD_TURNS = itertools.count()


def sign(url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 of the URL followed by each parameter name and value,
    sorted by name (what RequestValidator.compute_signature does, without its URL parsing)."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(DEVELOPMENT_AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class CallFailed(RuntimeError):
    pass


class Connection:
    """One HTTP/1.1 connection to the server, kept alive; reconnects when the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.host = f"127.0.0.1:{port}".encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def post(self, path: str, body: bytes, signature: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(
            b"POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"X-Twilio-Signature: %s\r\nContent-Length: %d\r\n\r\n%s"
            % (path.encode(), self.host, signature.encode(), len(body), body)
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        lower = head.lower()
        start = lower.index(b"content-length:") + 15
        length = int(lower[start : lower.index(b"\r\n", start)])
        payload = await self.reader.readexactly(length)
        if b"connection: close" in lower:
            self.close()
        return status, payload

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


@dataclass
class Tally:
    """Latencies of every request, and the calls that went all the way through."""

    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)  # "voice", "field", …, "status"
    calls: int = 0

    async def timed(self, connection: Connection, path: str, body: bytes, signature: str) -> bytes:
        started = time.perf_counter()
        status, payload = await connection.post(path, body, signature)
        elapsed = time.perf_counter() - started
        self.latencies.append(elapsed)
        self.by_kind.setdefault(path.partition("?")[0].rpartition("/")[2], []).append(elapsed)
        if status != 200:
            raise CallFailed(f"{path} answered {status}: {payload[:200]!r}")
        return payload


async def place_call(connection: Connection, base: str, tally: Tally, think: Callable[[], float]) -> None:
    """One whole call, following the action URL of each TwiML answer; `think()` seconds between steps."""
    call_sid = "CA" + uuid.uuid4().hex
    caller = f"+82109{next(_CALLERS):07d}"
    field_digit = FIELDS[next(_FIELD_TURNS) % len(FIELDS)]
    common = {"AccountSid": ACCOUNT_SID, "CallSid": call_sid, "From": caller, "To": "+827040001379"}

    async def post(url: str, params: dict[str, str]) -> bytes:
        body = urlencode(params).encode()
        return await tally.timed(connection, url[len(base) :], body, sign(url, params))

    url = base + "/ivr/voice"
    answer = await post(url, {**common, "CallStatus": "ringing", "Direction": "inbound"})
    for step, reply in STEPS:
        match = _ACTION.search(answer)
        url = match.group(1).decode().replace("&amp;", "&") if match else ""
        if urlsplit(url).path != f"/ivr/voice/{step}":
            raise CallFailed(f"{call_sid}: expected the {step} step, the TwiML said {answer[:300]!r}")
        await asyncio.sleep(think())
        answer = await post(
            url, {**common, "CallStatus": "in-progress", **(reply or {"Digits": field_digit})}
        )
    if b"<Hangup" not in answer:
        raise CallFailed(f"{call_sid}: no farewell after the message: {answer[:300]!r}")
    await post(base + "/ivr/recording", {**common, **RECORDING, "RecordingSid": "RE" + call_sid[2:],
                                         "RecordingStatus": "completed"})  # fmt: skip
    await asyncio.sleep(think())  # the farewell is being said
    await post(base + "/ivr/status", {**common, "CallStatus": "completed", "CallDuration": "95"})
    tally.calls += 1


async def drive(port: int, calls: int, seconds: float, think: Callable[[], float]) -> Tally:
    """`calls` callers each placing one call after another until `seconds` have passed (the last call
    ends)."""
    base = f"http://127.0.0.1:{port}"
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def caller() -> None:
        connection = Connection(port)
        await asyncio.sleep(think() * random.random())  # calls do not all start in the same instant
        try:
            while time.perf_counter() < deadline:
                await place_call(connection, base, tally, think)
        finally:
            connection.close()

    await asyncio.gather(*(caller() for _ in range(calls)))
    return tally


# --- figures ---------------------------------------------------------------------------------------


@dataclass
class Figures:
    load_average: float  # at the start: the machine is shared
    calls: int
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    p99_by_kind: dict[str, float]
    server_cpu_per_call_ms: float  # gunicorn, master and workers
    server_wait_per_call_ms: float  # gunicorn runnable but waiting for a CPU
    client_cpu_per_call_ms: float  # this process


def _percentile(latencies: list[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def measure(server: Server, calls: int, seconds: float, think: Callable[[], float]) -> Figures:
    load_average = os.getloadavg()[0]
    server_before, client_before = server.cpu_and_wait(), time.process_time()
    started = time.perf_counter()
    tally = asyncio.run(drive(server.port, calls, seconds, think))
    wall = time.perf_counter() - started
    (server_cpu, server_wait), client_cpu = server.cpu_and_wait(), time.process_time() - client_before
    server_cpu, server_wait = server_cpu - server_before[0], server_wait - server_before[1]
    return Figures(
        load_average=load_average,
        calls=tally.calls,
        requests=len(tally.latencies),
        rps=len(tally.latencies) / wall,
        p50_ms=_percentile(tally.latencies, 0.5),
        p99_ms=_percentile(tally.latencies, 0.99),
        max_ms=max(tally.latencies) * 1000,
        p99_by_kind={kind: _percentile(values, 0.99) for kind, values in tally.by_kind.items()},
        server_cpu_per_call_ms=server_cpu / tally.calls * 1000,
        server_wait_per_call_ms=server_wait / tally.calls * 1000,
        client_cpu_per_call_ms=client_cpu / tally.calls * 1000,
    )


# --- the server and its database --------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def cpu_and_wait(self) -> tuple[float, float]:
        """Seconds the gunicorn master and workers have run on a CPU, and waited for one while runnable.

        CPU time comes from each process's /proc/PID/stat, which counts every thread, the short-lived
        thread each webhook's work runs in included (per-thread figures leave with their thread). The
        wait comes from the kernel's schedstat of the threads still alive (the request threads), so it
        leaves the work threads' wait out: a floor, on a shared machine the other work's share of the time.
        """
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(pid) for pid in children.read_text().split()] if children.exists() else []
        ticks = os.sysconf("SC_CLK_TCK")
        on_cpu = waiting = 0.0
        for pid in pids:
            with contextlib.suppress(OSError):
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                on_cpu += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime of all its threads
            for task in Path(f"/proc/{pid}/task").glob("*/schedstat"):
                with contextlib.suppress(OSError):
                    waiting += int(task.read_text().split()[1]) / 1e9
        return on_cpu, waiting


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(env: dict[str, str], workers: int, threads: int, keep_alive: int) -> Iterator[Server]:
    """The hotline under gunicorn: sync workers for one thread, gthread for more (gunicorn's own rule)."""
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", str(workers), "--threads", str(threads), "--keep-alive", str(keep_alive),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--pythonpath", str(ROOT), "ivr.wsgi:app",
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    try:
        for _ in range(400):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError("gunicorn did not start")
        yield Server(process, port)
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def scratch_database(kind: str, workdir: Path) -> Iterator[str]:
    """A migrated database with the demo consultants (routing has experts to choose from)."""
    if kind == "sqlite":
        url, drop = f"sqlite:///{workdir / 'bench.sqlite3'}", None
    else:
        admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
        name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)

        def drop() -> None:
            with admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()

    try:
        _migrate_and_seed(url)
        yield url
    finally:
        if drop is not None:
            drop()


def _migrate_and_seed(url: str) -> None:
    from ivr.app import create_app
    from ivr.config import load_config
    from tickets import demo
    from tickets.db import db, make_engine
    from tickets.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    config = load_config(environ={"DATABASE_URL": url, "SECRET_KEY": "bench"})
    app = create_app(config)
    with app.app_context(), db.transaction() as session:
        demo.seed(session, config)
    db.of(app).engine.dispose()


def replay_spool(url: str, spool: str) -> int:
    """Replay what the server spooled (webhooks that outlived answer_seconds), as the scheduler's job would;
    returns how many. Their callers heard the apology and left their message, which is kept."""
    from ivr.app import create_app
    from ivr.config import load_config
    from ivr.webhooks import replay_spooled
    from tickets.db import db

    environ = {"DATABASE_URL": url, "SECRET_KEY": "bench", "HOTLINE_SPOOL_DIR": spool}
    app = create_app(load_config(environ=environ))
    try:
        return replay_spooled(app)
    finally:
        db.of(app).engine.dispose()  # the database is dropped next: no connection may stay open


def check_tickets(url: str, calls: int) -> None:
    """Every call the benchmark placed left one complete ticket with its recording (demo calls aside)."""
    engine = create_engine(url)
    with engine.connect() as connection:
        rows, filed = connection.execute(
            text("SELECT count(*), count(t.id) FROM calls c LEFT JOIN tickets t ON t.call_id = c.id "
                 "AND c.flow_completed AND c.status = 'completed' AND NOT t.incomplete "
                 "AND t.recording_url IS NOT NULL WHERE c.call_sid NOT LIKE 'CAdemo%'")
        ).one()  # fmt: skip
    engine.dispose()
    if rows != calls or filed != calls:
        raise RuntimeError(
            f"{calls} calls placed, {rows} call rows, {filed} complete tickets with a recording"
        )


# --- the run ---------------------------------------------------------------------------------------


def bench(kind: str, args: argparse.Namespace) -> None:
    workers, threads = DEPLOYMENT[kind]
    if args.gunicorn:
        workers, threads = (int(n) for n in args.gunicorn.split("x"))
    lo, hi = args.think
    think = lambda: random.uniform(lo, hi)  # noqa: E731
    placed = 0
    results: dict[int, Figures] = {}
    with tempfile.TemporaryDirectory() as tmp, scratch_database(kind, Path(tmp)) as url:
        env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN")}
        # A spool of this run's own: what it keeps must replay into this database, not a later run's.
        spool = str(Path(tmp) / "spool")
        env.update(DATABASE_URL=url, SECRET_KEY="bench", HOTLINE_SPOOL_DIR=spool)
        with gunicorn(env, workers, threads, keep_alive=int(hi) + 5) as server:
            placed += measure(server, 10, 3, lambda: 0.0).calls  # warm-up: imports, pools, caches
            for calls in args.calls:
                results[calls] = measure(server, calls, args.seconds, think)
                placed += results[calls].calls
        late = replay_spool(url, spool)
        check_tickets(url, placed)
    kind_of_worker = "sync" if threads == 1 else f"gthread x {threads} threads"
    print(f"\n{kind}: gunicorn {workers} worker(s), {kind_of_worker}; {placed} whole calls, every one filed")
    if late:
        print(
            f"  {late} webhook(s) not saved within answer_seconds: spooled, replayed after the run as the"
            " scheduler would, and counted above"
        )
    print(f"  {args.seconds:g} s per burst, {lo:g}-{hi:g} s between a caller's steps")
    for calls, f in results.items():
        target = ""
        if (kind, calls) in TARGET_P99_MS:
            met = "met" if f.p99_ms < TARGET_P99_MS[kind, calls] else "NOT met"
            target = f" (target < {TARGET_P99_MS[kind, calls]} ms: {met})"
        print(
            f"  {calls} calls at once, load average {f.load_average:.1f} at the start:\n"
            f"    p50 {f.p50_ms:.1f} ms  p99 {f.p99_ms:.1f} ms{target}"
            f"  max {f.max_ms:.0f} ms  ({f.calls} calls, {f.requests} requests, {f.rps:.0f} req/s)"
        )
        print("    p99 by request: " + ", ".join(f"{k} {ms:.0f} ms" for k, ms in f.p99_by_kind.items()))
        print(f"    per whole call: gunicorn {f.server_cpu_per_call_ms:.1f} ms on a CPU and"
              f" {f.server_wait_per_call_ms:.1f} ms waiting for one; this load generator"
              f" {f.client_cpu_per_call_ms:.1f} ms of CPU")  # fmt: skip


def _think(text_value: str) -> tuple[float, float]:
    lo, _, hi = text_value.partition("-")
    return float(lo), float(hi or lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--calls", default="50,200", help="burst sizes: calls in progress at once")
    parser.add_argument("--seconds", type=float, default=60, help="length of each burst")
    parser.add_argument("--think", type=_think, default=(1.0, 2.0), help="seconds between steps, e.g. 1-2")
    parser.add_argument("--gunicorn", help="WORKERSxTHREADS instead of the defaults above, e.g. 2x8")
    args = parser.parse_args()
    args.calls = [int(n) for n in args.calls.split(",")]
    expected = RequestValidator(DEVELOPMENT_AUTH_TOKEN).compute_signature(
        "http://h/x?a=1", {"b": "2", "a": "1"}
    )
    assert sign("http://h/x?a=1", {"b": "2", "a": "1"}) == expected, "signature differs from Twilio's"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    for kind in args.databases.split(","):
        bench(kind.strip(), args)


if __name__ == "__main__":
    main()
