"""Prometheus metrics: requests and calls counted as they happen, served at /metrics with the database's
figures (ivr.metrics_database) read at scrape time.

Off unless `metrics.enabled`; then /metrics answers the networks in `metrics.allow_cidrs` or a bearer of
METRICS_TOKEN, and nobody else. Under gunicorn each worker counts in its own files (ivr.server sets
PROMETHEUS_MULTIPROC_DIR before the workers fork) and a scrape adds them up, so any worker may answer it.
prometheus_client is imported only when first needed, in the worker: it picks its storage on import.
"""

from __future__ import annotations

import hmac
import os
import threading
import time
from dataclasses import dataclass
from functools import cache
from ipaddress import ip_address
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from ivr.server import MULTIPROC_ENV
from tickets.db import db

if TYPE_CHECKING:
    from prometheus_client import Counter, Histogram

bp = Blueprint("metrics", __name__)
db.read_only_gets(bp)

CALL_OUTCOMES = ("filed", "incomplete", "missed", "apology")
_STARTED = "hotline.metrics.started"  # request.environ: when the request began (time.monotonic)
_PENDING = "hotline_call_outcomes"  # Session.info: outcomes counted once the session commits
# Webhooks answer within seconds (database.answer_seconds); the alert rule's p99 threshold is 1 s.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


@dataclass(frozen=True)
class _Instruments:
    requests: Counter
    latency: Histogram
    calls_started: Counter
    calls_finished: Counter


_creating = threading.Lock()


def _instruments() -> _Instruments:
    """Made on first use (the multiprocess directory is set by then), once: two webhooks' threads asking at
    the same moment would otherwise both register the same metric names, and one would fail."""
    with _creating:
        return _make_instruments()


@cache
def _make_instruments() -> _Instruments:
    from prometheus_client import Counter, Histogram

    return _Instruments(
        requests=Counter(
            "hotline_http_requests", "HTTP requests answered, by endpoint and status", ["endpoint", "status"]
        ),
        latency=Histogram(
            "hotline_http_request_duration_seconds",
            "Time to answer an HTTP request, by endpoint",
            ["endpoint"],
            buckets=LATENCY_BUCKETS,
        ),
        calls_started=Counter("hotline_calls_started", "Inbound calls whose first webhook was saved"),
        calls_finished=Counter(
            "hotline_calls_finished", "Calls by how they ended: " + ", ".join(CALL_OUTCOMES), ["outcome"]
        ),
    )


def count_call(session: Session, outcome: str) -> None:
    """A call started ("started") or ended with `outcome`: counted when `session` commits, not before (a
    rolled-back webhook is answered again and must not count twice)."""
    if outcome != "started" and outcome not in CALL_OUTCOMES:
        raise ValueError(f"unknown call outcome {outcome!r}")
    session.info.setdefault(_PENDING, []).append(outcome)


def count_apology() -> None:
    """The caller heard the apology: nothing was committed, so it is counted at once."""
    _instruments().calls_finished.labels("apology").inc()


@event.listens_for(Session, "after_commit")
def _count_committed_calls(session: Session) -> None:
    for outcome in session.info.pop(_PENDING, ()):
        if outcome == "started":
            _instruments().calls_started.inc()
        else:
            _instruments().calls_finished.labels(outcome).inc()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_calls(session: Session) -> None:
    session.info.pop(_PENDING, None)


def _start_timer() -> None:
    request.environ[_STARTED] = time.monotonic()


def _count_request(response: Response) -> Response:
    started = request.environ.get(_STARTED)
    # The endpoint, never the path: paths hold references and ids, and every one would be a new series.
    endpoint = request.url_rule.endpoint if request.url_rule is not None else "unmatched"
    instruments = _instruments()
    instruments.requests.labels(endpoint, str(response.status_code)).inc()
    if started is not None:
        instruments.latency.labels(endpoint).observe(time.monotonic() - started)
    return response


def _allowed() -> bool:
    config = current_app.config["HOTLINE"].metrics
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if config.token and scheme.lower() == "bearer" and hmac.compare_digest(token.strip(), config.token):
        return True
    proxies = current_app.config["HOTLINE"].logins.proxies_in_front
    if "X-Forwarded-For" in request.headers and not proxies:
        return False  # a proxy's request, its client unknown: the proxy's own address proves nothing
    try:
        peer = ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(peer in network for network in config.allow_cidrs)


@bp.get("/metrics")
def metrics() -> Response:
    from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
    from prometheus_client.multiprocess import MultiProcessCollector

    from ivr.metrics_database import DatabaseCollector

    if not _allowed():
        abort(403)
    _instruments()  # registered, so a scrape before any request still lists every metric
    registry = CollectorRegistry()
    if os.environ.get(MULTIPROC_ENV):
        MultiProcessCollector(registry)  # every worker's counts, added up
    else:
        registry.register(_Default(REGISTRY))
    registry.register(DatabaseCollector(db.session()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


@dataclass(frozen=True)
class _Default:
    """This process's own metrics, when there is one process (tests, Flask's --dev server)."""

    registry: Any

    def collect(self) -> Any:
        return self.registry.collect()


def init_app(app: Flask) -> None:
    app.before_request(_start_timer)
    app.after_request(_count_request)
    if app.config["HOTLINE"].metrics.enabled:
        app.register_blueprint(bp)
