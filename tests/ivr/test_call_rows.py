"""The call row under races: the first request of a call inserted by another between our read and write."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr import call_rows, calls, webhooks
from tickets.models import Call

FORM = {"CallSid": "CA" + "7" * 32, "From": "+821012345678", "To": "+827040001379", "CallStatus": "ringing"}


def _answer_as_if_the_row_were_not_there_yet(app: Flask, session: Session, monkeypatch: Any) -> str:
    """Our SELECT … FOR UPDATE saw no row (the other request had not committed), then our INSERT collides."""
    real_lock = call_rows.lock_turn
    misses = iter([None])
    monkeypatch.setattr(call_rows, "lock_turn", lambda s, sid: next(misses, real_lock(s, sid)))
    with app.test_request_context("/ivr/voice", base_url="http://localhost"):
        return calls.answer_new_call(session, webhooks._context(), FORM["CallSid"], FORM)


def test_a_greeting_that_loses_the_insert_race_answers_with_the_winners_twiml(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context("/ivr/voice", base_url="http://localhost"):
        first = calls.answer_new_call(session, webhooks._context(), FORM["CallSid"], FORM)
    second = _answer_as_if_the_row_were_not_there_yet(app, session, monkeypatch)
    assert second == first and "<Gather" in first
    assert session.scalar(select(func.count()).select_from(Call)) == 1


def test_a_greeting_that_loses_the_race_to_a_status_callback_still_greets(
    app: Flask, session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with app.test_request_context("/ivr/status", base_url="http://localhost"):
        calls.call_ended(session, webhooks._context(), FORM["CallSid"], {**FORM, "CallStatus": "in-progress"})
    greeting = _answer_as_if_the_row_were_not_there_yet(app, session, monkeypatch)
    (call,) = session.scalars(select(Call))
    session.refresh(call)
    assert (
        "<Gather" in greeting and call.last_response == greeting and call.turn == 1 and call.step == "field"
    )
