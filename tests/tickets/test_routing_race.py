"""Tickets routed at the same moment, each in its own transaction and thread, on SQLite and PostgreSQL.

Without a lock two routings both count the same open tickets and give both tickets to the same person;
with it the field stays evenly dealt. These tests commit (real concurrency needs real transactions), so
they use their own connections and delete what they made.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from tests.tickets.conftest import sla_app
from tickets import accounts
from tickets.intake import open_ticket
from tickets.models import Ticket, User

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)  # a Friday, 10:00 in Seoul
CALLERS = 12


@pytest.fixture
def field(engine: Engine) -> Iterator[str]:
    """A field of its own (so nothing else in the database counts), cleaned up after the test."""
    key = f"race-{uuid.uuid4().hex[:8]}"
    yield key
    with Session(engine) as session, session.begin():
        session.execute(delete(Ticket).where(Ticket.field == key))  # events go with them (ON DELETE CASCADE)
        session.execute(delete(User).where(User.username.startswith(key)))


def _consultants(engine: Engine, field: str, fields_of: dict[str, list[str]]) -> None:
    with Session(engine) as session, session.begin():
        for name, fields in fields_of.items():
            accounts.add_user(session, f"{field}-{name}", "consultant", fields=fields)


def _route_at_once(engine: Engine, config: Any, fields: list[str]) -> list[BaseException]:
    """One thread per ticket; all open their transaction, then file the ticket at the same moment."""
    app = sla_app(config)
    start = threading.Barrier(len(fields))
    failures: list[BaseException] = []

    def caller(number: int, field: str) -> None:
        try:
            with app.app_context(), Session(engine) as session, session.begin():
                start.wait(timeout=30)
                phone = f"+8210{55000000 + number:08d}"
                open_ticket(
                    session, now=NOW, field=field, support_type="advice", language="ko",
                    caller_number=phone, callback_number=phone,
                )  # fmt: skip
        except BaseException as error:  # noqa: BLE001 - reported by the test
            failures.append(error)

    threads = [threading.Thread(target=caller, args=(n, f)) for n, f in enumerate(fields)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return failures


def _load(engine: Engine, fields: list[str]) -> Counter[str]:
    with Session(engine) as session:
        rows = session.execute(
            select(User.username).join(Ticket, Ticket.assignee_id == User.id).where(Ticket.field.in_(fields))
        ).scalars()
        return Counter(rows)


def test_simultaneous_tickets_in_one_field_are_dealt_evenly(engine: Engine, config: Any, field: str) -> None:
    _consultants(engine, field, {"kim": [field], "lee": [field], "park": [field]})
    assert _route_at_once(engine, config, [field] * CALLERS) == []
    load = _load(engine, [field])
    assert sum(load.values()) == CALLERS  # every ticket went to someone
    assert sorted(load.values()) == [CALLERS // 3] * 3, load


def test_a_consultant_in_two_fields_is_not_given_two_at_once(engine: Engine, config: Any, field: str) -> None:
    """Per group: kim covers A, lee covers A and B, park covers B; kim and park hold one ticket each.

    One ticket in A and one in B at once: whichever is routed first goes to lee (nothing open), the other
    then finds lee and the other consultant level and goes to the one who waited longer. So lee gets
    exactly one, in any order; both routings choosing lee at once would give lee two. The two routings lock
    overlapping sets of people, which must not deadlock either.
    """
    groups = [(f"{field}-{g}a", f"{field}-{g}b") for g in range(CALLERS // 2)]
    with Session(engine) as session, session.begin():
        for g, (a, b) in enumerate(groups):
            accounts.add_user(session, f"{field}-{g}-kim", "consultant", fields=[a])
            accounts.add_user(session, f"{field}-{g}-lee", "consultant", fields=[a, b])
            accounts.add_user(session, f"{field}-{g}-park", "consultant", fields=[b])
    earlier = NOW - timedelta(hours=1)
    with sla_app(config).app_context(), Session(engine) as session, session.begin():
        for g, (a, b) in enumerate(groups):
            lee = session.scalar(select(User).where(User.username == f"{field}-{g}-lee"))
            assert lee is not None
            lee.on_duty = False  # so the first tickets go to kim and park
            session.flush()
            for key in (a, b):
                phone = f"+8210{56000000 + g * 2 + (key == b):08d}"
                open_ticket(
                    session, now=earlier, field=key, support_type="advice", language="ko",
                    caller_number=phone, callback_number=phone,
                )  # fmt: skip
            lee.on_duty = True
    fields = [key for pair in groups for key in pair]
    try:
        assert _route_at_once(engine, config, fields) == []
        load = _load(engine, fields)
        assert sum(load.values()) == 2 * len(fields)
        assert {g: load[f"{field}-{g}-lee"] for g in range(len(groups))} == dict.fromkeys(
            range(len(groups)), 1
        )
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(Ticket).where(Ticket.field.in_(fields)))
