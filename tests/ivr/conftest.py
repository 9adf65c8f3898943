"""Whole calls through the simulator's TwiML-following engine, with signed requests, in-process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.signature import signing_token
from ivr.simulator import CallResult, CallSimulator, FlaskTransport, ScriptedCaller
from tickets.models import Call, OutboxMessage, Ticket

PlaceCall = Callable[..., CallResult]


@pytest.fixture
def place_call(app: Flask) -> PlaceCall:
    def place(
        script: str = "",
        *,
        from_number: str = "+821012345678",
        otherwise: str = "silence",
        base_url: str = "http://localhost",
        transport: Any = None,
        **options: Any,
    ) -> CallResult:
        simulator = CallSimulator(
            transport or FlaskTransport(app),
            base_url,
            signing_token(app.config["HOTLINE"]),
            ScriptedCaller(script, otherwise),
            from_number=from_number,
            **options,
        )
        return simulator.run()

    return place


def call_row(session: Session, result: CallResult) -> Call:
    session.expire_all()
    call = session.scalar(select(Call).where(Call.call_sid == result.call_sid))
    assert call is not None
    return call


def tickets_of(session: Session, result: CallResult) -> list[Ticket]:
    session.expire_all()
    query = select(Ticket).join(Call, Ticket.call_id == Call.id).where(Call.call_sid == result.call_sid)
    return list(session.scalars(query))


def outbox(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
