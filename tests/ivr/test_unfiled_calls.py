"""The recovery job: a call that ended, or went quiet for ten minutes, without a ticket gets one
`incomplete` ticket, once, even with two schedulers at it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr import webhooks
from ivr.app import create_app
from ivr.calls import CallContext, call_ended, file_unfiled_calls
from tests.conftest import NOW, _migrate, _postgres_database, test_config
from tickets.clock import FrozenClock
from tickets.db import db
from tickets.models import Call, Ticket

CALLER = "+821012345678"


def _call(session: Session, sid: str, *, from_number: str = CALLER, ended: bool = False) -> Call:
    """A call whose caller chose a field and a kind of help before the webhooks stopped saving."""
    call = Call(
        call_sid=sid,
        from_number=from_number,
        to_number="+827040001379",
        state={"step": "callback", "field": "bio", "support_type": "advice", "language": "ko"},
        step="callback",
        turn=3,
        started_at=NOW,
        updated_at=NOW,
        ended_at=NOW if ended else None,
    )
    session.add(call)
    session.flush()
    return call


def _context(app: Flask) -> CallContext:
    config = app.config["HOTLINE"]
    return CallContext(
        flow=config.flow,
        render=webhooks.renderer(config.flow, "http://localhost"),
        now=NOW,
    )


def test_a_call_that_went_quiet_gets_one_incomplete_ticket_after_ten_minutes(
    app: Flask, session: Session, clock: FrozenClock
) -> None:
    call = _call(session, "CA" + "1" * 32)
    ctx = _context(app)
    assert file_unfiled_calls(session, replace(ctx, now=NOW + timedelta(minutes=9))) == []
    (ticket,) = file_unfiled_calls(session, replace(ctx, now=NOW + timedelta(minutes=11)))
    assert ticket.call_id == call.id and ticket.incomplete
    assert (ticket.field, ticket.support_type, ticket.callback_number) == ("bio", "advice", CALLER)
    assert file_unfiled_calls(session, replace(ctx, now=NOW + timedelta(minutes=20))) == []


def test_an_ended_call_is_filed_at_once_and_one_without_a_number_only_once_looked_at(
    app: Flask, session: Session
) -> None:
    ended = _call(session, "CA" + "2" * 32, ended=True)
    anonymous = _call(session, "CA" + "3" * 32, from_number="anonymous", ended=True)
    (ticket,) = file_unfiled_calls(session, _context(app))
    assert ticket.call_id == ended.id
    assert anonymous.filing_checked_at == NOW and anonymous.ticket is None  # kept for reporting
    assert file_unfiled_calls(session, _context(app)) == []


@pytest.fixture
def shared_app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """An app over a database of its own that commits, for two schedulers at once."""
    if database_url.startswith("sqlite"):
        urls: Iterator[str] = iter([f"sqlite:///{tmp_path / 'recovery.sqlite3'}"])
    else:
        urls = _postgres_database()
    for url in urls:
        _migrate(url)
        app = create_app(test_config(url, HOTLINE_SPOOL_DIR=str(tmp_path / "spool")))
        with app.app_context():
            yield app
            db.of(app).engine.dispose()


def test_two_schedulers_file_each_call_once(shared_app: Flask, clock: FrozenClock) -> None:
    with db.transaction() as session:
        for number in range(20):
            _call(session, f"CA{number:032d}", from_number=f"+8210123456{number:02d}", ended=True)
    barrier = threading.Barrier(2)
    filed: list[int] = []

    def scheduler() -> None:
        with shared_app.app_context():
            barrier.wait()
            filed.append(webhooks.file_unfiled_calls(shared_app))  # raises (and appends nothing) on error

    schedulers = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in schedulers:
        thread.start()
    for thread in schedulers:
        thread.join()
    assert len(filed) == 2 and sum(filed) == 20
    with db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Ticket)) == 20
        assert session.scalar(select(func.count()).where(Call.filing_checked_at.is_(None))) == 0


def test_a_status_callback_replayed_late_leaves_the_call_quiet_since_twilio_posted_it(
    app: Flask, session: Session, clock: FrozenClock
) -> None:
    """A callback replayed from the spool half an hour late must not make a quiet call look fresh: the
    recovery job files it as it would have, ten minutes after its last webhook."""
    call = _call(session, "CA" + "4" * 32)
    call.status = "ringing"
    session.flush()
    clock.move_to(NOW + timedelta(minutes=30))  # the replay runs now; Twilio posted a minute in
    posted = replace(_context(app), now=NOW + timedelta(minutes=1))
    form = {"CallSid": call.call_sid, "CallStatus": "in-progress"}
    assert call_ended(session, posted, call.call_sid, form) is None
    (ticket,) = file_unfiled_calls(session, replace(posted, now=NOW + timedelta(minutes=30)))
    assert ticket.call_id == call.id and ticket.incomplete
