"""A web request's own words (the contact person, the description) stand in for a recording: retention and
erasure delete them with the recordings, from the ticket and from the requests that joined it. Requests whose
number was never proved, and the login throttle's rows past their window, are deleted by the daily job."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler import retention
from tests.conftest import NOW
from tests.privacy.test_retention import RETENTION, ZONE, closed, purge
from tickets import throttle, web_requests
from tickets.access_log import AccessLogEntry
from tickets.erasure import erase_number
from tickets.intake import WebAnswers
from tickets.models import LoginThrottle, Ticket, WebRequest
from tickets.web_requests import Answers

NUMBER = "+821023456789"


def _web_ticket(make_ticket: Callable[..., Ticket], description: str = "PLC 통신 문의") -> Ticket:
    web = WebAnswers("한빛정밀", "김민수", description)
    return make_ticket(callback_number=NUMBER, web=web, join_open_ticket=True)


def test_retention_deletes_the_description_with_the_recordings(
    session: Session, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = _web_ticket(make_ticket)
    assert _web_ticket(make_ticket, "추가 문의") == ticket  # joins the open ticket: its words in an event
    closed(ticket, days_ago=366)
    young = closed(_web_ticket(make_ticket, "다른 문의"), days_ago=10)
    session.commit()
    purge()
    session.expire_all()
    old = session.get_one(Ticket, ticket.id)
    assert old.description is None and old.contact_person is None and old.company == "한빛정밀"
    assert not any("description" in e.detail or "contact_person" in e.detail for e in old.events)
    assert any(e.type == "description_deleted" for e in old.events)
    rows = session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "delete")).all()
    assert any(old.reference in r.subjects and r.detail.get("what") == "web request" for r in rows)
    assert session.get_one(Ticket, young.id).description == "다른 문의"


def test_erasure_on_request_deletes_the_description(
    session: Session, make_ticket: Callable[..., Ticket], make_user: Callable[..., Any]
) -> None:
    admin = make_user("root", role="admin", fields=())
    ticket = _web_ticket(make_ticket)
    erase_number(session, NUMBER, reason="본인 요청", actor=admin, now=NOW)
    session.expire_all()
    erased = session.get_one(Ticket, ticket.id)
    assert erased.description is None and erased.contact_person is None


def test_the_daily_job_deletes_requests_whose_number_was_never_proved(session: Session, config: Any) -> None:
    answers = Answers("ko", "한빛정밀", "김민수", "it", "advice", NUMBER, "PLC 통신 문의")
    for started in (NOW - timedelta(minutes=30), NOW - timedelta(hours=2)):  # (each start forgets the stale)
        web_requests.start(session, answers, address="198.51.100.7", now=started, flow=config.flow)
    session.commit()
    assert retention.due(session, NOW, RETENTION, ZONE).web_requests == 1
    assert purge().web_requests == 1
    session.expire_all()
    assert [r.created_at for r in session.scalars(select(WebRequest))] == [NOW - timedelta(minutes=30)]


def test_the_daily_job_forgets_login_failures_once_they_count_nothing(session: Session, config: Any) -> None:
    """The throttle's rows hold addresses and the names tried (now and then a password typed in the name
    field): a day after their window started they go, and a lock still running is kept."""
    limits = config.logins
    guesser, earlier = "203.0.113.9", "198.51.100.20"
    day = timedelta(days=1)
    for _ in range(limits.failures_per_username):
        throttle.count_login_attempt(
            session, earlier, "hunter2-typed-as-name", NOW - day - timedelta(minutes=1), limits
        )
        throttle.count_login_attempt(session, guesser, "admin", NOW - timedelta(minutes=1), limits)
    session.commit()
    assert retention.due(session, NOW, RETENTION, ZONE).throttle_rows == 2  # the name's row and the address's
    assert purge().throttle_rows == 2
    remaining = {(r.address, r.username) for r in session.scalars(select(LoginThrottle))}
    assert remaining == {(guesser, "admin"), (guesser, throttle.ANY_NAME)}
    with pytest.raises(throttle.Locked):  # the running lock was not lifted
        throttle.count_login_attempt(session, guesser, "admin", NOW, limits)
