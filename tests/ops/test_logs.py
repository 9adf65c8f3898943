"""LOG_FORMAT=json: one JSON object per line, with the request id, call SID, ticket and user where known;
plain text otherwise; phone numbers masked in both."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ivr import logs
from ivr.signature import signing_token
from ivr.simulator import CallSimulator, FlaskTransport, ScriptedCaller
from tickets import accounts

NUMBER = "+821012345678"


@pytest.fixture
def logged(app: Flask, request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """What the root logger writes in the format given as the test's parameter (json by default)."""
    stream = io.StringIO()
    handler = logs.handler(stream, getattr(request, "param", "json"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


def lines(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_request_line_carries_its_request_id_given_or_made(client: Any, logged: io.StringIO) -> None:
    given = client.get("/healthz", headers={"X-Request-Id": "lb-7f3a"})
    made = client.get("/healthz", headers={"X-Request-Id": "x" * 65})
    assert given.headers["X-Request-Id"] == "lb-7f3a"
    assert made.headers["X-Request-Id"] not in ("", "x" * 65)
    first, second = [e for e in lines(logged) if e["logger"] == "hotline.requests"]
    assert first["request_id"] == "lb-7f3a" and first["message"].startswith("GET /healthz 200")
    assert second["request_id"] == made.headers["X-Request-Id"]
    assert {"time", "level", "logger", "message"} <= set(first) and first["level"] == "INFO"


def test_a_webhooks_lines_carry_the_call_sid_with_numbers_masked(
    app: Flask, logged: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logging.getLogger("ivr.calls"), "level", logging.INFO)
    simulator = CallSimulator(
        FlaskTransport(app),
        "http://localhost",
        signing_token(app.config["HOTLINE"]),
        ScriptedCaller("field=hangup", "silence"),
        from_number="anonymous",
    )
    result = simulator.run()
    entries = lines(logged)
    webhook_lines = [e for e in entries if e.get("call_sid") == result.call_sid]
    # the status callback's line from ivr.calls, logged on the webhook's own thread
    assert any(e["logger"] == "ivr.calls" for e in webhook_lines), entries
    assert all(e.get("request_id") for e in webhook_lines)

    logging.getLogger("ivr.test").warning("caller %s", NUMBER)
    assert NUMBER not in logged.getvalue() and "5678" in lines(logged)[-1]["message"]


def test_an_api_request_names_its_user_and_ticket(
    app: Flask, session: Session, client: Any, logged: io.StringIO
) -> None:
    user = accounts.add_user(session, "sup1", "supervisor", known_fields=("it",))
    token = accounts.issue_token(session, user, "test")
    session.flush()
    client.get("/api/v1/tickets/1234-5678", headers={"Authorization": f"Bearer {token}"})
    [entry] = [e for e in lines(logged) if e["logger"] == "hotline.requests"]
    assert (entry["user"], entry["ticket"]) == ("sup1", "1234-5678")


@pytest.mark.parametrize("logged", ["text"], indirect=True)
def test_plain_text_is_the_default_and_masks_numbers_too(logged: io.StringIO) -> None:
    stream = io.StringIO()
    root = logging.getLogger()
    saved = root.handlers[:]
    try:
        logs.configure({}, stream)
        logging.getLogger("ivr.test").warning("callback to %s failed", NUMBER)
    finally:
        root.handlers[:] = saved
    line = stream.getvalue().strip()
    assert "WARNING ivr.test: callback to" in line and not line.startswith("{")
    assert NUMBER not in line and line.endswith("5678 failed")
