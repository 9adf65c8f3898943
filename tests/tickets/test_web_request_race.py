"""The web form under a double click or a script: the right code sent several times at once files one
ticket, and codes asked for at once for one number stop at the hourly limit, on SQLite and PostgreSQL. These
tests commit, from real threads with sessions of their own, so they delete what they made."""

from __future__ import annotations

import re
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from tests.conftest import NOW
from tests.tickets.conftest import sla_app
from tickets import web_requests
from tickets.models import LoginThrottle, OutboxMessage, Ticket, WebRequest
from tickets.throttle import EVENT_KEY_PREFIX
from tickets.web_requests import Answers

RACERS = 6


@pytest.fixture
def answers(engine: Engine) -> Iterator[Answers]:
    """Answers with a number of this test's own; everything made with it is removed afterwards."""
    number = f"+82109{uuid.uuid4().int % 10**7:07d}"
    yield Answers("ko", "한빛정밀", "김민수", "energy", "advice", number, "배터리 열화 문의")
    with Session(engine) as session, session.begin():
        for ticket in session.scalars(select(Ticket).where(Ticket.callback_number == number)):
            session.execute(delete(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
            session.delete(ticket)
        session.execute(delete(OutboxMessage).where(OutboxMessage.recipient == number))
        session.execute(delete(WebRequest).where(WebRequest.callback_number == number))
        session.execute(delete(LoginThrottle).where(LoginThrottle.username == EVENT_KEY_PREFIX + "web-code"))


def _at_once(engine: Engine, work: Callable[[Session, int], str]) -> Counter[str]:
    """`work` in RACERS threads released together, each with a session of its own; how each ended."""
    start = threading.Barrier(RACERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def race(n: int) -> None:
        try:
            start.wait(timeout=30)
            outcome = work(Session(engine), n)
        except web_requests.Refused as refused:
            outcome = refused.reason
        except BaseException as error:  # noqa: BLE001 - reported by the test
            outcome = repr(error)
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=race, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_the_right_code_sent_at_once_files_one_ticket(engine: Engine, config: Any, answers: Answers) -> None:
    with Session(engine) as session, session.begin():
        request = web_requests.start(session, answers, address="198.51.100.7", now=NOW, flow=config.flow)
        token = request.token
        body = session.scalars(
            select(OutboxMessage.payload).where(OutboxMessage.recipient == answers.callback_number)
        ).one()["body"]
    code = re.search(r"\d{6}", body).group(0)  # type: ignore[union-attr]

    app = sla_app(config)

    def prove(session: Session, _n: int) -> str:
        with app.app_context(), session, session.begin():
            web_requests.prove_and_file(
                session, token, code, now=NOW, flow=config.flow, timezone=config.timezone
            )
            return "filed"

    assert _at_once(engine, prove) == Counter({"filed": 1, "not_found": RACERS - 1})
    with Session(engine) as session:
        tickets = session.scalars(
            select(Ticket).where(Ticket.callback_number == answers.callback_number)
        ).all()
        assert [t.channel for t in tickets] == ["web"]


def test_codes_asked_for_at_once_stop_at_three(engine: Engine, config: Any, answers: Answers) -> None:

    def ask(session: Session, n: int) -> str:
        with session, session.begin():
            web_requests.start(session, answers, address=f"198.51.100.{n}", now=NOW, flow=config.flow)
            return "sent"

    assert _at_once(engine, ask) == Counter({"sent": 3, "too_many_codes": RACERS - 3})
