"""A database outage loses no caller: webhooks retry a database that refuses connections, answer within
their budget whatever it does, keep what they could not save in the spool, replay it into exactly one
ticket, and apologise once at most.

The app runs on its own engine over a database of its own (what it writes commits); an outage is that
engine refusing new connections, as PostgreSQL does while it restarts."""

from __future__ import annotations

import gc
import importlib
import logging
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from ivr import spool as spool_module
from ivr.app import create_app
from ivr.signature import DEVELOPMENT_AUTH_TOKEN, signing_token
from ivr.simulator import CallSimulator, FlaskTransport, ScriptedCaller
from ivr.spool import Spool, SpooledWebhook
from ivr.webhooks import SPOOL, replay_spooled
from tests.conftest import _migrate, _postgres_database, test_config
from tickets.db import db
from tickets.models import Call, Ticket, TicketEvent

CALL_SID = "CA" + "7" * 32
CALLER = "+821012345678"
FORM = {"CallSid": CALL_SID, "From": CALLER, "To": "+827040001379", "CallStatus": "in-progress"}


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A migrated database of the same kind as `database_url`, for this test alone."""
    if database_url.startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'faults.sqlite3'}"
        _migrate(url)
        yield url
    else:
        for url in _postgres_database():
            _migrate(url)
            yield url


class Outage:
    """The app's engine refuses new connections ("connection refused") until `ends_at` (monotonic)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.ends_at = 0.0
        self.hang_seconds = 0.0
        event.listen(engine, "do_connect", self._connect)

    def _connect(self, dialect: Any, _record: Any, _cargs: Any, _cparams: Any) -> None:
        if self.hang_seconds:
            time.sleep(self.hang_seconds)  # a frozen server: nothing answers for a while
        if time.monotonic() < self.ends_at:
            raise dialect.loaded_dbapi.OperationalError("connection refused (a test's outage)")

    def start(self, seconds: float = 3600.0) -> None:
        self.ends_at = time.monotonic() + seconds
        self.engine.dispose()  # pooled connections go too, as in a restart

    def end(self) -> None:
        self.ends_at = 0.0


@pytest.fixture
def served(fresh_url: str, tmp_path: Path) -> Iterator[Flask]:
    config = test_config(fresh_url, HOTLINE_SPOOL_DIR=str(tmp_path / "spool"))
    app = create_app(config)
    with app.app_context():
        yield app
        db.of(app).engine.dispose()


@pytest.fixture
def outage(served: Flask) -> Outage:
    return Outage(db.engine)


def _budgets(app: Flask, **budgets: float) -> None:
    config = app.config["HOTLINE"]
    app.config["HOTLINE"] = replace(config, database=replace(config.database, **budgets))


def _post(app: Flask, path: str, form: dict[str, str], query: str = "") -> Any:
    url = f"http://localhost{path}" + (f"?{query}" if query else "")
    signature = RequestValidator(DEVELOPMENT_AUTH_TOKEN).compute_signature(url, form)
    return app.test_client().post(url, data=form, headers={"X-Twilio-Signature": signature})


def _spool(app: Flask) -> Spool:
    spool: Spool = app.extensions[SPOOL]
    return spool


def _tickets(session: Session, call_sid: str) -> list[Ticket]:
    query = select(Ticket).join(Call, Ticket.call_id == Call.id).where(Call.call_sid == call_sid)
    return list(session.scalars(query))


def _place_call(app: Flask, script: str) -> Any:
    simulator = CallSimulator(
        FlaskTransport(app),
        "http://localhost",
        signing_token(app.config["HOTLINE"]),
        ScriptedCaller(script, "silence"),
        from_number=CALLER,
    )
    return simulator.run()


def test_a_database_refusing_connections_for_a_second_is_waited_for(served: Flask, outage: Outage) -> None:
    outage.start(seconds=1.0)  # within the 2 s the webhook retries
    started = time.monotonic()
    answer = _post(served, "/ivr/voice", FORM)
    assert time.monotonic() - started >= 0.9
    assert answer.status_code == 200 and b"<Gather" in answer.data and b"<Record" not in answer.data
    with db.transaction() as session:
        assert session.scalar(select(Call.turn).where(Call.call_sid == CALL_SID)) == 1


def test_a_whole_call_during_an_outage_is_spooled_and_replayed_into_one_ticket(
    served: Flask, outage: Outage
) -> None:
    _budgets(served, retry_unavailable_seconds=0.2)
    outage.start()
    result = _place_call(served, "fallback_message=record:25")
    assert result.steps == ["fallback_message"]  # the apology, a message, then goodbye
    assert result.ended_by == "hangup"
    assert [w.path for w in _spool(served).pending()] == [
        "/ivr/voice", "/ivr/voice/fallback_message", "/ivr/recording", "/ivr/status",
    ]  # fmt: skip
    outage.end()
    assert replay_spooled(served) == 4
    assert replay_spooled(served) == 0  # nothing left: a second run replays nothing
    with db.transaction() as session:
        (ticket,) = _tickets(session, result.call_sid)
        assert ticket.callback_number == CALLER and ticket.incomplete
        assert ticket.recording_url and ticket.recording_duration == 25
    assert _spool(served).pending() == []


def test_a_replay_that_crashed_midway_is_finished_without_a_second_ticket(
    served: Flask, outage: Outage, monkeypatch: pytest.MonkeyPatch
) -> None:
    _budgets(served, retry_unavailable_seconds=0.2)
    outage.start()
    result = _place_call(served, "fallback_message=record:25")
    outage.end()
    real_replay = spool_module._replay_file

    def crash_after_the_second(claimed: Path, handle: Any) -> int:
        seen: list[SpooledWebhook] = []

        def handle_then_crash(webhook: SpooledWebhook) -> None:
            handle(webhook)
            seen.append(webhook)
            if len(seen) == 2:  # done, but not yet noted as done: the worst moment to die
                raise SystemExit("crash")

        return real_replay(claimed, handle_then_crash)

    monkeypatch.setattr(spool_module, "_replay_file", crash_after_the_second)
    with pytest.raises(SystemExit):
        replay_spooled(served)
    monkeypatch.setattr(spool_module, "_replay_file", real_replay)
    assert replay_spooled(served) == 3  # the second again, then the two never replayed
    with db.transaction() as session:
        (ticket,) = _tickets(session, result.call_sid)
        created = session.scalar(
            select(func.count()).where(TicketEvent.ticket_id == ticket.id, TicketEvent.type == "created")
        )
        assert created == 1 and ticket.recording_url


def test_when_the_message_after_the_apology_fails_too_the_caller_hears_goodbye(
    served: Flask, outage: Outage
) -> None:
    _budgets(served, retry_unavailable_seconds=0.2)
    outage.start()
    form = {
        **FORM,
        "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE1",
        "RecordingDuration": "12",
    }
    answer = _post(served, "/ivr/voice/fallback_message", form, "turn=0&lang=ko")
    assert answer.status_code == 200
    assert b"<Hangup" in answer.data and b"<Record" not in answer.data  # no second apology
    (kept,) = _spool(served).pending()
    assert kept.form["RecordingUrl"] == form["RecordingUrl"] and kept.args == {"turn": "0", "lang": "ko"}


def test_a_hung_database_still_gets_an_answer_within_the_budget(served: Flask, outage: Outage) -> None:
    _budgets(served, answer_seconds=0.5)
    outage.hang_seconds = 1.5  # every new connection takes this long; then it works
    outage.start(seconds=0)
    started = time.monotonic()
    answer = _post(served, "/ivr/voice", FORM)
    assert time.monotonic() - started < 1.2
    assert answer.status_code == 200 and b"<Record" in answer.data  # the apology, in time
    assert [w.path for w in _spool(served).pending()] == ["/ivr/voice"]
    outage.hang_seconds = 0
    for thread in threading.enumerate():  # the webhook left waiting finishes on its own
        if thread.name.startswith("webhook "):
            thread.join(timeout=5)
    assert replay_spooled(served) == 1
    with db.transaction() as session:
        assert session.scalar(select(func.count()).where(Call.call_sid == CALL_SID)) == 1


def test_a_failed_callback_logs_masked_allow_listed_fields_and_spools_the_rest(
    served: Flask, outage: Outage, caplog: pytest.LogCaptureFixture
) -> None:
    _budgets(served, retry_unavailable_seconds=0.1)
    outage.start()
    recording_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/RE2"
    form = {**FORM, "RecordingUrl": recording_url, "RecordingSid": "RE2", "RecordingDuration": "9"}
    with caplog.at_level(logging.INFO):
        assert _post(served, "/ivr/recording", form).status_code == 200
    assert "010-****-5678" in caplog.text and "RE2" in caplog.text
    assert CALLER not in caplog.text and recording_url not in caplog.text
    (kept,) = _spool(served).pending()
    assert kept.form == form


def test_a_newline_in_a_refused_webhooks_call_sid_forges_no_log_line(
    client: Any, caplog: pytest.LogCaptureFixture
) -> None:
    forged = {**FORM, "CallSid": "CA1\n2026-11-27 INFO ivr.webhooks: all is well"}
    with caplog.at_level(logging.WARNING):
        assert client.post("/ivr/voice", data=forged).status_code == 403
    (record,) = [r for r in caplog.records if "X-Twilio-Signature" in r.getMessage()]
    assert "\n" not in record.getMessage() and "INFO ivr.webhooks: all is well," in record.getMessage()


def test_a_web_worker_starting_replays_its_hosts_spool(
    served: Flask, outage: Outage, fresh_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _budgets(served, retry_unavailable_seconds=0.1)
    outage.start()
    _post(served, "/ivr/voice", FORM)  # the apology; the greeting waits in the spool
    outage.end()
    monkeypatch.setenv("DATABASE_URL", fresh_url)
    monkeypatch.setenv("HOTLINE_SPOOL_DIR", str(tmp_path / "spool"))
    monkeypatch.setenv("SECRET_KEY", "test-secret")
    monkeypatch.delitem(sys.modules, "ivr.wsgi", raising=False)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # a worker freezes its heap; this test process must not
    importlib.import_module("ivr.wsgi")  # what each gunicorn worker does first
    assert _spool(served).pending() == []
    with db.transaction() as session:
        assert session.scalar(select(Call.turn).where(Call.call_sid == CALL_SID)) == 1
