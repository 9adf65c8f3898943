"""The X-Twilio-Signature check for every Twilio-facing view: `@twilio_signed`.

Twilio signs the URL it requested plus the POST parameters. That URL is rebuilt here from
PUBLIC_BASE_URL (the app behind a proxy or tunnel) or from the request's own scheme and host, and
always from the RAW query string: Flask's `request.url` decodes percent-escapes, so a valid request
whose query holds Korean or quoted characters would fail against it.

Two signing schemes, both checked by twilio's RequestValidator:
- the account Auth Token with HMAC-SHA1 (the default);
- a webhook SharedKey, announced by `X-Twilio-Webhooks-Signature-Settings: key=<id>,algorithm=…`
  (HMAC-SHA256). Its secret comes from TWILIO_WEBHOOK_SHARED_KEYS ("id=secret,…").

Without TWILIO_AUTH_TOKEN (a laptop, tests) requests must be signed with DEVELOPMENT_AUTH_TOKEN,
which the local call simulator also uses; ivr.config refuses a PUBLIC_BASE_URL without a real token.

The signature covers every field, so checking it means parsing the body first: the body is capped in bytes
and in fields before that (Werkzeug caps only multipart forms by part count, and Twilio posts urlencoded).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import parse_qs, quote, urlsplit

from flask import Flask, abort, current_app, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from ivr import logs
from tickets.logsafe import log_safe

log = logging.getLogger(__name__)

# Public on purpose: it only ever guards a development machine (see ivr.config).
DEVELOPMENT_AUTH_TOKEN = "hotline1379-development-token-not-a-secret"

F = TypeVar("F", bound=Callable[..., Any])

# Twilio's webhooks carry a few dozen short fields (a speech result is the longest); these limits are many
# times that, and small enough that parsing and hashing a refused body costs next to nothing.
MAX_WEBHOOK_BYTES = 64 * 1024
MAX_WEBHOOK_FIELDS = 200


def signing_token(config: Any) -> str:
    """The Auth Token Twilio (or the simulator) signs with."""
    return config.twilio_auth_token or DEVELOPMENT_AUTH_TOKEN


def public_base() -> str:
    """Scheme, host and any path prefix under which Twilio reaches this app, without a trailing /."""
    configured = current_app.config["HOTLINE"].public_base_url
    if configured:
        return str(configured).rstrip("/")
    return f"{request.scheme}://{request.host}{request.script_root}"


def public_url(path: str, query: str = "") -> str:
    """An absolute URL for Twilio to call (TwiML actions, callbacks), e.g. `public_url("/ivr/status")`."""
    return public_base() + path + (f"?{query}" if query else "")


def requested_url() -> str:
    """The URL Twilio requested, as it signed it: the raw query string is kept byte for byte."""
    # WSGI hands QUERY_STRING over as latin-1 text of the raw bytes; undo that for UTF-8 input.
    raw_query = request.environ.get("QUERY_STRING", "").encode("latin-1").decode("utf-8", "replace")
    path = quote(request.path, safe="/:@!$&'()*+,;=-._~")
    return public_url(path, raw_query)


def _secret_for(config: Any, settings: str | None) -> str | None:
    """The secret the request says it was signed with; None when it names a key we do not hold."""
    if not settings:
        return signing_token(config)
    shared: Mapping[str, str] = getattr(config, "twilio_webhook_shared_keys", None) or {}
    pairs = (part.partition("=") for part in settings.split(","))
    key_id = next((value.strip() for name, _, value in pairs if name.strip() == "key"), None)
    if not shared:
        return signing_token(config)  # the header only chose the algorithm
    return shared.get(key_id or "")


def request_is_signed() -> bool:
    config = current_app.config["HOTLINE"]
    signature = request.headers.get(SIGNATURE_HEADER, "")
    if not signature:
        return False
    settings = request.headers.get(SIGNATURE_SETTINGS_HEADER)
    secret = _secret_for(config, settings)
    if secret is None:
        return False
    url = requested_url()
    params: Any = request.form
    if request.mimetype == "application/json":
        # A JSON body is signed through ?bodySHA256= in the URL; without it twilio's validator would try
        # to read the body as form fields and fail, so such a request is simply not signed.
        if "bodySHA256" not in parse_qs(urlsplit(url).query):
            return False
        params = request.get_data(as_text=True)
    validator = _validator(secret)
    return bool(validator.validate(url, params, signature, get_signature_algorithm(settings)))


def refuse_oversized_body() -> None:
    """Answer 413 for a body far larger, or with far more fields, than any Twilio sends: before parsing it."""
    request.max_content_length = MAX_WEBHOOK_BYTES  # reading more raises 413
    request.max_form_parts = MAX_WEBHOOK_FIELDS  # multipart/form-data
    body = request.get_data(cache=True)  # kept: the form is parsed from it afterwards
    if request.mimetype == "application/x-www-form-urlencoded" and body.count(b"&") >= MAX_WEBHOOK_FIELDS:
        abort(413, description=f"more than {MAX_WEBHOOK_FIELDS} form fields")


@functools.lru_cache(maxsize=16)
def _validator(secret: str) -> RequestValidator:
    """One per secret (there are a handful), not one per request."""
    return RequestValidator(secret)


def twilio_signed(view: F) -> F:
    """Answer 403 (and touch nothing) unless the request carries a valid Twilio signature; 413 for a body
    no Twilio webhook would send."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
        refuse_oversized_body()
        logs.note_call_sid(request.form.get("CallSid", ""))
        if current_app.config["HOTLINE"].verify_signatures and not request_is_signed():
            log.warning(
                "refused %s %s: missing or invalid X-Twilio-Signature (CallSid %s, signed URL tried: %s)",
                request.method,
                log_safe(request.path),
                log_safe(request.form.get("CallSid") or "-", 64),  # a forged CallSid may hold a newline
                log_safe(requested_url(), 1024),
            )
            abort(403)
        return view(*args, **kwargs)

    return cast(F, checked)


def warn_about_signatures(app: Flask) -> None:
    """At start-up: say loudly when webhooks are not protected as they must be in production."""
    config = app.config["HOTLINE"]
    if not config.verify_signatures:
        log.warning(
            "!!! call_flow.verify_signatures is false: ANY request to /ivr/* is accepted as Twilio. "
            "Use this only on a development machine, never where the app can be reached from outside. !!!"
        )


def warn_about_development_token(app: Flask) -> None:
    """When serving (not for every CLI command): say that only the simulator can call these webhooks."""
    config = app.config["HOTLINE"]
    if config.verify_signatures and not config.twilio_auth_token:
        log.warning(
            "TWILIO_AUTH_TOKEN is not set: webhooks accept only requests signed with the development "
            "token (the `hotline call` simulator). Set it before pointing a Twilio number here."
        )
