"""/healthz tells a load balancer whether the database answers and whether a scheduler is alive."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from scheduler import heartbeat
from tickets import clock


def test_a_beating_scheduler_is_alive_and_a_silent_one_is_not(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    started = clock.now() - timedelta(hours=1)
    heartbeat.beat(session, "host-a:1", started)
    body = client.get("/healthz").json
    assert body["scheduler"]["alive"] is True
    assert body["scheduler"]["processes"][0]["name"] == "host-a:1"
    later = clock.now() + heartbeat.STALE_AFTER + timedelta(seconds=1)
    assert heartbeat.scheduler_status(session, now=later)["alive"] is False


def test_an_unreachable_database_answers_503() -> None:
    from ivr.app import create_app
    from tests.conftest import test_config

    app = create_app(test_config("postgresql+psycopg://nobody@127.0.0.1:1/none"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "error"
