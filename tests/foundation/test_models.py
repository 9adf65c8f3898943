"""The constraints that keep the hotline honest hold in the database itself, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tickets.models import Call, Escalation, Ticket

T0 = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)


def _ticket(session: Session, reference: str = "1234-5678") -> Ticket:
    ticket = Ticket(reference=reference, field="it", status="new", created_at=T0)
    session.add(ticket)
    session.flush()
    return ticket


def test_a_call_sid_appears_once(session: Session) -> None:
    session.add(Call(call_sid="CA1"))
    session.flush()
    with session.begin_nested(), pytest.raises(IntegrityError):
        session.add(Call(call_sid="CA1"))
        session.flush()


def test_a_ticket_reference_is_unique(session: Session) -> None:
    _ticket(session)
    with session.begin_nested(), pytest.raises(IntegrityError):
        _ticket(session)


def test_an_escalation_level_happens_once_per_ticket(session: Session) -> None:
    ticket = _ticket(session)
    session.add(Escalation(ticket_id=ticket.id, level=1, due_at=T0))
    session.flush()
    with session.begin_nested(), pytest.raises(IntegrityError):
        session.add(Escalation(ticket_id=ticket.id, level=1, due_at=T0))
        session.flush()
    session.add(Escalation(ticket_id=ticket.id, level=2, due_at=T0))
    session.flush()


def test_an_unknown_status_is_refused(session: Session) -> None:
    with session.begin_nested(), pytest.raises(IntegrityError):
        session.add(Ticket(reference="1111-2222", field="it", status="lost"))
        session.flush()


def test_times_come_back_timezone_aware_in_utc(session: Session) -> None:
    seoul = timezone(timedelta(hours=9))
    ticket = _ticket(session)
    ticket.sla_due_at = datetime(2026, 11, 30, 18, 0, tzinfo=seoul)
    session.flush()
    session.expire_all()
    stored = session.scalar(select(Ticket).where(Ticket.id == ticket.id))
    assert stored is not None and stored.sla_due_at == datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert stored.sla_due_at.utcoffset() == timedelta(0)


def test_times_come_back_in_utc_from_a_connection_in_another_time_zone(session: Session) -> None:
    # make_engine opens PostgreSQL connections in UTC; a connection set otherwise must not leak its zone.
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite connections have no time zone")
    ticket = _ticket(session)
    session.execute(text("SET LOCAL TimeZone = 'Asia/Seoul'"))
    session.expire_all()
    created_at = session.scalar(select(Ticket.created_at).where(Ticket.id == ticket.id))
    assert created_at == T0 and created_at.utcoffset() == timedelta(0)


def test_naive_times_are_refused(session: Session) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        session.add(Ticket(reference="2222-3333", field="it", status="new", created_at=datetime(2026, 1, 1)))
        session.flush()
    session.rollback()
