"""The OpenAPI description of the SLA alerts API (supervisor.alerts_api), merged into /api/v1/openapi.json.

tickets.openapi owns the document but may not import the scheduler, so alerts_api.init_app hands these
paths and schemas to `tickets.openapi.extend`. Paths are relative to the server URL /api/v1.
"""

from __future__ import annotations

from typing import Any

from tickets import openapi
from tickets.models import Status

_STRING_OR_NULL = {"type": ["string", "null"]}
_TIME = {"type": "string", "format": "date-time"}
_TIME_OR_NULL = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "SlaAlert": {
        "type": "object",
        "required": [
            "id",
            "reference",
            "field",
            "status",
            "assignee",
            "level",
            "kind",
            "due_at",
            "created_at",
            "sla_due_at",
            "acknowledged_at",
            "acknowledged_by",
        ],  # fmt: skip
        "properties": {
            "id": {"type": "integer"},
            "reference": {"type": "string", "pattern": r"^\d{4}-\d{4}$"},
            "field": {"type": "string"},
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "assignee": _STRING_OR_NULL,
            "level": {"type": "integer", "minimum": 0, "description": "0 warning, 1 breach, 2 and up follow"},
            "kind": {"type": "string", "enum": ["warning", "escalation"]},
            "due_at": _TIME,
            "created_at": _TIME,
            "sla_due_at": _TIME_OR_NULL,
            "acknowledged_at": _TIME_OR_NULL,
            "acknowledged_by": _STRING_OR_NULL,
        },
    },
    "DeadMessage": {
        "type": "object",
        "required": ["id", "channel", "recipient", "reference", "tries", "last_error", "created_at"],
        "properties": {
            "id": {"type": "integer"},
            "channel": {"type": "string"},
            "recipient": {"type": "string"},
            "reference": _STRING_OR_NULL,
            "tries": {"type": "integer"},
            "last_error": _STRING_OR_NULL,
            "created_at": _TIME,
        },
    },
    "SlaAlertList": {
        "type": "object",
        "required": ["alerts", "dead_messages"],
        "properties": {
            "alerts": {"type": "array", "items": openapi.ref("SlaAlert")},
            "dead_messages": {"type": "array", "items": openapi.ref("DeadMessage")},
        },
    },
    "SlaAlertAcknowledged": {
        "type": "object",
        "required": ["alert"],
        "properties": {"alert": openapi.ref("SlaAlert")},
    },
}
_REFUSED = {
    "401": openapi.json_response("Error", "no valid bearer token"),
    "403": openapi.json_response("Error", "only supervisors and admins"),
}
PATHS: dict[str, Any] = {
    "/sla/alerts": {
        "get": {
            "summary": "Supervisors: unacknowledged SLA alerts of my fields, and dead messages",
            "parameters": [
                {
                    "name": "all",
                    "in": "query",
                    "description": "1 or true: every alert, acknowledged or not, newest first",
                    "schema": {"type": "string", "enum": ["1", "true"]},
                }
            ],
            "responses": {"200": openapi.json_response("SlaAlertList", "alerts, newest first"), **_REFUSED},
        }
    },
    "/sla/alerts/{alert_id}/ack": {
        "post": {
            "summary": "Supervisors: acknowledge an alert (again is harmless: the first one stands)",
            "parameters": [
                {"name": "alert_id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "responses": {
                "200": openapi.json_response("SlaAlertAcknowledged", "acknowledged"),
                **_REFUSED,
                "403": openapi.json_response("Error", "only supervisors acknowledge (admins do not)"),
                "404": openapi.json_response("Error", "no such alert among those I can see"),
            },
        }
    },
}
