"""The consultant JSON API: the main path, role checks on every endpoint, click-to-call through the console
gateway and the signed Twilio callbacks, and the OpenAPI document checked against the real responses."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode, urlsplit
from xml.etree import ElementTree

import pytest
from twilio.request_validator import RequestValidator

from ivr.signature import DEVELOPMENT_AUTH_TOKEN
from tickets import accounts
from tickets.db import db
from tickets.models import OutboxMessage, Status

OPENAPI: dict[str, Any] = {}
# a recording URL as Twilio posts it (the proxy plays it by the SID at its end)
TWILIO_RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Recordings/RE" + "1" * 32


@pytest.fixture
def people(make_user, session) -> dict[str, Any]:
    made = {
        "kim": make_user("it-kim", phone="010-5555-0101"),
        "lee": make_user("it-lee", on_duty=False),
        "bio": make_user("bio-park", fields=("bio",)),
        "boss": make_user("boss", role="supervisor", fields=("it", "bio", "general")),
        "admin": make_user("root", role="admin", fields=()),
    }
    tokens = {name: accounts.issue_token(session, user) for name, user in made.items()}
    return {"users": made, "tokens": tokens}


def call(client, people, who: str | None, method: str, path: str, body: Any = None) -> Any:
    # The test's own changes are kept (a savepoint released) before a request that may roll back its own.
    db.session.commit()
    headers = {"Authorization": f"Bearer {people['tokens'][who]}"} if who else {}
    response = client.open(f"/api/v1{path}", method=method, json=body, headers=headers)
    check_against_openapi(client, method, path, response)
    return response


# --- a small JSON Schema checker for the subset our document uses ---


def _resolve(schema: dict[str, Any], doc: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def validate(value: Any, schema: dict[str, Any], doc: dict[str, Any], where: str = "$") -> None:
    schema = _resolve(schema, doc)
    for part in schema.get("allOf", []):
        validate(value, part, doc, where)
    kinds = schema.get("type")
    if kinds is not None:
        kinds = kinds if isinstance(kinds, list) else [kinds]
        python = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}
        ok = any(
            (k == "integer" and isinstance(value, int) and not isinstance(value, bool))
            or (k in python and isinstance(value, python[k]))
            for k in kinds
        )
        assert ok, f"{where}: {value!r} is not {kinds}"
    if "enum" in schema and value is not None:
        assert value in schema["enum"], f"{where}: {value!r} not in {schema['enum']}"
    if "pattern" in schema and isinstance(value, str):
        assert re.search(schema["pattern"], value), f"{where}: {value!r} !~ {schema['pattern']}"
    if isinstance(value, dict):
        for key in schema.get("required", []):
            assert key in value, f"{where}: missing {key!r}"
        for key, sub in schema.get("properties", {}).items():
            if key in value:
                validate(value[key], sub, doc, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            validate(item, schema["items"], doc, f"{where}[{i}]")


def check_against_openapi(client, method: str, path: str, response) -> None:
    if not OPENAPI:
        OPENAPI.update(client.get("/api/v1/openapi.json").get_json())
    template = re.sub(r"/tickets/[^/?]+", "/tickets/{reference}", urlsplit(path).path)
    template = re.sub(r"/recordings/\d+$", "/recordings/{event_id}", template)
    operation = OPENAPI["paths"][template][method.lower()]
    documented = operation["responses"].get(str(response.status_code))
    assert documented, f"{method} {template} answered {response.status_code}, which is not documented"
    content = documented.get("content", {})
    if response.is_json:
        validate(response.get_json(), content["application/json"]["schema"], OPENAPI, f"{method} {template}")
    else:
        assert response.mimetype in content, f"{method} {template}: {response.mimetype} is not documented"


# --- the main path ---


def test_a_consultant_claims_calls_back_logs_and_resolves(client, people, make_ticket, app) -> None:
    ticket = make_ticket(callback_number="+821020001001")
    assert ticket.assignee == people["users"]["kim"]  # routed
    ref = ticket.reference
    queue = call(client, people, "kim", "GET", "/queue").get_json()["tickets"]
    assert [t["reference"] for t in queue] == [ref] and queue[0]["seconds_left"] > 0
    assert call(client, people, "kim", "POST", f"/tickets/{ref}/release").get_json()["status"] == "new"
    assert call(client, people, "kim", "POST", f"/tickets/{ref}/claim").get_json()["assignee"] == "it-kim"
    conflict = call(client, people, "boss", "POST", f"/tickets/{ref}/claim")
    assert conflict.status_code == 409 and conflict.get_json()["error"]["code"] == "already_claimed"

    started = call(client, people, "kim", "POST", f"/tickets/{ref}/callback")
    assert started.status_code == 202 and started.get_json()["calling"] == "+821055550101"
    placed = app.extensions["telephony"].calls[-1]
    assert placed.to == "+821055550101" and placed.caller_id == app.config["HOTLINE"].flow.hotline_number

    logged = call(
        client, people, "kim", "POST", f"/tickets/{ref}/attempts", {"outcome": "no_answer", "note": "x"}
    )
    assert logged.status_code == 201 and logged.get_json()["ticket"]["status"] == "in_progress"
    bad = call(
        client, people, "kim", "POST", f"/tickets/{ref}/status", {"status": "resolved", "summary": "ok"}
    )
    assert bad.status_code == 422 and bad.get_json()["error"]["code"] == "resolution_required"
    done = call(
        client, people, "kim", "POST", f"/tickets/{ref}/status",
        {"status": "resolved", "summary": "장비 안내", "resolution_type": "equipment"},
    )  # fmt: skip
    assert done.get_json()["status"] == "resolved"
    shown = call(client, people, "kim", "GET", f"/tickets/{ref}").get_json()
    assert shown["resolution_type"] == "equipment" and [a["outcome"] for a in shown["attempts"]] == [
        "no_answer"
    ]
    assert "callback_started" in [e["type"] for e in shown["events"]]
    assert (
        call(client, people, "kim", "POST", f"/tickets/{ref}/status", {"status": "waiting"}).status_code
        == 409
    )


def test_filters_and_overdue(client, people, make_ticket) -> None:
    from tests.tickets.conftest import NOW

    old = make_ticket(now=NOW.replace(year=2025))
    make_ticket("bio")
    overdue = call(client, people, "boss", "GET", "/tickets?overdue=true").get_json()["tickets"]
    assert [t["reference"] for t in overdue] == [old.reference] and overdue[0]["seconds_left"] < 0
    bio = call(client, people, "boss", "GET", "/tickets?field=bio").get_json()["tickets"]
    assert [t["field"] for t in bio] == ["bio"]
    mine = call(client, people, "kim", "GET", "/tickets?assignee=it-kim&status=assigned").get_json()[
        "tickets"
    ]
    assert old.reference in [t["reference"] for t in mine]
    # Consultants see their own fields only.
    assert call(client, people, "kim", "GET", "/tickets?field=bio").get_json()["tickets"] == []
    assert call(client, people, "kim", "GET", "/tickets?overdue=maybe").status_code == 400


ENDPOINTS = [
    ("GET", "/queue", None),
    ("GET", "/tickets", None),
    ("GET", "/tickets/{ref}", None),
    ("POST", "/tickets/{ref}/claim", None),
    ("POST", "/tickets/{ref}/release", None),
    ("POST", "/tickets/{ref}/assign", {"assignee": "it-lee"}),
    ("POST", "/tickets/{ref}/attempts", {"outcome": "busy"}),
    ("POST", "/tickets/{ref}/callback", None),
    ("POST", "/tickets/{ref}/status", {"status": "in_progress"}),
    ("POST", "/tickets/{ref}/notes", {"text": "메모"}),
    ("GET", "/tickets/{ref}/recording", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[f"{m} {p}" for m, p, _ in ENDPOINTS])
def test_who_may_use_each_endpoint(client, people, make_ticket, session, method, path, body) -> None:
    ticket = make_ticket(callback_number="+821020001001")  # held by it-kim
    ticket.recording_url = TWILIO_RECORDING
    session.flush()
    url = path.format(ref=ticket.reference)
    # No token or a wrong one: 401.
    assert call(client, people, None, method, url, body).status_code == 401
    response = client.open(
        f"/api/v1{url}", method=method, json=body, headers={"Authorization": "Bearer nope"}
    )
    assert response.status_code == 401
    # Admins manage users, not tickets.
    assert call(client, people, "admin", method, url, body).status_code == 403
    if path.endswith("/assign"):
        # Only supervisors assign: every consultant is refused by role.
        assert call(client, people, "bio", method, url, body).status_code == 403
        assert call(client, people, "kim", method, url, body).status_code == 403
    elif "{ref}" in path:
        # Another field's consultant does not learn the ticket exists.
        assert call(client, people, "bio", method, url, body).status_code == 404
        if method == "POST" and not path.endswith("/claim"):
            # A consultant of the field who does not hold it may not act on it.
            assert call(client, people, "lee", method, url, body).status_code == 403
    allowed = "boss" if path.endswith("/assign") else "kim"
    response = call(client, people, allowed, method, url, body)
    expected = 409 if path.endswith("/claim") else None  # kim holds it already
    assert response.status_code == expected if expected else response.status_code < 400, response.get_json()


def test_a_revoked_token_is_refused(client, people, session) -> None:
    accounts.revoke_tokens(session, people["users"]["kim"])
    assert call(client, people, "kim", "GET", "/queue").status_code == 401


def test_supervisors_triage_the_general_pool(client, people, make_ticket) -> None:
    ticket = make_ticket("general")
    assert call(client, people, "kim", "POST", f"/tickets/{ticket.reference}/claim").status_code == 404
    routed = call(client, people, "boss", "POST", f"/tickets/{ticket.reference}/assign", {"field": "it"})
    assert routed.get_json()["field"] == "it" and routed.get_json()["assignee"] == "it-kim"


def test_the_recording_is_proxied_never_exposed(client, people, make_ticket, session) -> None:
    ticket = make_ticket()
    assert call(client, people, "kim", "GET", f"/tickets/{ticket.reference}/recording").status_code == 404
    ticket.recording_url = TWILIO_RECORDING
    session.flush()
    response = call(client, people, "kim", "GET", f"/tickets/{ticket.reference}/recording")
    assert response.status_code == 200 and response.mimetype == "audio/wav"
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_repeat_calls_recording_is_listed_and_played_through_the_api(
    client, people, make_ticket, session
) -> None:
    from tickets import events

    ticket = make_ticket(callback_number="+821020001001")  # held by it-kim
    ticket.recording_url = TWILIO_RECORDING
    own = events.record(session, ticket, "recording_added", url=ticket.recording_url, duration=30)
    url = TWILIO_RECORDING[:-1] + "2"
    events.record(session, ticket, "recording_added", url=url, duration=41, extra=True, call_sid="CA2")
    session.flush()
    (extra,) = call(client, people, "kim", "GET", f"/tickets/{ticket.reference}").get_json()[
        "extra_recordings"
    ]
    assert (extra["duration"], extra["repeat_call"]) == (41, True)
    assert extra["href"] == f"/api/v1/tickets/{ticket.reference}/recordings/{extra['id']}"
    played = call(client, people, "kim", "GET", extra["href"].removeprefix("/api/v1"))
    assert played.status_code == 200 and played.mimetype == "audio/wav"
    assert played.headers["Cache-Control"] == "private, no-store"
    missing = call(
        client, people, "kim", "GET", f"/tickets/{ticket.reference}/recordings/{extra['id'] + 999}"
    )
    assert missing.status_code == 404
    # The ticket's own recording has its player at /recording; its event is not an extra one.
    own_href = f"/tickets/{ticket.reference}/recordings/{own.id}"
    assert call(client, people, "kim", "GET", own_href).status_code == 404
    assert call(client, people, "bio", "GET", extra["href"].removeprefix("/api/v1")).status_code == 404


# --- the consultant's leg of click-to-call (Twilio-facing, signed) ---


def signed_post(client, url: str, form: dict[str, str]) -> Any:
    db.session.commit()
    signature = RequestValidator(DEVELOPMENT_AUTH_TOKEN).compute_signature(url, form)
    parts = urlsplit(url)
    return client.post(f"{parts.path}?{parts.query}", data=form, headers={"X-Twilio-Signature": signature})


def test_click_to_call_reads_a_summary_dials_the_company_and_logs_the_outcome_once(
    client, people, make_ticket, app, session
) -> None:
    ticket = make_ticket(callback_number="+821020001001")
    call(client, people, "kim", "POST", f"/tickets/{ticket.reference}/callback")
    placed = app.extensions["telephony"].calls[-1]
    assert client.post(urlsplit(placed.url).path, data={"CallSid": placed.sid}).status_code == 403  # unsigned

    twiml = ElementTree.fromstring(signed_post(client, placed.url, {"CallSid": placed.sid}).data)
    say, dial = twiml.find("Say"), twiml.find("Dial")
    assert ticket.reference.replace("-", "")[0] in say.text and "정보통신" in say.text
    assert dial.get("callerId") == app.config["HOTLINE"].flow.hotline_number
    assert dial.find("Number").text == "+821020001001"
    action = dial.get("action")
    assert action == placed.status_callback

    form = {"CallSid": placed.sid, "DialCallStatus": "busy", "DialCallDuration": "0"}
    for _ in range(2):  # Twilio retries: the attempt is logged once
        assert signed_post(client, action, form).status_code == 200
    session.expire_all()
    assert [(a.outcome, a.call_sid, a.user.username) for a in ticket.attempts] == [
        ("busy", placed.sid, "it-kim")
    ]
    assert ticket.status == Status.IN_PROGRESS
    # The call's own final status callback adds nothing once the attempt exists.
    assert (
        signed_post(
            client, placed.status_callback, {"CallSid": placed.sid, "CallStatus": "completed"}
        ).status_code
        == 204
    )
    assert len(ticket.attempts) == 1


def test_an_unanswered_consultant_phone_is_an_event_not_an_attempt(client, people, make_ticket, session, app):
    ticket = make_ticket()
    call(client, people, "kim", "POST", f"/tickets/{ticket.reference}/callback")
    placed = app.extensions["telephony"].calls[-1]
    for _ in range(2):
        signed_post(client, placed.status_callback, {"CallSid": placed.sid, "CallStatus": "no-answer"})
    session.expire_all()
    assert ticket.attempts == []
    assert [e.type for e in ticket.events].count("callback_not_connected") == 1
    assert session.query(OutboxMessage).count() == 0
    assert urlencode({"by": people["users"]["kim"].id}) in placed.url


def test_a_limit_outside_one_to_two_hundred_is_refused(client, people, make_ticket) -> None:
    make_ticket()
    # -1 was "no limit at all" on SQLite; a limit above 200 is refused too, since a cut list looks complete
    for limit in ["-1", "0", "201", "1000000", "ten", "1.5", "", " 5", "5_0"]:
        response = call(client, people, "boss", "GET", f"/tickets?{urlencode({'limit': limit})}")
        assert response.status_code == 422, limit
        assert response.get_json()["error"]["code"] == "invalid_limit"


def test_the_limit_caps_the_page(client, people, make_ticket) -> None:
    made = [make_ticket() for _ in range(3)]
    newest_two = [
        t["reference"] for t in call(client, people, "boss", "GET", "/tickets?limit=2").json["tickets"]
    ]
    assert len(newest_two) == 2 and set(newest_two) <= {t.reference for t in made}
    assert len(call(client, people, "boss", "GET", "/tickets?limit=200").json["tickets"]) == 3
    assert len(call(client, people, "boss", "GET", "/tickets").json["tickets"]) == 3
