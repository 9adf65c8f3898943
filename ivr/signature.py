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
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, cast
from urllib.parse import quote

from flask import Flask, abort, current_app, request
from twilio.request_validator import (
    SIGNATURE_HEADER,
    SIGNATURE_SETTINGS_HEADER,
    RequestValidator,
    get_signature_algorithm,
)

from tickets.logsafe import log_safe

log = logging.getLogger(__name__)

# Public on purpose: it only ever guards a development machine (see ivr.config).
DEVELOPMENT_AUTH_TOKEN = "hotline1379-development-token-not-a-secret"

F = TypeVar("F", bound=Callable[..., Any])


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
    params: Any = request.form
    if request.mimetype == "application/json":
        params = request.get_data(as_text=True)  # signed through ?bodySHA256= instead
    validator = _validator(secret)
    return bool(validator.validate(requested_url(), params, signature, get_signature_algorithm(settings)))


@functools.lru_cache(maxsize=16)
def _validator(secret: str) -> RequestValidator:
    """One per secret (there are a handful), not one per request."""
    return RequestValidator(secret)


def twilio_signed(view: F) -> F:
    """Answer 403 (and touch nothing) unless the request carries a valid Twilio signature."""

    @functools.wraps(view)
    def checked(*args: Any, **kwargs: Any) -> Any:
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
