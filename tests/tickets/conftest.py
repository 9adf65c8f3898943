"""Factories for the ticket tests: people and tickets, with an injected clock."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from tests.conftest import NOW
from tickets import accounts, sla
from tickets.intake import open_ticket
from tickets.models import Ticket, User

_numbers = itertools.count(1)


def sla_app(config: Any) -> Flask:
    """An app with nothing but its SLA deadlines: a test's own threads call ticket services in its context."""
    app = Flask(__name__)
    app.config["HOTLINE"] = config
    sla.init_app(app)
    return app


@pytest.fixture
def make_user(session: Session) -> Callable[..., User]:
    def make(
        username: str, role: str = "consultant", fields: tuple[str, ...] = ("it",), **extra: Any
    ) -> User:
        user = accounts.add_user(
            session,
            username,
            role,
            fields=list(fields),
            password="hotline1379",
            phone=extra.pop("phone", None),
        )
        for key, value in extra.items():
            setattr(user, key, value)
        session.flush()
        return user

    return make


@pytest.fixture
def make_ticket(session: Session) -> Callable[..., Ticket]:
    def make(
        field: str = "it", *, now: datetime = NOW, callback_number: str | None = None, **extra: Any
    ) -> Ticket:
        number = callback_number or f"+8210{70000000 + next(_numbers):08d}"
        return open_ticket(
            session,
            now=now,
            field=field,
            support_type=extra.pop("support_type", "advice"),
            language=extra.pop("language", "ko"),
            caller_number=number,
            callback_number=number,
            **extra,
        )

    return make
