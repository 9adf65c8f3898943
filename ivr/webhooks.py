"""The Twilio webhooks: /ivr/voice, /ivr/voice/<step>, /ivr/status and /ivr/recording.

Every view checks the signature first (403, nothing stored), then hands the form to ivr.calls.
These views are the request wrapper of the call flow, so they commit themselves: Twilio must get
well-formed TwiML even when the commit fails. The work runs under the webhook's database budget
(tickets.db.webhook_budget) and is awaited at most `answer_seconds`, so even a frozen database leaves
the caller with an answer. A database that refuses connections (restarting) is retried for a moment.

A webhook that still cannot be saved is kept in the durable spool (ivr.spool) and replayed through these
same views later (replay_spooled), and the caller hears an apology and a <Record> of their message; if
that message cannot be saved either, a goodbye (never a second apology). Nothing a caller gave exists
only in a log, and logs hold only allow-listed fields, numbers masked (tickets.logsafe).
"""

from __future__ import annotations

import inspect
import logging
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import TypeVar
from urllib.parse import quote

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    copy_current_request_context,
    current_app,
    g,
    request,
)
from sqlalchemy.exc import DBAPIError

from callflows.call_actions import Action
from callflows.flow_config import FlowConfig
from callflows.state import STEPS
from ivr import calls, metrics, twiml
from ivr.signature import public_base, twilio_signed, warn_about_signatures
from ivr.spool import Spool, SpooledWebhook
from scheduler.runner import EXTRA_JOBS
from tickets import clock
from tickets.db import database_unavailable, db, webhook_budget
from tickets.logsafe import log_safe, log_safe_fields

log = logging.getLogger(__name__)

bp = Blueprint("ivr", __name__, url_prefix="/ivr")

_CALL_SID = re.compile(r"[A-Za-z0-9]{2,64}")
_WRITER = "hotline_webhook_writer"
SPOOL = "hotline_webhook_spool"  # app.extensions key of this app's ivr.spool.Spool
SPOOL_REPLAY_SECONDS = 30
RECOVERY_SECONDS = 60
# What a failed webhook's log line may show (log_safe masks the numbers, the digits typed included)
LOGGED_FIELDS = (
    "CallSid", "CallStatus", "CallDuration", "Direction", "From", "To", "Digits",
    "RecordingSid", "RecordingStatus", "RecordingDuration",
)  # fmt: skip
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
    replayed_at: datetime | None = g.get("replayed_at")
    return calls.CallContext(
        flow=config.flow,
        render=renderer(config.flow, public_base()),
        now=replayed_at or clock.now(),  # a replayed webhook happened when Twilio posted it
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
    """Do a webhook's work and commit it. Done again on a fresh connection once if the pooled one turned
    out to be dead (a restart or failover the pool had not noticed yet), and again after a short pause
    for as long as retry_unavailable_seconds while the database refuses connections (restarting): the
    rolled-back work is simply redone, rather than losing a callback Twilio will not repeat."""
    deadline = time.monotonic() + current_app.config["HOTLINE"].database.retry_unavailable_seconds
    pause, redone = 0.05, False
    while True:
        try:
            result = work()
            db.session.commit()
            return result
        except DBAPIError as error:
            db.session.rollback()
            if error.connection_invalidated and not redone:
                redone = True
                log.warning(
                    "%s: the database connection was lost (%s); doing the work again",
                    log_safe(request.path), log_safe(error.orig),
                )  # fmt: skip
            elif database_unavailable(error) and time.monotonic() + pause < deadline:
                log.warning("%s: the database is unavailable; trying again", log_safe(request.path))
                time.sleep(pause)
                pause = min(2 * pause, 0.5)
            else:
                raise


def _saved(handle: Callable[[calls.CallContext], T]) -> T:
    """Run a webhook's work to its commit, awaited at most answer_seconds (TimeoutError after that).

    The work runs in a thread of its own: a frozen database (SIGSTOP, a dead network path) answers
    neither statements nor the server-side timeouts, and only a thread can be left waiting on it. If it
    finishes late, its commit stands; the spooled copy then replays into nothing.
    """
    ctx = _context()
    outcome: Future[T] = Future()

    @copy_current_request_context
    def work() -> None:
        try:
            with _one_writer(), webhook_budget():
                outcome.set_result(_committed(lambda: handle(ctx)))
        except BaseException as error:  # handed to the waiting request, which answers for it
            db.session.rollback()
            outcome.set_exception(error)

    threading.Thread(target=work, name=f"webhook {request.path}", daemon=True).start()
    return outcome.result(timeout=current_app.config["HOTLINE"].database.answer_seconds)


def _keep(call_sid: str, error: BaseException) -> None:
    """A webhook that could not be saved: into the spool, replayed once the database answers."""
    fields = log_safe_fields(request.form, LOGGED_FIELDS)
    what = "timed out" if isinstance(error, TimeoutError) else f"failed ({type(error).__name__})"
    webhook = SpooledWebhook(
        path=request.path,
        args=request.args.to_dict(),
        form=request.form.to_dict(),
        base_url=public_base(),
        at=clock.now().isoformat(),
    )
    try:
        current_app.extensions[SPOOL].append(webhook)
    except Exception:
        log.exception("call %s: %s %s and could not be spooled: %s", call_sid, request.path, what, fields)
        return
    log.error(
        "call %s: %s %s; kept in the spool as %s: %s", call_sid, request.path, what, webhook.id, fields,
        exc_info=not isinstance(error, TimeoutError),
    )  # fmt: skip


def _voice(handle: Callable[[calls.CallContext], str]) -> Response:
    """Run a voice webhook; on any failure keep it in the spool and apologise, recording the caller's
    message; if what failed was that message, say goodbye instead of apologising again."""
    call_sid = _call_sid()
    try:
        return _xml(_saved(handle))
    except Exception as error:  # whatever broke, the caller hears an answer and what they gave is kept
        if g.get("replayed_at"):
            raise
        _keep(call_sid, error)
    ctx = _context()
    language = request.args.get("lang", "")
    language = language if language in ctx.flow.languages else ctx.flow.default_language
    if request.path == step_path(calls.FALLBACK_STEP):
        return _xml(calls.goodbye_twiml(ctx, language))
    metrics.count_apology()
    return _xml(calls.apology_twiml(ctx, language))


def _callback(handle: Callable[[calls.CallContext, str], object]) -> Response:
    """Run a status or recording callback. Twilio does not retry these, so a failure is kept in the
    spool (the recording URL above all) and answered 200."""
    call_sid = _call_sid()
    try:
        _saved(lambda ctx: handle(ctx, call_sid))
    except Exception as error:
        if g.get("replayed_at"):
            raise
        _keep(call_sid, error)
    return _xml(twiml.EMPTY_RESPONSE)


_REPLAYABLE = {"ivr.incoming_call", "ivr.call_step", "ivr.call_status", "ivr.recording_status"}


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


def replay_spooled(app: Flask) -> int:
    """Replay this app's spool through the views above (no URL is fetched, no signature checked again:
    each was checked when it arrived). Returns how many webhooks were replayed."""

    def replay(webhook: SpooledWebhook) -> None:
        with app.test_request_context(
            webhook.path,
            base_url=webhook.base_url,
            method="POST",
            query_string=webhook.args,
            data=webhook.form,
        ):
            if request.url_rule is None or request.url_rule.endpoint not in _REPLAYABLE:
                raise LookupError(f"not a webhook: {webhook.path!r}")
            view = inspect.unwrap(app.view_functions[request.url_rule.endpoint])  # without twilio_signed
            g.replayed_at = datetime.fromisoformat(webhook.at)
            try:
                view(**(request.view_args or {}))
            finally:
                g.pop("replayed_at", None)  # g may be the enclosing job's

    spool: Spool = app.extensions[SPOOL]
    replayed = spool.replay(replay)
    if replayed:
        log.info("replayed %d spooled webhook(s)", replayed)
    return replayed


def replay_at_startup(app: Flask) -> None:
    """A serving process starting (after a crash, say) first replays what its host spooled; a database
    still down leaves the spool for the scheduler's job."""
    with app.app_context():
        try:
            replay_spooled(app)
        except Exception:
            log.exception("replaying the webhook spool at start-up failed; the scheduler will retry")


def file_unfiled_calls(app: Flask) -> int:
    """The recovery job: calls that ended or went quiet without a ticket get an incomplete one.
    Returns how many tickets it filed."""
    config = app.config["HOTLINE"]
    ctx = calls.CallContext(
        flow=config.flow,
        render=renderer(config.flow, config.public_base_url or ""),
        now=clock.now(),
        timezone=config.timezone,
    )
    with db.transaction() as session:
        return len(calls.file_unfiled_calls(session, ctx))


def init_app(app: Flask) -> None:
    # SQLite lets one transaction at a time write (ours all begin IMMEDIATE), and a connection that finds
    # the file locked polls in SQLite's busy handler, sleeping up to 100 ms between tries: under a burst
    # of calls that, not the work, made the slowest answers. The webhook threads of a process take turns
    # on a lock instead, woken the moment the previous one commits. PostgreSQL locks only the call's row.
    sqlite = str(app.config["DATABASE_URL"]).startswith("sqlite")
    app.extensions[_WRITER] = threading.Lock() if sqlite else nullcontext()
    app.extensions[SPOOL] = Spool(app.config["HOTLINE"].spool_dir)
    jobs = app.extensions.setdefault(EXTRA_JOBS, {})
    # the spool before the recovery job at start-up: a replayed call files its own, fuller ticket
    jobs["webhook_spool_replay"] = (lambda: replay_spooled(app), SPOOL_REPLAY_SECONDS)
    jobs["unfiled_call_recovery"] = (lambda: file_unfiled_calls(app), RECOVERY_SECONDS)
    app.register_blueprint(bp)
    warn_about_signatures(app)
