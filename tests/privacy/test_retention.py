"""Retention: recordings deleted at Twilio once, numbers masked, incomplete tickets and missed calls
anonymised, with the events and access-log rows that say so, however often and however badly it runs."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler import retention
from scheduler.delivery import LEASE, build_channels, claim_due_messages, deliver_due_messages
from scheduler.scheduler_config import NotificationConfig
from supervisor.reports import Period, received
from tests.conftest import NOW
from tests.privacy.fake_recordings import FakeRecordings, gateway, sid, twilio_url
from tickets import events
from tickets.access_log import AccessLogEntry
from tickets.db import db
from tickets.models import Call, OutboxMessage, Ticket, TicketEvent
from tickets.recording_deletion import CHANNEL
from tickets.ticket_config import RetentionConfig

RETENTION = RetentionConfig()
NOTIFY = NotificationConfig(max_tries=5, backoff_seconds=60)
ZONE = "Asia/Seoul"


def closed(ticket: Ticket, days_ago: int) -> Ticket:
    ticket.status, ticket.closed_at = "closed", NOW - timedelta(days=days_ago)
    return ticket


def with_recordings(session: Session, ticket: Ticket, *sids: str) -> Ticket:
    """The ticket's own recording and later ones kept as events, as the webhooks store them."""
    own, *extra = sids
    ticket.recording_sid, ticket.recording_url, ticket.recording_duration = own, twilio_url(own), 30
    events.record(session, ticket, "recording_added", url=twilio_url(own), duration=30)
    for more in extra:
        events.record(session, ticket, "recording_added", url=twilio_url(more), duration=12, extra=True)
    session.flush()
    return ticket


def purge() -> retention.Purge:
    return retention.purge(db.transaction, NOW, RETENTION, ZONE)


def deliver(fake: FakeRecordings, at: Any = NOW) -> Any:
    channels = build_channels(NOTIFY, None, db.transaction, recordings=gateway(fake))
    return deliver_due_messages(db.transaction, channels, NOTIFY, at)


def deletion_events(session: Session, ticket: Ticket) -> list[TicketEvent]:
    session.expire_all()
    return [e for e in session.get_one(Ticket, ticket.id).events if e.type == "recording_deleted"]


def deletion_rows(session: Session, reference: str) -> list[AccessLogEntry]:
    rows = session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "delete")).all()
    return [r for r in rows if reference in r.subjects and r.detail.get("what") == "recording"]


def test_recordings_past_retention_are_deleted_once_with_an_event_and_an_access_log_row_each(
    session: Session, make_ticket: Callable[..., Ticket]
) -> None:
    old = with_recordings(session, closed(make_ticket(), days_ago=366), sid(1), sid(2))
    recent = with_recordings(session, closed(make_ticket(), days_ago=300), sid(3))
    still_open = with_recordings(session, make_ticket(now=NOW - timedelta(days=500)), sid(4))
    fake = FakeRecordings(sid(1), sid(2), sid(3), sid(4))
    plan = retention.due(session, NOW, RETENTION, ZONE)
    assert plan.recordings == {old.reference: 2}
    session.commit()

    assert purge().recordings == {old.reference: 2}
    assert purge().recordings == {}  # a second run finds nothing left to do
    deliver(fake)
    deliver(fake, NOW + timedelta(hours=1))

    assert sorted(fake.deletes) == [sid(1), sid(2)]  # one DELETE each, nothing of the others
    assert fake.held == {sid(3), sid(4)}
    session.expire_all()
    kept = session.get_one(Ticket, old.id)
    assert kept.recording_sid is None and kept.recording_url is None and kept.recording_duration == 30
    assert not [e for e in kept.events if {"url", "recording_url", "recording_sid"} & set(e.detail)]
    assert len(deletion_events(session, old)) == 2
    rows = deletion_rows(session, old.reference)
    assert sorted(r.detail["recording_sid"] for r in rows) == [sid(1), sid(2)]
    assert {r.actor_name for r in rows} == {"system"}
    assert session.get_one(Ticket, recent.id).recording_sid == sid(3)
    assert session.get_one(Ticket, still_open.id).recording_sid == sid(4)


def test_a_delete_that_reached_twilio_before_the_process_died_is_not_sent_again(
    session: Session, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = with_recordings(session, closed(make_ticket(), days_ago=400), sid(5))
    fake = FakeRecordings(sid(5))
    session.commit()
    purge()
    # A scheduler claims the delete, Twilio deletes, and the process dies before recording the outcome.
    with db.transaction() as claiming:
        [claimed] = claim_due_messages(claiming, NOW, limit=10)
    gateway(fake).delete_recording(claimed.recipient)
    assert deliver(fake, NOW + timedelta(minutes=1)).sent == 0  # still leased to the dead process

    report = deliver(fake, NOW + LEASE + timedelta(seconds=1))  # the lease ran out: tried again
    assert report.sent == 1
    assert fake.deletes == [sid(5)]  # asked first, found gone: no second DELETE
    assert purge().recordings == {}
    assert len(deletion_events(session, ticket)) == 1 and len(deletion_rows(session, ticket.reference)) == 1


def test_a_failed_delete_is_retried_until_twilio_takes_it(
    session: Session, make_ticket: Callable[..., Ticket]
) -> None:
    ticket = with_recordings(session, closed(make_ticket(), days_ago=400), sid(6))
    fake = FakeRecordings(sid(6))
    fake.failing_deletes = 2
    session.commit()
    purge()
    at = NOW
    for _ in range(4):
        deliver(fake, at)
        purge()
        at += timedelta(hours=1)
    assert fake.held == set()
    assert fake.deletes == [sid(6)] * 3  # two failures, then the one that worked
    session.expire_all()
    [row] = session.scalars(select(OutboxMessage).where(OutboxMessage.channel == CHANNEL)).all()
    assert row.status == "sent" and row.tries == 3
    assert len(deletion_events(session, ticket)) == 1


def test_a_purge_killed_midway_leaves_nothing_half_done_and_the_rerun_does_each_once(
    session: Session, make_ticket: Callable[..., Ticket], monkeypatch: pytest.MonkeyPatch
) -> None:
    tickets = [with_recordings(session, closed(make_ticket(), days_ago=400), sid(10 + i)) for i in range(3)]
    session.commit()
    real = retention.delete_ticket_recordings
    calls = []

    def dies_on_the_third(*args: Any, **kwargs: Any) -> list[str]:
        calls.append(1)
        if len(calls) == 3:
            raise SystemExit("killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(retention, "delete_ticket_recordings", dies_on_the_third)
    with pytest.raises(SystemExit):
        purge()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # the batch rolled back
    assert all(session.get_one(Ticket, t.id).recording_sid is not None for t in tickets)

    monkeypatch.setattr(retention, "delete_ticket_recordings", real)
    purge()
    purge()
    fake = FakeRecordings(*(sid(10 + i) for i in range(3)))
    deliver(fake)
    assert sorted(fake.deletes) == [sid(10), sid(11), sid(12)]
    assert [len(deletion_events(session, t)) for t in tickets] == [1, 1, 1]


def test_numbers_are_masked_three_years_after_close_and_the_statistics_stay(
    session: Session, make_ticket: Callable[..., Ticket]
) -> None:
    old = closed(make_ticket(callback_number="+821012345678"), days_ago=3 * 365 + 2)
    young = closed(make_ticket(callback_number="+821022223333"), days_ago=3 * 365 - 2)
    session.commit()
    done = purge()
    assert done.masked == [old.reference]
    session.expire_all()
    masked = session.get_one(Ticket, old.id)
    assert masked.callback_number == "010-****-5678" and masked.caller_number == "010-****-5678"
    assert masked.status == "closed" and masked.field == "it" and masked.closed_at is not None
    assert session.get_one(Ticket, young.id).callback_number == "+821022223333"
    assert purge().masked == []


def test_incomplete_tickets_and_missed_calls_are_anonymised_after_90_days_and_still_counted(
    session: Session, make_ticket: Callable[..., Ticket]
) -> None:
    long_ago = NOW - timedelta(days=91)
    incomplete = closed(make_ticket(now=long_ago, callback_number="+821044445555", incomplete=True), 80)
    worked = make_ticket(now=long_ago, callback_number="+821066667777", incomplete=True)  # still open
    missed = Call(call_sid="CA" + "1" * 32, from_number="+821088889999", started_at=long_ago,
                  state={"caller_number": "+821088889999"}, last_response="<Say>010 8888 9999</Say>",
                  recording_sid=sid(20), recording_url=twilio_url(sid(20)))  # fmt: skip
    session.add(missed)
    session.commit()
    day = long_ago.astimezone(ZoneInfo(ZONE)).date()
    period = Period(day - timedelta(days=1), day + timedelta(days=1), timezone=ZONE)
    before = len(received(session, period))

    done = purge()
    assert done.anonymised == [incomplete.reference] and done.missed_calls == [missed.call_sid]
    session.expire_all()
    gone = session.get_one(Ticket, incomplete.id)
    assert gone.callback_number is None and gone.caller_number is None and gone.anonymised_at == NOW
    assert session.get_one(Ticket, worked.id).callback_number == "+821066667777"
    call = session.get_one(Call, missed.id)
    assert (call.from_number, call.state, call.last_response, call.recording_sid) == (None, {}, None, None)
    assert len(received(session, period)) == before == 2  # the reports still count both
    rows = session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "delete")).all()
    assert any(incomplete.reference in r.subjects for r in rows)
    assert any(f"call:{missed.call_sid}" in r.subjects for r in rows)
    assert purge().anonymised == [] and purge().missed_calls == []
