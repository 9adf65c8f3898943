"""The callback queue: claims (raced by eight threads), release, reassign, attempts, the unreached SMS and
the auto-release of untouched assignments."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from tests.tickets.conftest import NOW, sla_app
from tickets import accounts, lifecycle, queue
from tickets.intake import open_ticket
from tickets.models import (
    ApiToken,
    CallbackAttempt,
    OutboxMessage,
    Status,
    Ticket,
    TicketEvent,
    User,
    UserField,
)


@pytest.fixture
def pool_ticket(make_user, make_ticket):
    make_user("it-off", on_duty=False)
    return make_ticket()


def test_claim_takes_a_ticket_from_the_pool_once(pool_ticket, make_user, session) -> None:
    kim, lee = make_user("it-kim"), make_user("it-lee")
    queue.claim(session, pool_ticket, kim, now=NOW)
    assert (pool_ticket.status, pool_ticket.assignee, pool_ticket.assigned_at) == (Status.ASSIGNED, kim, NOW)
    assert pool_ticket.events[-1].type == "claimed" and kim.last_assigned_at == NOW
    with pytest.raises(queue.ClaimConflict):
        queue.claim(session, pool_ticket, lee, now=NOW)
    assert pool_ticket.assignee == kim


def test_release_puts_it_back_in_the_pool_without_restarting_the_clock(pool_ticket, make_user, session):
    kim = make_user("it-kim")
    due = pool_ticket.sla_due_at
    queue.claim(session, pool_ticket, kim, now=NOW)
    queue.release(session, pool_ticket, by=kim, now=NOW + timedelta(hours=3))
    assert (pool_ticket.status, pool_ticket.assignee) == (Status.NEW, None)
    assert pool_ticket.sla_due_at == due
    assert pool_ticket.events[-1].type == "released"


def test_reassign_checks_the_new_holder(pool_ticket, make_user, session) -> None:
    kim, lee = make_user("it-kim"), make_user("it-lee")
    boss = make_user("boss", role="supervisor", fields=("it",))
    bio = make_user("bio-kim", fields=("bio",))
    queue.claim(session, pool_ticket, kim, now=NOW)
    lifecycle.change_status(session, pool_ticket, "in_progress", by=kim, now=NOW)
    queue.reassign(session, pool_ticket, lee, by=boss, now=NOW)
    assert (pool_ticket.assignee, pool_ticket.status) == (lee, Status.IN_PROGRESS)
    assert pool_ticket.events[-1].type == "reassigned"
    assert pool_ticket.events[-1].detail == {"from": "it-kim", "to": "it-lee", "reason": "supervisor"}
    for wrong in (bio, lee):
        with pytest.raises(lifecycle.TransitionError):
            queue.reassign(session, pool_ticket, wrong, by=boss, now=NOW)


def test_the_first_attempt_starts_the_work(pool_ticket, make_user, session) -> None:
    kim = make_user("it-kim")
    queue.claim(session, pool_ticket, kim, now=NOW)
    attempt = queue.log_attempt(
        session, pool_ticket, by=kim, outcome="reached", now=NOW, duration=300, note="통화 완료"
    )
    assert (attempt.outcome, attempt.duration, attempt.note, attempt.user) == (
        "reached",
        300,
        "통화 완료",
        kim,
    )
    assert pool_ticket.status == Status.IN_PROGRESS and pool_ticket.first_attempt_at == NOW
    with pytest.raises(lifecycle.TransitionError):
        queue.log_attempt(session, pool_ticket, by=kim, outcome="sorry", now=NOW)


def test_three_unreached_attempts_send_the_company_one_sms(pool_ticket, make_user, session) -> None:
    kim = make_user("it-kim")
    queue.claim(session, pool_ticket, kim, now=NOW)

    def sms() -> list[OutboxMessage]:
        return session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == pool_ticket.id)).all()

    for i, outcome in enumerate(("no_answer", "reached", "busy")):
        queue.log_attempt(session, pool_ticket, by=kim, outcome=outcome, now=NOW + timedelta(hours=i))
    assert sms() == [] and pool_ticket.unreached_notified_at is None
    queue.log_attempt(
        session,
        pool_ticket,
        by=kim,
        outcome="voicemail",
        now=NOW + timedelta(hours=4),
        sms_after=3,
        hotline_number="1379",
    )
    [message] = sms()
    assert (message.channel, message.recipient) == ("sms", pool_ticket.callback_number)
    assert pool_ticket.reference in message.payload["body"] and "3차례" in message.payload["body"]
    assert pool_ticket.unreached_notified_at == NOW + timedelta(hours=4)
    assert pool_ticket.events[-1].type == "unreached_sms"
    queue.log_attempt(session, pool_ticket, by=kim, outcome="no_answer", now=NOW + timedelta(hours=5))
    assert len(sms()) == 1


def test_a_landline_callback_number_gets_no_unreached_sms(make_user, make_ticket, session) -> None:
    kim = make_user("it-kim")
    office = make_ticket(callback_number="+82212345678")  # 02: a Seoul office line cannot take an SMS
    for i in range(3):
        queue.log_attempt(session, office, by=kim, outcome="no_answer", now=NOW + timedelta(hours=i))
    assert session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == office.id)).all() == []
    skipped = office.events[-1]
    assert (skipped.type, skipped.detail["reason"]) == ("unreached_sms_skipped", "not_mobile")


def test_an_attempt_from_a_status_callback_is_logged_once(pool_ticket, make_user, session) -> None:
    kim = make_user("it-kim")
    queue.claim(session, pool_ticket, kim, now=NOW)
    sid = "CA" + "5" * 32
    first = queue.log_attempt(session, pool_ticket, by=kim, outcome="busy", now=NOW, call_sid=sid)
    again = queue.log_attempt(session, pool_ticket, by=kim, outcome="busy", now=NOW, call_sid=sid)
    assert first is again and len(pool_ticket.attempts) == 1


def test_untouched_assignments_go_back_to_the_pool(make_user, make_ticket, session) -> None:
    kim = make_user("it-kim")
    idle = make_ticket(now=NOW)
    busy = make_ticket(now=NOW)
    noted = make_ticket(now=NOW)
    fresh = make_ticket(now=NOW + timedelta(hours=8))
    assert {idle.assignee, busy.assignee, noted.assignee, fresh.assignee} == {kim}
    queue.log_attempt(session, busy, by=kim, outcome="no_answer", now=NOW + timedelta(hours=1))
    lifecycle.add_note(session, noted, "내일 오전 통화 예정", by=kim, now=NOW + timedelta(hours=7))
    due = idle.sla_due_at
    cutoff = NOW + timedelta(hours=1)  # "one working day before now", as the scheduler computes it
    released = queue.release_stale_assignments(session, NOW + timedelta(days=1), assigned_before=cutoff)
    assert released == [idle]
    assert (idle.status, idle.assignee, idle.sla_due_at) == (Status.NEW, None, due)
    assert idle.events[-1].type == "auto_released" and idle.events[-1].detail["from"] == "it-kim"
    assert queue.release_stale_assignments(session, NOW + timedelta(days=1), assigned_before=cutoff) == []
    later = NOW + timedelta(hours=8)
    assert queue.release_stale_assignments(session, later, assigned_before=later) == [noted]


def test_eight_consultants_claiming_at_once_make_exactly_one_winner(engine, config) -> None:
    app = sla_app(config)
    with app.app_context(), Session(engine) as session, session.begin():
        users = [
            accounts.add_user(session, f"race-{i}", "consultant", fields=["it"], password="hotline1379")
            for i in range(8)
        ]
        for user in users:
            user.on_duty = False
        ticket = open_ticket(
            session,
            now=NOW,
            field="it",
            support_type="advice",
            language="ko",
            caller_number="+821020009999",
            callback_number="+821020009999",
        )
        assert ticket.status == Status.NEW
        ticket_id, user_ids = ticket.id, [u.id for u in users]
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def consultant(user_id: int) -> None:
        with app.app_context(), Session(engine) as session:
            barrier.wait()
            try:
                with session.begin():
                    queue.claim(session, session.get(Ticket, ticket_id), session.get(User, user_id), now=NOW)
                outcomes.append("won")
            except queue.ClaimConflict:
                outcomes.append("409")

    threads = [threading.Thread(target=consultant, args=(uid,)) for uid in user_ids]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert sorted(outcomes) == ["409"] * 7 + ["won"]
        with Session(engine) as session:
            claimed = session.get(Ticket, ticket_id)
            assert claimed.status == Status.ASSIGNED and claimed.assignee_id in user_ids
            assert [e.type for e in claimed.events].count("claimed") == 1
    finally:
        with Session(engine) as session, session.begin():
            session.execute(delete(TicketEvent).where(TicketEvent.ticket_id == ticket_id))
            session.execute(delete(CallbackAttempt).where(CallbackAttempt.ticket_id == ticket_id))
            session.execute(delete(Ticket).where(Ticket.id == ticket_id))
            session.execute(delete(ApiToken).where(ApiToken.user_id.in_(user_ids)))
            session.execute(delete(UserField).where(UserField.user_id.in_(user_ids)))
            session.execute(delete(User).where(User.id.in_(user_ids)))
