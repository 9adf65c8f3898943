"""Supervisors list and acknowledge SLA alerts through the API; consultants may not."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from tests.scheduler.sla_helpers import DUE, T0, people, run, settings, ticket_at
from tickets import accounts
from tickets.models import OutboxMessage


def bearer(session: Session, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_token(session, user)}"}


def test_a_supervisor_sees_and_acknowledges_the_alerts_of_their_field(
    session: Session, client: Any, config: Any
) -> None:
    s = settings(config)
    who = people(session)
    it_ticket = ticket_at(session, s, T0)
    ticket_at(session, s, T0, field="bio")
    run(s, DUE + timedelta(minutes=5))
    session.add(
        OutboxMessage(
            key="sla:x:dead",
            channel="sms",
            recipient="+821055550002",
            payload={"text": "x"},
            status="dead",
            tries=6,
        )
    )
    session.flush()
    headers = bearer(session, who["it_supervisor"])

    listed = client.get("/api/v1/sla/alerts", headers=headers).get_json()
    assert [(a["reference"], a["level"]) for a in listed["alerts"]] == [(it_ticket.reference, 1)]
    assert [m["tries"] for m in listed["dead_messages"]] == [6]

    alert_id = listed["alerts"][0]["id"]
    acked = client.post(f"/api/v1/sla/alerts/{alert_id}/ack", headers=headers)
    assert acked.status_code == 200
    assert acked.get_json()["alert"]["acknowledged_by"] == "it-boss"
    again = client.post(f"/api/v1/sla/alerts/{alert_id}/ack", headers=headers).get_json()
    assert again["alert"]["acknowledged_at"] == acked.get_json()["alert"]["acknowledged_at"]
    assert client.get("/api/v1/sla/alerts", headers=headers).get_json()["alerts"] == []
    everything = client.get("/api/v1/sla/alerts?all=1", headers=headers).get_json()["alerts"]
    assert [a["id"] for a in everything] == [alert_id]


def test_consultants_and_strangers_are_refused(session: Session, client: Any, config: Any) -> None:
    who = people(session)
    assert client.get("/api/v1/sla/alerts").status_code == 401
    assert client.get("/api/v1/sla/alerts", headers=bearer(session, who["consultant"])).status_code == 403
    missing = client.post("/api/v1/sla/alerts/999999/ack", headers=bearer(session, who["it_supervisor"]))
    assert missing.status_code == 404
