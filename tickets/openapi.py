"""The OpenAPI 3.1 document of /api/v1, kept next to the API and checked against real responses in tests.

Other packages serve endpoints under /api/v1 too (the scheduler's SLA alerts), and tickets may not import
them: their blueprints call `extend(app, paths, schemas)` in their init_app, and `document(app)` merges what
was registered. Paths are relative to the server URL /api/v1.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from tickets.models import Channel, Outcome, Status

EXTENSION = "openapi"  # app.extensions key: {"paths": {...}, "schemas": {...}} registered by other packages

NULLABLE_STRING = {"type": ["string", "null"]}
# a recording as the API hands it out: the app's own player, never Twilio's media URL
PROXIED_RECORDING = {
    "type": ["string", "null"],
    "pattern": r"^/api/v1/tickets/[^/]+/(recording|recordings/\d+)$",
}
TIME = {"type": "string", "format": "date-time"}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


DIAGNOSIS: dict[str, Any] = {
    "type": "object",
    "required": ["summary", "needs", "by", "at"],
    "properties": {
        "summary": {"type": "string"},
        "needs": {"type": "array", "items": {"type": "string"}, "description": "support type keys"},
        "by": NULLABLE_STRING,
        "at": TIME,
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
            "error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            }
        },
    },
    "Attempt": {
        "type": "object",
        "required": ["outcome", "at", "duration", "note", "by"],
        "properties": {
            "outcome": {"type": "string", "enum": [o.value for o in Outcome]},
            "at": TIME,
            "duration": {"type": ["integer", "null"]},
            "note": NULLABLE_STRING,
            "by": NULLABLE_STRING,
        },
    },
    "Event": {
        "type": "object",
        "required": ["type", "at", "by", "detail"],
        "properties": {
            "type": {"type": "string"},
            "at": TIME,
            "by": NULLABLE_STRING,
            "detail": {
                "type": "object",
                "description": "a recording's url is the app's own proxied link (null if it cannot play)",
                "properties": {"url": PROXIED_RECORDING, "recording_url": PROXIED_RECORDING},
            },
        },
    },
    "TicketSummary": {
        "type": "object",
        "required": [
            "reference",
            "status",
            "channel",
            "field",
            "support_type",
            "language",
            "company",
            "caller_number",
            "callback_number",
            "recording_url",
            "recording_duration",
            "call_sid",
            "incomplete",
            "assignee",
            "created_at",
            "sla_due_at",
            "escalation_level",
        ],  # fmt: skip
        "properties": {
            "reference": {"type": "string", "pattern": r"^\d{4}-\d{4}$"},
            "status": {"type": "string", "enum": [s.value for s in Status]},
            "channel": {
                "type": "string",
                "enum": [c.value for c in Channel],
                "description": "how it came in",
            },
            "field": {"type": "string"},
            "support_type": NULLABLE_STRING,
            "language": {"type": "string", "enum": ["ko", "en"]},
            "company": {**NULLABLE_STRING, "description": "from the web form; null for calls"},
            "caller_number": NULLABLE_STRING,
            "callback_number": NULLABLE_STRING,
            "recording_url": {**PROXIED_RECORDING, "pattern": r"^/api/v1/tickets/[^/]+/recording$"},
            "recording_duration": {"type": ["integer", "null"]},
            "call_sid": NULLABLE_STRING,
            "incomplete": {"type": "boolean"},
            "assignee": NULLABLE_STRING,
            "created_at": TIME,
            "sla_due_at": NULLABLE_TIME,
            "escalation_level": {"type": "integer"},
        },
    },
    "QueueTicket": {
        "allOf": [_ref("TicketSummary")],
        "type": "object",
        "required": ["seconds_left"],
        "properties": {"seconds_left": {"type": ["integer", "null"], "description": "negative when overdue"}},
    },
    "Ticket": {
        "allOf": [_ref("TicketSummary")],
        "type": "object",
        "required": [
            "attempts",
            "events",
            "resolution_summary",
            "resolution_type",
            "unreached_sms_sent_at",
            "extra_recordings",
            "referrals",
            "diagnosis",
            "contact_person",
            "description",
        ],
        "properties": {
            "contact_person": {**NULLABLE_STRING, "description": "from the web form; null for calls"},
            "description": {
                **NULLABLE_STRING,
                "description": "the web form's question, in place of a recording",
            },
            "referrals": {"type": "array", "items": _ref("Referral")},
            "diagnosis": {**DIAGNOSIS, "type": ["object", "null"], "description": "the latest"},
            "attempts": {"type": "array", "items": _ref("Attempt")},
            "events": {"type": "array", "items": _ref("Event")},
            "resolution_summary": NULLABLE_STRING,
            "resolution_type": NULLABLE_STRING,
            "unreached_sms_sent_at": NULLABLE_TIME,
            "extra_recordings": {
                "type": "array",
                "description": "recordings besides the ticket's own: a repeat call's message, the apology's",
                "items": _ref("ExtraRecording"),
            },
        },
    },
    "Referral": {
        "type": "object",
        "required": ["id", "institute", "status", "sent_at", "answered_at", "expected_at", "outcome", "note"],
        "properties": {
            "id": {"type": "integer"},
            "institute": {"type": "string", "description": "the institute's key"},
            "status": {"type": "string", "enum": ["sent", "accepted", "declined", "expired", "completed"]},
            "sent_at": TIME,
            "answered_at": NULLABLE_TIME,
            "expected_at": {"type": ["string", "null"], "format": "date"},
            "outcome": NULLABLE_STRING,
            "note": NULLABLE_STRING,
        },
    },
    "Diagnosis": DIAGNOSIS,
    "ExtraRecording": {
        "type": "object",
        "required": ["id", "at", "duration", "repeat_call", "href"],
        "properties": {
            "id": {"type": "integer"},
            "at": TIME,
            "duration": {"type": ["integer", "null"], "description": "seconds"},
            "repeat_call": {"type": "boolean", "description": "left on a later call that joined the ticket"},
            "href": {"type": "string", "description": "GET it here, proxied like the ticket's own"},
        },
    },
    "TicketList": {
        "type": "object",
        "required": ["tickets"],
        "properties": {"tickets": {"type": "array", "items": _ref("QueueTicket")}},
    },
    "AttemptCreated": {
        "type": "object",
        "required": ["attempt", "ticket"],
        "properties": {"attempt": _ref("Attempt"), "ticket": _ref("TicketSummary")},
    },
    "CallbackStarted": {
        "type": "object",
        "required": ["call_sid", "calling", "ticket"],
        "properties": {
            "call_sid": {"type": "string"},
            "calling": {"type": "string"},
            "ticket": _ref("TicketSummary"),
        },
    },
}


def _json(schema: str, description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": _ref(schema)}}}


# For other packages' documents: a schema reference and a JSON response, as this document writes them.
ref = _ref
json_response = _json


ERRORS = {
    "401": _json("Error", "no valid bearer token"),
    "403": _json("Error", "your role or your hold on the ticket does not allow it"),
    "404": _json("Error", "no such ticket among those you can see"),
}
CONFLICT = {"409": _json("Error", "the ticket is not in a state that allows it")}
INVALID = {"422": _json("Error", "the body is incomplete or wrong")}
REFERENCE = [{"name": "reference", "in": "path", "required": True, "schema": {"type": "string"}}]


def _body(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    schema = {"type": "object", "required": required, "properties": properties}
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _post(
    summary: str, ok: dict[str, Any], body: dict[str, Any] | None = None, **more: Any
) -> dict[str, Any]:
    operation = {"summary": summary, "parameters": REFERENCE, "responses": {**ok, **ERRORS, **more}}
    if body is not None:
        operation["requestBody"] = body
    return {"post": operation}


def extend(app: Flask, paths: dict[str, Any], schemas: dict[str, Any] | None = None) -> None:
    """Add another package's /api/v1 endpoints (and the schemas they use) to this app's document."""
    registered = app.extensions.setdefault(EXTENSION, {"paths": {}, "schemas": {}})
    own = _document()
    taken = (paths.keys() & (own["paths"].keys() | registered["paths"].keys())) | (
        (schemas or {}).keys() & (SCHEMAS.keys() | registered["schemas"].keys())
    )
    if taken:
        raise ValueError(f"already in the OpenAPI document: {sorted(taken)}")
    registered["paths"].update(paths)
    registered["schemas"].update(schemas or {})


def document(app: Flask | None = None) -> dict[str, Any]:
    """The whole document: the consultant API's paths and those other packages registered on `app`."""
    doc = _document()
    registered = app.extensions.get(EXTENSION) if app is not None else None
    if registered:
        doc["paths"] = {**doc["paths"], **registered["paths"]}
        doc["components"]["schemas"] = {**doc["components"]["schemas"], **registered["schemas"]}
    return doc


def _document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "Hotline 1379 API (consultants and supervisors)", "version": "1"},
        "servers": [{"url": "/api/v1"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": SCHEMAS,
        },
        "paths": {
            "/queue": {
                "get": {
                    "summary": "My open tickets, the nearest SLA deadline first",
                    "responses": {
                        "200": _json("TicketList", "my queue"),
                        "401": ERRORS["401"],
                        "403": ERRORS["403"],
                    },
                }
            },
            "/tickets": {
                "get": {
                    "summary": "Tickets I may see, filtered",
                    "parameters": [
                        {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(Status)}},
                        {"name": "field", "in": "query", "schema": {"type": "string"}},
                        {"name": "assignee", "in": "query", "schema": {"type": "string"}},
                        {"name": "overdue", "in": "query", "schema": {"type": "boolean"}},
                        {
                            "name": "limit",
                            "in": "query",
                            "description": "at most this many; outside 1..200 is refused (422), not cut",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
                        },
                    ],
                    "responses": {
                        "200": _json("TicketList", "tickets (overdue: the longest overdue first)"),
                        "400": _json("Error", "a bad filter"),
                        "422": _json("Error", "limit is not a whole number from 1 to 200"),
                        "401": ERRORS["401"],
                        "403": ERRORS["403"],
                    },
                }
            },
            "/tickets/{reference}": {
                "get": {
                    "summary": "One ticket with its attempts and history",
                    "parameters": REFERENCE,
                    "responses": {"200": _json("Ticket", "the ticket"), **ERRORS},
                }
            },
            "/tickets/{reference}/claim": _post(
                "Take a ticket from the pool (atomic: one winner)",
                {"200": _json("TicketSummary", "claimed")},
                **{"409": _json("Error", "someone else has it")},
            ),
            "/tickets/{reference}/release": _post(
                "Give the ticket back to the pool", {"200": _json("TicketSummary", "released")}, **CONFLICT
            ),
            "/tickets/{reference}/assign": _post(
                "Supervisors: give the ticket to a consultant and/or set its field (triage, which routes it)",
                {"200": _json("TicketSummary", "assigned")},
                _body({"assignee": {"type": "string"}, "field": {"type": "string"}}, []),
                **CONFLICT,
                **INVALID,
            ),
            "/tickets/{reference}/attempts": _post(
                "Log a callback attempt",
                {"201": _json("AttemptCreated", "logged")},
                _body(
                    {
                        "outcome": {"type": "string", "enum": [o.value for o in Outcome]},
                        "note": {"type": "string"},
                        "duration": {"type": "integer", "minimum": 0},
                    },
                    ["outcome"],
                ),
                **CONFLICT,
                **INVALID,
            ),
            "/tickets/{reference}/callback": _post(
                "Click-to-call: ring my phone, then connect me to the company",
                {"202": _json("CallbackStarted", "my phone is ringing")},
                **CONFLICT,
                **INVALID,
                **{"502": _json("Error", "the telephone service failed")},
            ),
            "/tickets/{reference}/status": _post(
                "Change the status (resolved needs summary and resolution_type)",
                {"200": _json("TicketSummary", "changed")},
                _body(
                    {
                        "status": {
                            "type": "string",
                            "enum": ["in_progress", "waiting", "resolved", "closed"],
                        },
                        "note": {"type": "string"},
                        "summary": {"type": "string"},
                        "resolution_type": {"type": "string"},
                    },
                    ["status"],
                ),
                **CONFLICT,
                **INVALID,
            ),
            "/tickets/{reference}/notes": _post(
                "Add a note to the history",
                {"201": _json("TicketSummary", "noted")},
                _body({"text": {"type": "string"}}, ["text"]),
                **INVALID,
            ),
            "/tickets/{reference}/recording": {
                "get": {
                    "summary": "The caller's recording, proxied from Twilio with the account's credentials",
                    "parameters": REFERENCE,
                    "responses": {
                        "200": {"description": "audio", "content": {"audio/mpeg": {}, "audio/wav": {}}},
                        **ERRORS,
                        "502": _json("Error", "the telephone service failed"),
                    },
                }
            },
            "/tickets/{reference}/recordings/{event_id}": {
                "get": {
                    "summary": "One of the ticket's extra recordings (its extra_recordings), proxied",
                    "parameters": [
                        *REFERENCE,
                        {"name": "event_id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    ],
                    "responses": {
                        "200": {"description": "audio", "content": {"audio/mpeg": {}, "audio/wav": {}}},
                        **ERRORS,
                        "502": _json("Error", "the telephone service failed"),
                    },
                }
            },
        },
    }
