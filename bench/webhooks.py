"""Whole calls through the Twilio webhooks under gunicorn on loopback, against a bare Flask endpoint.

    .venv/bin/python bench/webhooks.py                              # SQLite and PostgreSQL, ~5 minutes
    .venv/bin/python bench/webhooks.py --databases sqlite --seconds 5 --paced-seconds 20   # a quick look
    HOTLINE_BENCH_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the default)

A call is the full Korean flow, seven signed requests as Twilio sends them: POST /ivr/voice, the steps
field, support_type (1), callback (1) and message (a 30 s recording), then the recording and status
callbacks. The calls spread over the six fields in turn (`--fields`), as a hotline's calls do; routing
locks a field's consultants while it picks one, so `--fields 2` (every call for one field) is the worst
case. Every request carries a valid X-Twilio-Signature that the app checks, and every step is posted
to the action URL the previous TwiML named (with its turn number), so the app does exactly the work of a
real call: signature check, the call row locked, moved on and committed, and at `message` the ticket, its
routing, deadline, events and the confirmation SMS in the outbox. After each database the run checks that
every call placed left exactly one complete ticket.

Two measurements per database, each against the hotline and a bare Flask endpoint that answers a static
TwiML string, both served by the same gunicorn settings, in the same run:

1. Throughput (closed loop): `--clients` connections each send their next request as soon as the answer
   arrives, for `--seconds` per round, alternating hotline and bare for `--rounds` rounds so that noise
   from other work on the machine hits both alike. The ratio of the two request rates is what the call
   flow costs relative to an endpoint that does nothing. A third server, the floor, is measured in the
   same rounds: the bare endpoint plus the signature check (twilio's RequestValidator over the form) and
   one UPDATE that commits on its own through the raw DBAPI connection, the least any webhook that checks
   Twilio's signature and saves anything at all must do; its ratio to the bare endpoint bounds what the
   hotline's ratio could ever be on that database. gunicorn's CPU seconds per
   request (read from /proc) are printed too: on a shared machine they are steadier than the rates.
2. Latency as a hotline sees it (open, paced): `--calls` calls in progress at once, each caller waiting a
   think time drawn from `--think` seconds (listening to a prompt, pressing a key) between its requests;
   a finished call is replaced by a new one. p50, p99 and max of the webhook response times, the p99 of
   each kind of request, and the bare endpoint under the same pacing (for a third of the time) as the
   floor the machine itself sets. Real callers are slower still (a prompt takes several seconds to
   say), so this is a heavier load than 50 real calls.

gunicorn runs gthread workers (`--gunicorn WORKERSxTHREADS` overrides). SQLite: one process with 8
threads. SQLite lets one transaction at a time write the file and every webhook writes, so a second
process would only wait for the file lock in SQLite's busy handler, which sleeps up to 100 ms between
tries; inside one process the webhook threads take turns on a lock (ivr.webhooks) and are woken the
moment the previous one commits. PostgreSQL: two processes of 8 threads, one per core, since calls only
lock their own row. Keep-alive outlasts the think time, as a proxy's connection pool would.

The load generator is one asyncio process with hand-written HTTP/1.1 over keep-alive connections and
HMAC signatures computed directly (checked once against twilio's RequestValidator), so it costs little
of the two CPUs it shares with the servers; its own CPU per request is printed. Traffic goes to
127.0.0.1 only; the scratch databases are removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import functools
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
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode, urlsplit

from flask import Flask, Response, request
from sqlalchemy import Engine, create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from twilio.request_validator import RequestValidator  # noqa: E402

from ivr.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402

ADMIN_URL = os.environ.get("HOTLINE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEPLOYMENT = {"sqlite": (1, 8), "postgresql": (2, 8)}  # gunicorn (workers, threads) on 2 cores; see above
ACCOUNT_SID = "AC" + "0" * 32
RECORDING = {
    "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC/Recordings/RE",
    "RecordingDuration": "30",
}
# (step, what the caller sends): a field (see --fields), support type 1, "call me back on this number",
# a 30 s message
STEPS: tuple[tuple[str, dict[str, str]], ...] = (
    ("field", {}),
    ("support_type", {"Digits": "1"}),
    ("callback", {"Digits": "1"}),
    ("message", {**RECORDING, "Digits": "#"}),
)
STATIC_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="/ivr/voice/field?turn=1" numDigits="1">'
    '<Say language="ko-KR" voice="Polly.Seoyeon">상담받으실 기술 분야를 선택해 주세요.</Say>'
    "</Gather></Response>"
)
_ACTION = re.compile(rb'action="([^"]+)"')
_CALLERS = itertools.count()  # every call from its own number (010-9xxx-xxxx): no repeat-call linking
_FIELD_TURNS = itertools.count()

bare_app = Flask("bare")


@bare_app.post("/ivr/voice")
def bare_voice() -> Response:
    return Response(STATIC_TWIML, content_type="text/xml; charset=utf-8")


# The floor under any signed, durable webhook: the bare endpoint plus the least a step that checks the
# signature and saves anything at all can do: twilio's RequestValidator over the form, then one row changed
# by one UPDATE that commits on its own, through the raw DBAPI connection (no transaction around it, no
# read, no ORM, no flow, no TwiML of its own). The hotline reads the call's state and locks the row too.
floor_app = Flask("floor")
FLOOR_ROWS = 500
_floor: dict[str, Any] = {}


def _floor_engine() -> Engine:
    if "engine" not in _floor:
        from tickets.db import make_engine

        url = os.environ["DATABASE_URL"]
        _floor["engine"] = make_engine(url, pool_size=16)
        _floor["sqlite"] = url.startswith("sqlite")
        _floor["writer"] = threading.Lock() if _floor["sqlite"] else contextlib.nullcontext()
        _floor["validator"] = RequestValidator(DEVELOPMENT_AUTH_TOKEN)
    return cast(Engine, _floor["engine"])


@floor_app.post("/ivr/voice")
def floor_voice() -> Response:
    engine, row = _floor_engine(), random.randrange(FLOOR_ROWS)
    signature = request.headers.get("X-Twilio-Signature", "")
    if not _floor["validator"].validate(request.url, request.form, signature):
        return Response("forged", status=403)
    with _floor["writer"]:  # SQLite: the webhooks' one-writer-per-process lock (ivr.webhooks)
        connection = engine.raw_connection()
        try:
            driver: Any = connection.driver_connection
            if _floor["sqlite"]:  # tickets.db leaves pysqlite in autocommit: each statement commits
                driver.execute("UPDATE bench_floor SET n = n + 1 WHERE id = ?", (row,))
            else:
                if not driver.autocommit:
                    driver.rollback()
                    driver.autocommit = True
                driver.execute("UPDATE bench_floor SET n = n + 1 WHERE id = %s", (row,))
        finally:
            connection.close()
    return Response(STATIC_TWIML, content_type="text/xml; charset=utf-8")


# --- signing and HTTP, kept cheap --------------------------------------------------------------------


def sign(url: str, params: dict[str, str]) -> str:
    """Twilio's X-Twilio-Signature: HMAC-SHA1 of the URL followed by each parameter name and value,
    sorted by name (what RequestValidator.compute_signature does, without its URL parsing)."""
    data = url + "".join(name + params[name] for name in sorted(params))
    digest = hmac.new(DEVELOPMENT_AUTH_TOKEN.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class CallFailed(RuntimeError):
    pass


class Connection:
    """One keep-alive HTTP/1.1 connection to the server; reconnects when the server closes it."""

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


async def place_call(
    connection: Connection,
    base: str,
    caller: str,
    tally: Tally,
    think: Callable[[], float],
    *,
    fields: str = "123456",
) -> None:
    """One whole call, following the action URL of each TwiML answer; `think()` seconds between steps.
    The caller picks one of the field digits `fields`, in turn with the other calls."""
    call_sid = "CA" + uuid.uuid4().hex
    field_digit = fields[next(_FIELD_TURNS) % len(fields)]
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
        await _sleep(think())
        answer = await post(
            url, {**common, "CallStatus": "in-progress", **(reply or {"Digits": field_digit})}
        )
    if b"<Hangup" not in answer:
        raise CallFailed(f"{call_sid}: no farewell after the message: {answer[:300]!r}")
    await post(base + "/ivr/recording", {**common, **RECORDING, "RecordingSid": "RE" + call_sid[2:],
                                         "RecordingStatus": "completed"})  # fmt: skip
    await _sleep(think())  # the farewell is being said
    await post(base + "/ivr/status", {**common, "CallStatus": "completed", "CallDuration": "95"})
    tally.calls += 1


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)


async def bare_request(connection: Connection, base: str, caller: str, tally: Tally) -> None:
    """What the bare endpoint gets: a signed form like a step's (it checks nothing)."""
    params = {"AccountSid": ACCOUNT_SID, "CallSid": "CA" + uuid.uuid4().hex, "From": caller, "Digits": "2"}
    url = base + "/ivr/voice"
    await tally.timed(connection, "/ivr/voice", urlencode(params).encode(), sign(url, params))


# --- the two measurements ----------------------------------------------------------------------------


Work = Callable[[Connection, str, str, Tally, Callable[[], float]], Awaitable[None]]


async def _bare_call(
    connection: Connection, base: str, caller: str, tally: Tally, think: Callable[[], float]
) -> None:
    """A "call" of seven bare requests with the same pacing as a hotline call."""
    for _ in range(7):
        await bare_request(connection, base, caller, tally)
        await _sleep(think())


async def drive(
    port: int, clients: int, seconds: float, work: Work, think: Callable[[], float]
) -> tuple[Tally, float]:
    """`clients` callers each doing `work` over and over until `seconds` have passed (the last call ends)."""
    base = f"http://127.0.0.1:{port}"
    tally = Tally()
    deadline = time.perf_counter() + seconds

    async def caller(index: int) -> None:
        connection = Connection(port)
        await _sleep(think() * random.random())  # calls do not all start in the same instant
        try:
            while time.perf_counter() < deadline:
                await work(connection, base, f"+82109{next(_CALLERS):07d}", tally, think)
        finally:
            connection.close()

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(clients)))
    return tally, time.perf_counter() - started


@dataclass
class Figures:
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    server_cpu_ms: float  # gunicorn CPU per request
    client_cpu_ms: float  # this process's CPU per request
    p99_by_kind: dict[str, float] = field(default_factory=dict)


def _percentile(latencies: list[float], fraction: float) -> float:
    ordered = sorted(latencies)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))] * 1000


def figures(tally: Tally, wall: float, server_cpu: float, client_cpu: float) -> Figures:
    n = len(tally.latencies)
    return Figures(
        requests=n,
        rps=n / wall,
        p50_ms=_percentile(tally.latencies, 0.5),
        p99_ms=_percentile(tally.latencies, 0.99),
        max_ms=max(tally.latencies) * 1000,
        server_cpu_ms=server_cpu / n * 1000,
        client_cpu_ms=client_cpu / n * 1000,
        p99_by_kind={kind: _percentile(values, 0.99) for kind, values in tally.by_kind.items()},
    )


def measure(
    server: Server, clients: int, seconds: float, work: Work, think: Callable[[], float]
) -> tuple[Figures, int]:
    """The figures of one run, and how many whole calls it completed."""
    server_before, client_before = server.cpu_seconds(), time.process_time()
    tally, wall = asyncio.run(drive(server.port, clients, seconds, work, think))
    cpu = server.cpu_seconds() - server_before, time.process_time() - client_before
    return figures(tally, wall, *cpu), tally.calls


def merge(rounds: list[Figures]) -> Figures:
    """Several rounds of one kind as one: request-weighted means (percentiles only for show here)."""
    n = sum(r.requests for r in rounds)
    return Figures(
        requests=n,
        rps=n / sum(r.requests / r.rps for r in rounds),
        p50_ms=max(r.p50_ms for r in rounds),
        p99_ms=max(r.p99_ms for r in rounds),
        max_ms=max(r.max_ms for r in rounds),
        server_cpu_ms=sum(r.server_cpu_ms * r.requests for r in rounds) / n,
        client_cpu_ms=sum(r.client_cpu_ms * r.requests for r in rounds) / n,
    )


# --- servers and databases ---------------------------------------------------------------------------


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    def cpu_seconds(self) -> float:
        """User + system CPU of the gunicorn master and its workers so far."""
        tick = os.sysconf("SC_CLK_TCK")
        pids = [self.process.pid]
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        pids += [int(pid) for pid in children.read_text().split()] if children.exists() else []
        total = 0
        for pid in pids:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gunicorn(
    target: str, env: dict[str, str], workers: int, threads: int, keep_alive: int
) -> Iterator[Server]:
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
        "--keep-alive", str(keep_alive), "--bind", f"127.0.0.1:{port}", "--log-level", "warning",
        "--pythonpath", f"{ROOT},{ROOT / 'bench'}", target,
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
            raise RuntimeError(f"gunicorn {target} did not start")
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
    assert db.engine is not None
    with db.engine.begin() as connection:  # the floor endpoint's rows
        connection.execute(text("CREATE TABLE bench_floor (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        connection.execute(
            text("INSERT INTO bench_floor (id, n) VALUES (:id, 0)"), [{"id": n} for n in range(FLOOR_ROWS)]
        )
    db.engine.dispose()


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


# --- the run -------------------------------------------------------------------------------------------


def bench(kind: str, args: argparse.Namespace) -> dict[str, Figures]:
    workers, threads = DEPLOYMENT[kind]
    if args.gunicorn:
        workers, threads = (int(n) for n in args.gunicorn.split("x"))
    lo, hi = args.think
    paced = lambda: random.uniform(lo, hi)  # noqa: E731
    no_wait = lambda: 0.0  # noqa: E731
    keep_alive = int(hi) + 5
    results: dict[str, Figures] = {}
    with tempfile.TemporaryDirectory() as tmp, scratch_database(kind, Path(tmp)) as url:
        env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN")}
        env.update(DATABASE_URL=url, SECRET_KEY="bench")
        with (
            gunicorn("ivr.wsgi:app", env, workers, threads, keep_alive) as hotline,
            gunicorn("webhooks:bare_app", env, workers, threads, keep_alive) as bare,
            gunicorn("webhooks:floor_app", env, workers, threads, keep_alive) as floor,
        ):
            calls = 0
            whole_call = functools.partial(place_call, fields=args.fields)

            def hotline_run(clients: int, seconds: float, think: Callable[[], float]) -> Figures:
                nonlocal calls
                result, placed = measure(hotline, clients, seconds, whole_call, think)
                calls += placed
                return result

            def bare_run(
                clients: int, seconds: float, think: Callable[[], float], server: Server = bare
            ) -> Figures:
                return measure(server, clients, seconds, _bare_call, think)[0]

            hotline_run(args.clients, 2, no_wait)  # warm-up: imports, connection pools, caches
            bare_run(args.clients, 2, no_wait)
            bare_run(args.clients, 2, no_wait, floor)
            steps, statics, floors = [], [], []
            for _ in range(args.rounds):
                steps.append(hotline_run(args.clients, args.seconds, no_wait))
                statics.append(bare_run(args.clients, args.seconds, no_wait))
                floors.append(bare_run(args.clients, args.seconds, no_wait, floor))
            results["call steps"], results["bare TwiML"] = merge(steps), merge(statics)
            results["signed write"] = merge(floors)
            results["paced call steps"] = hotline_run(args.calls, args.paced_seconds, paced)
            results["paced bare TwiML"] = bare_run(args.calls, args.paced_seconds / 3, paced)
        check_tickets(url, calls)
    report(kind, workers, threads, args, results, calls)
    return results


def report(kind: str, workers: int, threads: int, args: argparse.Namespace, results: dict[str, Figures],
           calls: int) -> None:  # fmt: skip
    steps, static = results["call steps"], results["bare TwiML"]
    print(f"\n{kind}: gunicorn {workers} worker(s) x {threads} threads; {calls} whole calls, all filed"
          f" (fields {','.join(args.fields)})")  # fmt: skip
    print(f"  throughput, {args.clients} clients closed loop, {args.rounds} x {args.seconds:g} s each:")
    for label in ("call steps", "bare TwiML", "signed write"):
        f = results[label]
        print(f"    {label:<13} {f.rps:7.0f} req/s  server CPU {f.server_cpu_ms:5.2f} ms/req"
              f"  client CPU {f.client_cpu_ms:4.2f} ms/req  ({f.requests} requests)")  # fmt: skip
    print(f"    ratio (call steps / bare): {steps.rps / static.rps:.2f} by rate, "
          f"{static.server_cpu_ms / steps.server_cpu_ms:.2f} by server CPU")  # fmt: skip
    floor = results["signed write"]
    print(f"    floor (signed write / bare): {floor.rps / static.rps:.2f} by rate, "
          f"{static.server_cpu_ms / floor.server_cpu_ms:.2f} by server CPU")  # fmt: skip
    print(f"  latency, {args.calls} calls at once, {args.think[0]:g}-{args.think[1]:g} s between steps:")
    for label in ("paced call steps", "paced bare TwiML"):
        f = results[label]
        print(f"    {label[6:]:<11} p50 {f.p50_ms:6.1f} ms  p99 {f.p99_ms:6.1f} ms  max {f.max_ms:6.1f} ms"
              f"  ({f.requests} requests, {f.rps:.0f} req/s)")  # fmt: skip
    kinds = results["paced call steps"].p99_by_kind
    print("    p99 by request: " + ", ".join(f"{kind} {ms:.0f} ms" for kind, ms in kinds.items()))
    met = steps.rps / static.rps >= 1 / 3 and results["paced call steps"].p99_ms < 50
    print(f"  target (ratio >= 0.33, p99 < 50 ms): {'met' if met else 'NOT met'}")


def _think(text_value: str) -> tuple[float, float]:
    lo, _, hi = text_value.partition("-")
    return float(lo), float(hi or lo)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--clients", type=int, default=50, help="connections in the throughput test")
    parser.add_argument("--seconds", type=float, default=10, help="length of one throughput round")
    parser.add_argument("--rounds", type=int, default=3, help="hotline/bare rounds, alternating")
    parser.add_argument("--calls", type=int, default=50, help="calls at once in the latency test")
    parser.add_argument("--think", type=_think, default=(1.0, 2.0), help="seconds between steps, e.g. 1-2")
    parser.add_argument("--paced-seconds", type=float, default=60, help="length of the latency test")
    parser.add_argument("--fields", default="123456", help="field digits the calls pick in turn; 2 = all one")
    parser.add_argument("--gunicorn", help="WORKERSxTHREADS instead of the deployment above, e.g. 4x4")
    args = parser.parse_args()
    expected = RequestValidator(DEVELOPMENT_AUTH_TOKEN).compute_signature(
        "http://h/x?a=1", {"b": "2", "a": "1"}
    )
    assert sign("http://h/x?a=1", {"b": "2", "a": "1"}) == expected, "signature differs from Twilio's"
    print(f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at the start")
    for kind in args.databases.split(","):
        bench(kind.strip(), args)


if __name__ == "__main__":
    main()
