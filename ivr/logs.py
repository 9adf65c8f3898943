"""Log lines: plain text by default, one JSON object per line with LOG_FORMAT=json; numbers always masked.

Each line says which request it belongs to (a request id, taken from X-Request-Id or made up, and returned
in that header), and the call SID, the ticket reference and the user when the request has them. They are
read from the request's WSGI environ rather than Flask's `g`: a webhook's work runs on a thread of its own
with a copy of the request context, which shares the environ but not `g`.

Every line goes through tickets.logsafe's one masking rule, whatever its logger, so a phone number that a
message or a traceback carries never reaches the log.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import IO, Any

from flask import Flask, Response, has_request_context, request

from tickets.auth import _USER_KEY
from tickets.logsafe import mask_numbers, strip_control

REQUEST_ID = "hotline.request_id"
CALL_SID = "hotline.call_sid"
_STARTED = "hotline.logs.started"
_SAFE_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")  # what we accept from X-Request-Id and CallSid
CONTEXT = ("request_id", "call_sid", "ticket", "user")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

requests_log = logging.getLogger("hotline.requests")


class RequestContext(logging.Filter):
    """Adds request_id, call_sid, ticket and user to every record (None outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name in CONTEXT:
            setattr(record, name, None)
        if has_request_context():
            environ = request.environ
            record.request_id = environ.get(REQUEST_ID)
            record.call_sid = environ.get(CALL_SID)
            reference = (request.view_args or {}).get("reference")
            record.ticket = mask_numbers(str(reference))[:32] if reference else None
            user = environ.get(_USER_KEY)
            # the loaded value only: an expired attribute would query the database from a log call
            record.user = user.__dict__.get("username") if user is not None else None
        return True


class MaskedText(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask_numbers(super().format(record))


class Json(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_numbers(record.getMessage()),
        }
        for name in CONTEXT:
            value = getattr(record, name, None)
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = mask_numbers(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def handler(stream: IO[str], log_format: str) -> logging.Handler:
    if log_format not in ("text", "json"):
        raise ValueError(f"LOG_FORMAT: expected text or json, got {log_format!r}")
    result = logging.StreamHandler(stream)
    result.setFormatter(Json() if log_format == "json" else MaskedText(TEXT_FORMAT))
    result.addFilter(RequestContext())
    return result


def configure(environ: Mapping[str, str] = os.environ, stream: IO[str] = sys.stderr) -> None:
    """The root logger for the CLI and the servers: LOG_FORMAT=json or text (the default)."""
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler(stream, (environ.get("LOG_FORMAT") or "text").strip().lower()))
    root.setLevel(logging.INFO)
    logging.getLogger("apscheduler.executors").setLevel(logging.WARNING)  # not a line per job run


def _identify() -> None:
    given = request.headers.get("X-Request-Id", "")
    request.environ[REQUEST_ID] = given if _SAFE_ID.fullmatch(given) else uuid.uuid4().hex
    request.environ[_STARTED] = time.monotonic()


def note_call_sid(sid: str) -> None:
    """The webhook's CallSid for its log lines. Called by the webhook once it has checked the body's size:
    reading the form here, before that check, would parse any flood of fields it is sent."""
    request.environ[CALL_SID] = sid if _SAFE_ID.fullmatch(sid) else None


def _log_request(response: Response) -> Response:
    response.headers["X-Request-Id"] = request.environ.get(REQUEST_ID, "")
    started = request.environ.get(_STARTED)
    milliseconds = (time.monotonic() - started) * 1000 if started is not None else 0.0
    # The path without its query (which may hold what a caller typed); gunicorn's access log is off.
    path = strip_control(request.path)[:200]
    requests_log.info("%s %s %d %.0fms", request.method, path, response.status_code, milliseconds)
    return response


def init_app(app: Flask) -> None:
    app.before_request(_identify)
    app.after_request(_log_request)
