"""/metrics: off unless enabled, never public, and what it shows follows what happened (calls, requests,
tickets, the outbox and the scheduler)."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from ipaddress import ip_network
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import Connection
from sqlalchemy.orm import Session

from ivr.app import create_app
from ivr.config import ROOT, HotlineConfig, MetricsConfig
from ivr.signature import signing_token
from ivr.simulator import CallSimulator, FlaskTransport, ScriptedCaller
from tickets.db import db
from tickets.models import OutboxMessage, SchedulerHeartbeat, Ticket

TOKEN = "m" * 40
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}


def metrics_app(config: HotlineConfig, connection: Connection, metrics: MetricsConfig) -> Iterator[Flask]:
    app = create_app(dataclasses.replace(config, metrics=metrics))
    app.config["TESTING"] = True
    db.of(app).bind_sessions(connection, join_transaction_mode="create_savepoint")
    with app.app_context():
        yield app
    db.of(app).session.remove()


@pytest.fixture
def enabled(config: HotlineConfig, connection: Connection) -> Iterator[Flask]:
    metrics = MetricsConfig(enabled=True, allow_cidrs=(ip_network("192.0.2.0/24"),), token=TOKEN)
    yield from metrics_app(config, connection, metrics)


def scrape(app: Flask) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = app.test_client().get("/metrics", headers=SCRAPER)
    assert response.status_code == 200, response.text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_are_not_served_unless_enabled(client: Any) -> None:
    assert client.get("/metrics", headers=SCRAPER).status_code == 404


def test_metrics_answer_the_allowed_networks_and_the_token_only(enabled: Flask) -> None:
    client = enabled.test_client()
    outsider = {"REMOTE_ADDR": "203.0.113.9"}
    assert client.get("/metrics", environ_base=outsider).status_code == 403
    wrong = {"Authorization": "Bearer " + "x" * 40}
    assert client.get("/metrics", environ_base=outsider, headers=wrong).status_code == 403
    assert client.get("/metrics", environ_base=outsider, headers=SCRAPER).status_code == 200
    inside = {"REMOTE_ADDR": "192.0.2.7"}
    assert client.get("/metrics", environ_base=inside).status_code == 200
    # Through a proxy the app does not know about, the peer address is the proxy's, whoever is behind it.
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/metrics", environ_base=inside, headers=forwarded).status_code == 403


def place_call(app: Flask, script: str) -> Any:
    simulator = CallSimulator(
        FlaskTransport(app),
        "http://localhost",
        signing_token(app.config["HOTLINE"]),
        ScriptedCaller(script, "silence"),
        from_number="+821012345678",
    )
    return simulator.run()


def test_a_filed_call_counts_as_started_and_filed_and_its_webhooks_as_requests(
    enabled: Flask, session: Session
) -> None:
    before = scrape(enabled)
    place_call(enabled, "field=2,support_type=1,callback=1,message=record")
    after = scrape(enabled)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert grew("hotline_calls_started_total") == 1
    assert grew("hotline_calls_finished_total", outcome="filed") == 1
    assert grew("hotline_calls_finished_total", outcome="apology") == 0
    assert grew("hotline_http_requests_total", endpoint="ivr.incoming_call", status="200") == 1
    assert grew("hotline_http_requests_total", endpoint="ivr.call_step", status="200") >= 4
    assert grew("hotline_http_request_duration_seconds_count", endpoint="ivr.call_step") >= 4
    assert value(after, "hotline_tickets_open", field="machinery", status="new") == 1


def test_a_call_whose_webhook_fails_counts_as_an_apology_and_not_as_started(
    enabled: Flask, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ivr import calls

    def broken(*_args: Any, **_kwargs: Any) -> str:
        raise RuntimeError("database gone")

    monkeypatch.setattr(calls, "answer_new_call", broken)
    monkeypatch.setattr(enabled.extensions["hotline_webhook_spool"], "append", lambda _webhook: None)
    before = scrape(enabled)
    place_call(enabled, "")
    after = scrape(enabled)
    assert (
        value(after, "hotline_calls_finished_total", outcome="apology")
        - value(before, "hotline_calls_finished_total", outcome="apology")
        == 1
    )
    assert value(after, "hotline_calls_started_total") == value(before, "hotline_calls_started_total")


def test_the_database_figures_are_read_at_scrape_time(enabled: Flask, session: Session, clock: Any) -> None:
    now = clock.at
    session.add_all(
        [
            OutboxMessage(key="a", channel="sms", recipient="+821000000000", payload={}, status="dead"),
            OutboxMessage(key="b", channel="email", recipient="x@example.org", payload={}),
            OutboxMessage(
                key="c",
                channel="sms",
                recipient="+821000000001",
                payload={},
                status="sent",
                created_at=now - timedelta(seconds=30),
                next_try_at=now,
                sent_at=now,
            ),  # fmt: skip
            SchedulerHeartbeat(
                name="h:1",
                host="h",
                pid=1,
                started_at=now,
                beat_at=now - timedelta(seconds=40),
                sweep_succeeded_at=now - timedelta(seconds=50),
                sweep_seconds=1.5,
            ),  # fmt: skip
            Ticket(reference="1111-2222", field="it", status="assigned", sla_due_at=now - timedelta(hours=1)),
            Ticket(reference="1111-3333", field="it", status="closed", sla_due_at=now - timedelta(hours=1)),
        ]
    )
    session.flush()
    samples = scrape(enabled)
    assert value(samples, "hotline_outbox_messages", channel="sms", status="dead") == 1
    assert value(samples, "hotline_outbox_messages", channel="email", status="pending") == 1
    assert value(samples, "hotline_outbox_delivery_seconds_bucket", channel="sms", le="15.0") == 0
    assert value(samples, "hotline_outbox_delivery_seconds_bucket", channel="sms", le="60.0") == 1
    assert value(samples, "hotline_tickets_breached_open") == 1
    assert value(samples, "hotline_tickets_open", field="it", status="assigned") == 1
    assert value(samples, "hotline_scheduler_heartbeat_age_seconds") == 40
    assert value(samples, "hotline_sla_sweep_duration_seconds") == 1.5
    assert (
        value(samples, "hotline_sla_sweep_last_success_timestamp_seconds")
        == (now - timedelta(seconds=50)).timestamp()
    )


def test_no_scheduler_ever_is_an_infinitely_old_heartbeat(enabled: Flask) -> None:
    samples = scrape(enabled)
    assert value(samples, "hotline_scheduler_heartbeat_age_seconds") == float("inf")
    assert ("hotline_referrals_waiting", ()) in samples


@pytest.mark.skipif(shutil.which("promtool") is None, reason="no promtool (apt-get install prometheus)")
def test_the_alert_rules_pass_promtool() -> None:
    rules = ROOT / "deploy" / "prometheus-rules.yml"
    result = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    for alert in ("SchedulerHeartbeatMissing", "OutboxDeadMessages", "Webhook5xx", "WebhookLatencyP99"):
        assert f"alert: {alert}" in rules.read_text(encoding="utf-8")


def test_the_first_webhooks_of_a_worker_arriving_at_once_are_all_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each webhook's work runs on its own thread; the first ones after a start must not race to register
    # the same metrics (the loser raised, and its caller heard the apology).
    from prometheus_client import REGISTRY
    from prometheus_client.registry import CollectorRegistry

    register = CollectorRegistry.register

    def slow_register(registry: CollectorRegistry, collector: Any) -> None:
        time.sleep(0.01)  # as under load: the moment between two threads' checks widens
        register(registry, collector)

    from ivr import metrics

    made = metrics._instruments()
    for collector in (made.requests, made.latency, made.calls_started, made.calls_finished):
        REGISTRY.unregister(collector)
    metrics._make_instruments.cache_clear()
    monkeypatch.setattr(CollectorRegistry, "register", slow_register)
    start, failures = threading.Barrier(8), []

    def first_webhook() -> None:
        start.wait()
        try:
            metrics.count_apology()
        except Exception as error:  # what the webhook's thread would have died of
            failures.append(error)

    threads = [threading.Thread(target=first_webhook) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert REGISTRY.get_sample_value("hotline_calls_finished_total", {"outcome": "apology"}) == 8
