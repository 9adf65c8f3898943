"""Two consultants refer the same ticket to the same institute at the same moment, each in its own thread and
transaction, on SQLite and PostgreSQL: one referral is made and the other is told 409.

Both may pass the "already referred?" check before either inserts; the unique (ticket, institute) decides,
and the loser's savepoint keeps its transaction usable for the answer. These tests commit (real concurrency
needs real transactions), so they use their own connections and delete what they made.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from tests.conftest import NOW
from tests.institutes.conftest import ROUTING_FIELDS, SUPPORT_TYPES
from tests.tickets.conftest import sla_app
from tickets import accounts, institutes, referrals
from tickets.intake import open_ticket
from tickets.models import Institute, OutboxMessage, Referral, Ticket, User
from tickets.referrals import MessageTexts, ReferralError

ROUNDS = 4  # a race lost by luck in one round is unlikely to be lost in all


@dataclass(frozen=True)
class Scene:
    prefix: str
    ticket_id: int
    consultants: tuple[int, int]  # a consultant holding the ticket and a supervisor
    institute_keys: tuple[str, ...]


@pytest.fixture
def scene(engine: Engine, config: Any) -> Iterator[Scene]:
    prefix = f"race-{uuid.uuid4().hex[:8]}"
    with sla_app(config).app_context(), Session(engine) as session, session.begin():
        kim = accounts.add_user(session, f"{prefix}-kim", "consultant", fields=["it"])
        boss = accounts.add_user(session, f"{prefix}-boss", "supervisor", fields=["it"])
        ticket = open_ticket(
            session, now=NOW, field="it", support_type="equipment", language="ko",
            caller_number="+821099990001", callback_number="+821099990001",
        )  # fmt: skip
        ticket.assignee = kim
        keys = tuple(f"{prefix}-lab{n}" for n in range(ROUNDS))
        for key in keys:
            row = {"key": key, "name_ko": f"{key} 연구원", "kind": "testing_body", "fields": "it",
                   "support_types": "equipment", "contacts": f"담당|{key}@example.org|"}  # fmt: skip
            institutes.save(
                session,
                institutes.parse_row(row, field_keys=ROUTING_FIELDS, support_type_keys=SUPPORT_TYPES),
            )
        session.flush()
        made = Scene(prefix, ticket.id, (kim.id, boss.id), keys)
    yield made
    with Session(engine) as session, session.begin():
        session.execute(delete(OutboxMessage).where(OutboxMessage.ticket_id == made.ticket_id))
        session.execute(delete(Ticket).where(Ticket.id == made.ticket_id))  # referrals go with it
        session.execute(delete(Institute).where(Institute.key.in_(made.institute_keys)))
        session.execute(delete(User).where(User.username.startswith(prefix)))


def _refer_at_once(engine: Engine, config: Any, scene: Scene, institute_key: str) -> list[Any]:
    """Both consultants refer at the same moment; returns each one's Referral id or ReferralError."""
    start = threading.Barrier(2)
    results: list[Any] = []
    texts = MessageTexts.from_config(config)

    def consultant(user_id: int) -> None:
        try:
            # Together from here (SQLite's first statement takes its one writer lock, so no later).
            start.wait(timeout=30)
            with Session(engine) as session, session.begin():
                ticket, user = session.get(Ticket, scene.ticket_id), session.get(User, user_id)
                assert ticket is not None and user is not None
                referral = referrals.refer(
                    session, ticket, institute_key=institute_key, by=user, now=ticket.created_at,
                    settings=config.referrals, texts=texts,
                )  # fmt: skip
                results.append(referral.id)
        except BaseException as error:  # noqa: BLE001 - the test looks at it
            results.append(error)

    threads = [threading.Thread(target=consultant, args=(u,)) for u in scene.consultants]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_two_consultants_referring_at_once_make_one_referral(
    engine: Engine, config: Any, scene: Scene
) -> None:
    for key in scene.institute_keys:
        results = _refer_at_once(engine, config, scene, key)
        made = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if isinstance(r, ReferralError)]
        assert len(made) == 1 and len(refused) == 1, results
        assert (refused[0].status, refused[0].code) == (409, "already_referred")
    with Session(engine) as session:
        count = session.scalar(select(func.count(Referral.id)).where(Referral.ticket_id == scene.ticket_id))
        emails = session.scalar(
            select(func.count(OutboxMessage.id)).where(
                OutboxMessage.ticket_id == scene.ticket_id, OutboxMessage.channel == "email"
            )
        )
    assert count == ROUNDS and emails == ROUNDS  # each institute was written to once
