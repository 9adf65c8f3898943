"""`@twilio_signed`: the signature Twilio computes, checked against the URL Twilio really used."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest
from flask import Flask, request
from twilio.request_validator import RequestValidator

from ivr.app import create_app
from ivr.config import ConfigError, HotlineConfig
from ivr.signature import (
    DEVELOPMENT_AUTH_TOKEN,
    MAX_WEBHOOK_BYTES,
    MAX_WEBHOOK_FIELDS,
    twilio_signed,
    warn_about_development_token,
    warn_about_signatures,
)
from tests.conftest import test_config

TOKEN = "auth-token-of-the-account"
FORM = {"CallSid": "CA" + "1" * 32, "From": "+821012345678", "Digits": "2"}


def _app(config: HotlineConfig) -> tuple[Flask, list[dict[str, str]]]:
    app = create_app(config)
    seen: list[dict[str, str]] = []

    @app.post("/ivr/test-signed")
    @twilio_signed
    def signed_view() -> str:
        seen.append(dict(request.form))
        return "<Response/>"

    return app, seen


def _sign(url: str, form: dict[str, str], token: str = TOKEN, algorithm: str | None = None) -> str:
    return RequestValidator(token).compute_signature(url, form, algorithm)


@pytest.fixture
def signed_app() -> tuple[Flask, list[dict[str, str]]]:
    return _app(test_config(TWILIO_AUTH_TOKEN=TOKEN))


def _post(app: Flask, path: str, headers: dict[str, str], base_url: str = "http://localhost") -> Any:
    return app.test_client().post(path, data=FORM, headers=headers, base_url=base_url)


def test_a_request_signed_with_the_auth_token_reaches_the_view(signed_app: Any) -> None:
    app, seen = signed_app
    signature = _sign("http://localhost/ivr/test-signed?turn=3", FORM)
    response = _post(app, "/ivr/test-signed?turn=3", {"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert seen == [FORM]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"X-Twilio-Signature": ""},
        {"X-Twilio-Signature": _sign("http://localhost/ivr/test-signed", FORM, token="another-account")},
        # signed for other parameters: a forged Digits value
        {"X-Twilio-Signature": _sign("http://localhost/ivr/test-signed", {**FORM, "Digits": "1"})},
        # signed for another URL (a replay against another step)
        {"X-Twilio-Signature": _sign("http://localhost/ivr/other", FORM)},
    ],
    ids=["missing", "empty", "wrong token", "other parameters", "other url"],
)
def test_missing_or_forged_signatures_get_403_and_the_view_never_runs(
    signed_app: Any, headers: dict[str, str]
) -> None:
    app, seen = signed_app
    response = _post(app, "/ivr/test-signed", headers)
    assert response.status_code == 403
    assert seen == []


def test_percent_escaped_korean_in_the_query_is_checked_as_sent() -> None:
    app, seen = _app(test_config(TWILIO_AUTH_TOKEN=TOKEN))
    # Twilio signs the query exactly as written in the action URL; request.url would decode it
    query = "turn=2&label=%EB%B0%94%EC%9D%B4%EC%98%A4+%EB%B6%84%EC%95%BC&q=%27a%26b%27"
    signature = _sign(f"http://localhost/ivr/test-signed?{query}", FORM)
    response = _post(app, f"/ivr/test-signed?{query}", {"X-Twilio-Signature": signature})
    assert response.status_code == 200
    assert seen == [FORM]


def test_behind_an_https_proxy_the_public_base_url_is_what_twilio_signed() -> None:
    config = test_config(TWILIO_AUTH_TOKEN=TOKEN, PUBLIC_BASE_URL="https://hotline.example.org/")
    app, seen = _app(config)
    # the proxy forwards to plain http on an internal host; Twilio signed the public https URL
    public = _sign("https://hotline.example.org/ivr/test-signed?turn=1", FORM)
    internal = _sign("http://10.0.0.5:8000/ivr/test-signed?turn=1", FORM)
    path, base = "/ivr/test-signed?turn=1", "http://10.0.0.5:8000"
    assert _post(app, path, {"X-Twilio-Signature": internal}, base).status_code == 403
    assert _post(app, path, {"X-Twilio-Signature": public}, base).status_code == 200
    # Twilio may sign with the default port written out; the library accepts both forms
    with_port = _sign("https://hotline.example.org:443/ivr/test-signed?turn=1", FORM)
    assert _post(app, path, {"X-Twilio-Signature": with_port}, base).status_code == 200
    assert len(seen) == 2


def test_webhook_shared_key_signatures_use_hmac_sha256_with_the_named_key() -> None:
    config = test_config(TWILIO_AUTH_TOKEN=TOKEN, TWILIO_WEBHOOK_SHARED_KEYS="wk_1=shared-secret-1")
    app, seen = _app(config)
    url = "http://localhost/ivr/test-signed"
    settings = {"X-Twilio-Webhooks-Signature-Settings": "key=wk_1,algorithm=HMAC_SHA256"}
    good = _sign(url, FORM, token="shared-secret-1", algorithm="HMAC_SHA256")
    sha1_with_the_shared_key = _sign(url, FORM, token="shared-secret-1")
    with_the_auth_token = _sign(url, FORM, algorithm="HMAC_SHA256")
    assert _post(app, "/ivr/test-signed", {**settings, "X-Twilio-Signature": good}).status_code == 200
    for bad in (sha1_with_the_shared_key, with_the_auth_token):
        assert _post(app, "/ivr/test-signed", {**settings, "X-Twilio-Signature": bad}).status_code == 403
    unknown_key = {"X-Twilio-Webhooks-Signature-Settings": "key=wk_2,algorithm=HMAC_SHA256"}
    assert _post(app, "/ivr/test-signed", {**unknown_key, "X-Twilio-Signature": good}).status_code == 403
    unsupported = {"X-Twilio-Webhooks-Signature-Settings": "key=wk_1,algorithm=HMAC_MD5"}
    assert _post(app, "/ivr/test-signed", {**unsupported, "X-Twilio-Signature": good}).status_code == 403
    assert len(seen) == 1


def test_without_an_auth_token_only_the_development_token_signs(caplog: pytest.LogCaptureFixture) -> None:
    config = test_config()
    assert config.twilio_auth_token is None
    app, seen = _app(config)
    url = "http://localhost/ivr/test-signed"
    with caplog.at_level(logging.WARNING, logger="ivr.signature"):
        warn_about_development_token(app)
    assert "TWILIO_AUTH_TOKEN is not set" in caplog.text
    dev = _sign(url, FORM, token=DEVELOPMENT_AUTH_TOKEN)
    assert _post(app, "/ivr/test-signed", {"X-Twilio-Signature": dev}).status_code == 200
    assert _post(app, "/ivr/test-signed", {"X-Twilio-Signature": _sign(url, FORM)}).status_code == 403


def test_a_public_base_url_without_an_auth_token_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        test_config(PUBLIC_BASE_URL="https://hotline.example.org")


def test_switching_the_check_off_accepts_anything_loudly(caplog: pytest.LogCaptureFixture) -> None:
    app, seen = _app(replace(test_config(), verify_signatures=False))
    with caplog.at_level(logging.WARNING, logger="ivr.signature"):
        warn_about_signatures(app)
    assert "verify_signatures is false" in caplog.text
    assert _post(app, "/ivr/test-signed", {}).status_code == 200
    assert seen == [FORM]


def _post_form(app: Flask, form: dict[str, str], signature: str, **options: Any) -> Any:
    return app.test_client().post(
        "/ivr/test-signed", data=form, headers={"X-Twilio-Signature": signature}, **options
    )


def test_a_json_body_without_body_sha256_is_refused_not_an_error(signed_app: Any) -> None:
    app, seen = signed_app
    body = '{"CallSid": "CA1"}'
    # Signed as if it were a form: twilio's validator cannot check a JSON body without ?bodySHA256=
    signature = _sign("http://localhost/ivr/test-signed", {})
    response = app.test_client().post(
        "/ivr/test-signed",
        data=body,
        content_type="application/json",
        headers={"X-Twilio-Signature": signature},
    )
    assert response.status_code == 403
    assert seen == []


def test_a_json_body_signed_through_body_sha256_is_accepted(signed_app: Any) -> None:
    app, seen = signed_app
    body = '{"CallSid": "CA1"}'
    url = f"/ivr/test-signed?bodySHA256={RequestValidator(TOKEN).compute_hash(body)}"
    headers = {"X-Twilio-Signature": _sign(f"http://localhost{url}", {})}
    client = app.test_client()
    ok = client.post(url, data=body, content_type="application/json", headers=headers)
    assert ok.status_code == 200
    tampered = client.post(
        url, data=body.replace("CA1", "CA2"), content_type="application/json", headers=headers
    )
    assert tampered.status_code == 403
    assert len(seen) == 1


def test_a_form_with_thousands_of_fields_is_refused_before_it_is_parsed(signed_app: Any) -> None:
    app, seen = signed_app
    # Correctly signed, so only the field count refuses it; 110,000 unsigned fields took 1.1 s to parse.
    form = {**FORM, **{f"X{n}": "" for n in range(MAX_WEBHOOK_FIELDS)}}
    assert _post_form(app, form, _sign("http://localhost/ivr/test-signed", form)).status_code == 413
    flood = "&".join(f"f{n}=" for n in range(110_000))
    response = app.test_client().post(
        "/ivr/test-signed", data=flood, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413
    assert seen == []


@pytest.mark.parametrize("content_type", ["application/x-www-form-urlencoded", "multipart/form-data"])
def test_a_body_larger_than_any_twilio_sends_is_refused(signed_app: Any, content_type: str) -> None:
    app, seen = signed_app
    form = {**FORM, "SpeechResult": "가" * MAX_WEBHOOK_BYTES}
    signature = _sign("http://localhost/ivr/test-signed", form)
    assert _post_form(app, form, signature, content_type=content_type).status_code == 413
    assert seen == []


def test_the_limits_leave_room_for_a_long_speech_result(signed_app: Any) -> None:
    app, seen = signed_app
    form = {**FORM, "SpeechResult": "바이오 분야 장비 사용 문의입니다. " * 100}
    assert _post_form(app, form, _sign("http://localhost/ivr/test-signed", form)).status_code == 200
    assert seen == [form]
