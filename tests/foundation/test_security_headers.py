"""Every response tells the browser to run only this site's own files, never to frame the page, never to
guess a content type and not to pass the page's URL to other sites; TwiML still works with them."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from twilio.request_validator import RequestValidator

from ivr.signature import DEVELOPMENT_AUTH_TOKEN


def _directives(response: Any) -> dict[str, list[str]]:
    policy = response.headers["Content-Security-Policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";"))}


def _assert_protected(response: Any) -> None:
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    directives = _directives(response)
    for kind in ("script-src", "style-src"):
        assert directives[kind] == ["'self'"], kind  # no inline script or style, nothing from elsewhere
    assert directives["frame-ancestors"] == ["'none'"]
    assert directives["object-src"] == ["'none'"]


@pytest.mark.parametrize(
    "path",
    ["/console/login", "/healthz", "/api/v1/queue", "/api/v1/openapi.json", "/no-such-page", "/supervisor/"],
    ids=["page", "health", "API error", "API", "not found", "redirect"],
)
def test_every_response_carries_the_security_headers(client: Any, path: str) -> None:
    _assert_protected(client.get(path))


def test_twiml_answers_carry_them_and_still_parse(client: Any) -> None:
    form = {"CallSid": "CA" + "7" * 32, "From": "+821012345678", "To": "+8221379", "CallStatus": "ringing"}
    signature = RequestValidator(DEVELOPMENT_AUTH_TOKEN).compute_signature("http://localhost/ivr/voice", form)
    response = client.post("/ivr/voice", data=form, headers={"X-Twilio-Signature": signature})
    assert response.status_code == 200
    _assert_protected(response)
    assert ElementTree.fromstring(response.data).tag == "Response"
    unsigned = client.post("/ivr/voice", data=form)
    assert unsigned.status_code == 403
    _assert_protected(unsigned)
