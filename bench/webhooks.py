"""Whole calls through the Twilio webhooks under gunicorn on loopback, against a bare Flask endpoint.

    .venv/bin/python bench/webhooks.py                        # SQLite and PostgreSQL, 50 calls at once
    .venv/bin/python bench/webhooks.py --databases sqlite --calls 100 --concurrency 50
    HOTLINE_BENCH_POSTGRES=postgresql+psycopg://postgres@127.0.0.1:5432/postgres  (the default)

Each simulated call is the full Korean flow (greeting, field, support type, callback, message, the
recording and status callbacks): seven signed requests, exactly what Twilio sends. The bare endpoint
returns a static TwiML string from the same gunicorn set-up, hit with the same number of requests at
the same concurrency, in the same run; the ratio of the two throughputs is what the webhooks cost.
Traffic goes to 127.0.0.1 only; the scratch databases are removed at the end.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from flask import Flask, Response
from sqlalchemy import create_engine, make_url, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ivr.signature import DEVELOPMENT_AUTH_TOKEN  # noqa: E402
from ivr.simulator import CallSimulator, HttpTransport, Reply, ScriptedCaller  # noqa: E402
from tickets.db import make_engine  # noqa: E402
from tickets.migrate import upgrade  # noqa: E402

ADMIN_URL = os.environ.get("HOTLINE_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
SCRIPT = "field=2,support_type=1,callback=1,message=record:30"
STATIC_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="/ivr/voice/field?turn=1" numDigits="1">'
    '<Say language="ko-KR" voice="Polly.Seoyeon">상담받으실 기술 분야를 선택해 주세요.</Say>'
    "</Gather></Response>"
)

bare_app = Flask("bare")


@bare_app.post("/ivr/voice")
def bare_voice() -> Response:
    return Response(STATIC_TWIML, content_type="text/xml; charset=utf-8")


class TimedTransport(HttpTransport):
    def __init__(self, latencies: list[float], lock: threading.Lock) -> None:
        super().__init__()
        self.latencies, self.lock = latencies, lock

    def post(self, url: str, form: dict[str, str], headers: dict[str, str]) -> Reply:
        started = time.perf_counter()
        reply = super().post(url, form, headers)
        elapsed = time.perf_counter() - started
        with self.lock:
            self.latencies.append(elapsed)
        if reply.status != 200:
            raise RuntimeError(f"{url} answered {reply.status}")
        return reply


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _gunicorn(
    target: str, env: dict[str, str], workers: int, threads: int
) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [
        str(Path(sys.executable).parent / "gunicorn"),
        "--workers", str(workers), "--worker-class", "gthread", "--threads", str(threads),
        "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--pythonpath", f"{ROOT},{ROOT / 'bench'}",
        target,
    ]  # fmt: skip
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, base
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"gunicorn {target} did not start")


def _summary(latencies: list[float], wall: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": len(ordered),
        "rps": len(ordered) / wall,
        "p50_ms": statistics.median(ordered) * 1000,
        "p99_ms": ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000,
    }


def run_calls(base: str, calls: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    failures: list[str] = []

    def one(i: int) -> None:
        number = f"+82101{i:07d}"  # distinct callers: a repeat caller would be linked, not filed
        simulator = CallSimulator(
            TimedTransport(latencies, lock),
            base,
            DEVELOPMENT_AUTH_TOKEN,
            ScriptedCaller(SCRIPT),
            from_number=number,
        )
        result = simulator.run()
        if result.ended_by != "hangup":
            failures.append(result.ended_by)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(calls)))
    wall = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} calls failed, e.g. {failures[0]}")
    return _summary(latencies, wall)


def run_bare(base: str, requests: int, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    lock = threading.Lock()
    transport = TimedTransport(latencies, lock)
    form = {"CallSid": "CA" + "0" * 32, "From": "+821012345678", "To": "+827040001379", "Digits": "2"}

    def one(_: int) -> None:
        transport.post(f"{base}/ivr/voice", form, {})

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(requests)))
    return _summary(latencies, time.perf_counter() - started)


def _scratch_database(kind: str, workdir: Path) -> tuple[str, Any]:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}", lambda: None
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    name = f"hotline_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False), drop


def bench(kind: str, calls: int, concurrency: int, workers: int, threads: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = _scratch_database(kind, Path(tmp))
        try:
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
            env = {k: v for k, v in os.environ.items() if k not in ("PUBLIC_BASE_URL", "TWILIO_AUTH_TOKEN")}
            env.update(DATABASE_URL=url, SECRET_KEY="bench")
            hotline, hotline_base = _gunicorn("ivr.wsgi:app", env, workers, threads)
            bare, bare_base = _gunicorn("webhooks:bare_app", env, workers, threads)
            try:
                run_calls(hotline_base, min(calls, concurrency), concurrency)  # warm-up: imports, pools
                run_bare(bare_base, 7 * min(calls, concurrency), concurrency)
                real = run_calls(hotline_base, calls, concurrency)
                static = run_bare(bare_base, int(real["requests"]), concurrency)
            finally:
                for process in (hotline, bare):
                    process.terminate()
                    process.wait(timeout=10)
        finally:
            drop()
    print(f"{kind}: {calls} calls, {int(real['requests'])} requests, {concurrency} at once")
    for label, figures in (("call steps", real), ("bare TwiML", static)):
        print(
            f"  {label:<11} {figures['rps']:7.0f} req/s   p50 {figures['p50_ms']:6.1f} ms"
            f"   p99 {figures['p99_ms']:6.1f} ms"
        )
    print(f"  throughput ratio (call steps / bare): {real['rps'] / static['rps']:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    print(f"gunicorn: {args.workers} workers x {args.threads} threads (gthread), on {os.cpu_count()} CPUs")
    for kind in args.databases.split(","):
        bench(kind.strip(), args.calls, args.concurrency, args.workers, args.threads)


if __name__ == "__main__":
    main()
