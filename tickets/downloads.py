"""Downloads of personal data (CSV exports) need a reason, and leave an access-log row before they start.

The standard on safety measures asks that the reason for every download be confirmed. A download URL
takes it as `?reason=`; without one, the browser gets a short form that asks for it (and a program a 400).
The row is written and committed in a short transaction of its own before the first byte is streamed:
exports stream from read-only sessions after the request has ended, and a download that started is one
that happened, whether or not the client reads it to the end.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Response, render_template, request

from tickets import access_log
from tickets.db import db

MAX_REASON = 500


def reason() -> str | None:
    """The request's download reason, trimmed; None when it gave none."""
    text = (request.args.get("reason") or "").strip()
    return text[:MAX_REASON] or None


def ask_for_reason(title: str) -> Response:
    """The form that repeats this download with a reason (400: nothing was downloaded)."""
    fields = [(key, value) for key, value in request.args.items(multi=True) if key != "reason"]
    page = render_template("console/download_reason.html", title=title, fields=fields, action=request.path)
    return Response(page, status=400, mimetype="text/html")


def log_download(subjects: Iterable[str], why: str, **detail: Any) -> None:
    """The download's access-log row, committed now in its own transaction."""
    with db.writing() as session:
        access_log.record_request(session, access_log.Action.DOWNLOAD, subjects, reason=why, **detail)
