"""The Twilio webhooks: /ivr/voice, /ivr/voice/<step>, /ivr/status and /ivr/recording.

Every view checks the signature first (403, nothing stored), then hands the form to ivr.calls.
These views are the request wrapper of the call flow, so they commit themselves: Twilio must get
well-formed TwiML even when the commit fails, and a failure anywhere is answered with an apology
and a <Record> of the caller's message instead of a 500.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import TypeVar
from urllib.parse import quote

from flask import Blueprint, Flask, Response, abort, current_app, request
from sqlalchemy.exc import DBAPIError

from callflows.actions import Action
from callflows.config import FlowConfig
from callflows.state import STEPS
from ivr import calls, twiml
from ivr.signature import public_base, twilio_signed, warn_about_signatures
from tickets import clock
from tickets.db import db

log = logging.getLogger(__name__)

bp = Blueprint("ivr", __name__, url_prefix="/ivr")

_CALL_SID = re.compile(r"[A-Za-z0-9]{2,64}")
_WRITER = "hotline_webhook_writer"
T = TypeVar("T")


def step_path(step: str) -> str:
    return f"/ivr/voice/{step}"


def renderer(flow_config: FlowConfig, base: str) -> calls.Renderer:
    """TwiML whose action URLs (under `base`, the public origin) carry the turn (replays) and the
    language (the apology's language)."""
    recording_callback = base + "/ivr/recording"

    def render(actions: tuple[Action, ...], turn: int) -> str:
        def step_url(step: str, language: str) -> str:
            return f"{base}{step_path(step)}?turn={turn}&lang={quote(language)}"

        return twiml.render(actions, flow_config, step_url, recording_callback)

    return render


def _context() -> calls.CallContext:
    config = current_app.config["HOTLINE"]
    return calls.CallContext(
        flow=config.flow,
        policy=current_app.extensions["deadline_policy"],
        render=renderer(config.flow, public_base()),
        now=clock.now(),
        timezone=config.timezone,
    )


def _one_writer() -> AbstractContextManager[object]:
    """Held from a webhook's first query to its commit (see init_app)."""
    writer: AbstractContextManager[object] = current_app.extensions[_WRITER]
    return writer


def _call_sid() -> str:
    sid = request.form.get("CallSid", "")
    if not _CALL_SID.fullmatch(sid):
        abort(400, "CallSid missing or malformed")
    return sid


def _xml(body: str) -> Response:
    return Response(body, status=200, content_type=twiml.XML_CONTENT_TYPE)


def _committed(work: Callable[[], T]) -> T:
    """Do a webhook's work and commit it; once more if the database connection turned out to be dead (a
    restart or failover the pool had not noticed yet): the rolled-back work is simply done again, on a
    fresh connection, rather than losing a callback Twilio will not repeat."""
    try:
        result = work()
        db.session.commit()
        return result
    except DBAPIError as error:
        if not error.connection_invalidated:
            raise
        db.session.rollback()
        log.warning(
            "%s: the database connection was lost (%s); doing the work again", request.path, error.orig
        )
    result = work()
    db.session.commit()
    return result


def _voice(handle: Callable[[calls.CallContext], str]) -> Response:
    """Run a voice webhook; on any failure roll back and apologise, recording the caller's message."""
    call_sid = _call_sid()
    ctx = _context()
    with _one_writer():
        try:
            body = _committed(lambda: handle(ctx))
        except Exception:  # whatever broke, the caller hears an apology and can still leave a message
            db.session.rollback()
            log.exception(
                "call %s: %s failed; answering with the apology and a recording", call_sid, request.url
            )
            language = request.args.get("lang", "")
            return _xml(calls.apology_twiml(ctx, language if language in ctx.flow.languages else "ko"))
    return _xml(body)


def _callback(handle: Callable[[calls.CallContext, str], object]) -> Response:
    """Run a status or recording callback. Twilio does not retry these, so a failure is logged with
    everything it carried (the recording URL above all) and answered 200."""
    call_sid = _call_sid()
    with _one_writer():
        try:
            _committed(lambda: handle(_context(), call_sid))
        except Exception:
            db.session.rollback()
            log.exception("call %s: %s failed; its data: %s", call_sid, request.path, dict(request.form))
    return _xml(twiml.EMPTY_RESPONSE)


@bp.post("/voice")
@twilio_signed
def incoming_call() -> Response:
    return _voice(lambda ctx: calls.answer_new_call(db.session(), ctx, _call_sid(), request.form))


@bp.post("/voice/<step>")
@twilio_signed
def call_step(step: str) -> Response:
    if step == calls.FALLBACK_STEP:
        return _voice(lambda ctx: calls.fallback_message(db.session(), ctx, _call_sid(), request.form))
    if step not in STEPS:
        abort(404)
    turn = calls.parse_turn(request.args.get("turn"))
    return _voice(lambda ctx: calls.answer_step(db.session(), ctx, _call_sid(), step, turn, request.form))


@bp.post("/status")
@twilio_signed
def call_status() -> Response:
    return _callback(lambda ctx, sid: calls.call_ended(db.session(), ctx, sid, request.form))


@bp.post("/recording")
@twilio_signed
def recording_status() -> Response:
    return _callback(lambda ctx, sid: calls.recording_ready(db.session(), ctx, sid, request.form))


def init_app(app: Flask) -> None:
    # SQLite lets one transaction at a time write (ours all begin IMMEDIATE), and a connection that finds
    # the file locked polls in SQLite's busy handler, sleeping up to 100 ms between tries: under a burst
    # of calls that, not the work, made the slowest answers. The webhook threads of a process take turns
    # on a lock instead, woken the moment the previous one commits. PostgreSQL locks only the call's row.
    sqlite = str(app.config["DATABASE_URL"]).startswith("sqlite")
    app.extensions[_WRITER] = threading.Lock() if sqlite else nullcontext()
    app.register_blueprint(bp)
    warn_about_signatures(app)
