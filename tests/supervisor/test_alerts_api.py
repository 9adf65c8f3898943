"""Supervisors list and acknowledge SLA alerts through the API; consultants may not."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from supervisor import alerts_openapi
from tests.scheduler.sla_helpers import DUE, T0, people, run, settings, ticket_at
from tests.tickets.test_api import validate
from tickets import accounts, openapi
from tickets.models import OutboxMessage


def bearer(session: Session, user: Any) -> dict[str, str]:
    return {"Authorization": f"Bearer {accounts.issue_token(session, user)}"}


class DocumentedClient:
    """The test client, checking every answer against /api/v1/openapi.json (status, then body schema)."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.document = client.get("/api/v1/openapi.json").get_json()

    def get(self, path: str, **kw: Any) -> Any:
        return self._checked("get", path, self.client.get(path, **kw))

    def post(self, path: str, **kw: Any) -> Any:
        return self._checked("post", path, self.client.post(path, **kw))

    def _checked(self, method: str, path: str, response: Any) -> Any:
        template = re.sub(r"/alerts/\d+/", "/alerts/{alert_id}/", path.split("?")[0].removeprefix("/api/v1"))
        operation = self.document["paths"][template][method]
        documented = operation["responses"].get(str(response.status_code))
        assert documented, f"{method} {template} answered {response.status_code}, which is not documented"
        schema = documented["content"]["application/json"]["schema"]
        validate(response.get_json(), schema, self.document, f"{method} {template}")
        return response


@pytest.fixture
def api(client: Any) -> DocumentedClient:
    return DocumentedClient(client)


def test_a_supervisor_sees_and_acknowledges_the_alerts_of_their_field(
    session: Session, api: DocumentedClient, config: Any
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

    listed = api.get("/api/v1/sla/alerts", headers=headers).get_json()
    assert [(a["reference"], a["level"]) for a in listed["alerts"]] == [(it_ticket.reference, 1)]
    assert [m["tries"] for m in listed["dead_messages"]] == [6]

    alert_id = listed["alerts"][0]["id"]
    outside = api.post(f"/api/v1/sla/alerts/{alert_id}/ack", headers=bearer(session, who["bio_supervisor"]))
    assert outside.status_code == 404  # not one of bio-boss's fields: as if it did not exist
    acked = api.post(f"/api/v1/sla/alerts/{alert_id}/ack", headers=headers)
    assert acked.status_code == 200
    assert acked.get_json()["alert"]["acknowledged_by"] == "it-boss"
    again = api.post(f"/api/v1/sla/alerts/{alert_id}/ack", headers=headers).get_json()
    assert again["alert"]["acknowledged_at"] == acked.get_json()["alert"]["acknowledged_at"]
    assert api.get("/api/v1/sla/alerts", headers=headers).get_json()["alerts"] == []
    everything = api.get("/api/v1/sla/alerts?all=1", headers=headers).get_json()["alerts"]
    assert [a["id"] for a in everything] == [alert_id]


def test_consultants_and_strangers_are_refused(session: Session, api: DocumentedClient, config: Any) -> None:
    who = people(session)
    assert api.get("/api/v1/sla/alerts").status_code == 401
    assert api.get("/api/v1/sla/alerts", headers=bearer(session, who["consultant"])).status_code == 403
    missing = api.post("/api/v1/sla/alerts/999999/ack", headers=bearer(session, who["it_supervisor"]))
    assert missing.status_code == 404


def test_the_document_lists_the_alerts_api_beside_the_consultant_api(client: Any) -> None:
    document = client.get("/api/v1/openapi.json").get_json()
    assert {"/queue", "/tickets/{reference}", "/sla/alerts", "/sla/alerts/{alert_id}/ack"} <= set(
        document["paths"]
    )
    assert {"SlaAlert", "DeadMessage", "Error"} <= set(document["components"]["schemas"])


def test_a_path_cannot_be_documented_twice(app: Flask) -> None:
    with pytest.raises(ValueError, match="already in the OpenAPI document"):
        openapi.extend(app, {"/sla/alerts": alerts_openapi.PATHS["/sla/alerts"]})
    with pytest.raises(ValueError, match="already in the OpenAPI document"):
        openapi.extend(app, {"/queue": {}})


def test_an_admin_sees_the_alerts_but_does_not_acknowledge_them(
    session: Session, api: DocumentedClient, config: Any
) -> None:
    # Admins manage users and config; acting on tickets and their alerts is the supervisors' work.
    s = settings(config)
    ticket_at(session, s, T0)
    run(s, DUE + timedelta(minutes=5))
    headers = bearer(session, accounts.add_user(session, "root", "admin", fields=[]))
    listed = api.get("/api/v1/sla/alerts", headers=headers).get_json()["alerts"]
    assert len(listed) == 1
    refused = api.post(f"/api/v1/sla/alerts/{listed[0]['id']}/ack", headers=headers)
    assert refused.status_code == 403
    assert api.get("/api/v1/sla/alerts", headers=headers).get_json()["alerts"][0]["acknowledged_at"] is None
