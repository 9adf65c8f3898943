"""The referral follow-up sweep: one reminder, then one alert, expiry, the overdue outcome; exactly once."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from scheduler.referral_followup import FollowUpSettings, follow_up_due_referrals
from tests.conftest import NOW
from tickets import referrals
from tickets.models import OutboxMessage, ReferralFollowUp, ReferralStatus
from tickets.referrals import MessageTexts

SEOUL = ZoneInfo("Asia/Seoul")


def _refer(session, config, ticket, institute, by):
    return referrals.refer(
        session, ticket, institute_key=institute.key, by=by, now=NOW, settings=config.referrals,
        texts=MessageTexts.from_config(config),
    )  # fmt: skip


def _sweep(session, config, at: datetime):
    _, done = follow_up_due_referrals(session, FollowUpSettings.from_config(config), at)
    return [(f.kind, f.referral_id) for f in done]


def _keys(session, prefix: str) -> list[str]:
    return list(session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.startswith(prefix))))


def test_an_unanswered_institute_is_reminded_once_then_the_consultant_is_alerted_then_it_expires(
    session, config, make_user, make_ticket, make_institute
) -> None:
    kim = make_user("it-kim", phone="010-5555-0101")
    ticket = make_ticket()
    referral = _refer(session, config, ticket, make_institute("kitech-f"), kim)
    # Sent Friday 09:30 KST: two working days end Tuesday 09:30 (the weekend does not count).
    assert _sweep(session, config, NOW) == []
    monday = datetime(2026, 11, 30, 18, 0, tzinfo=SEOUL)
    assert _sweep(session, config, monday) == []
    tuesday = datetime(2026, 12, 1, 9, 30, tzinfo=SEOUL)
    assert _sweep(session, config, tuesday) == [("reminder", referral.id)]
    assert _sweep(session, config, tuesday + timedelta(hours=1)) == []  # once
    reminder = session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.key == f"referral:{referral.id}:reminder:email:kitech-f@example.org"
        )
    ).one()
    token = re.search(r"/institute/r/([\w-]+)", reminder.payload["text"]).group(1)
    assert referrals.open_link(session, token, tuesday).problem is None  # the reminder's link works
    thursday = datetime(2026, 12, 3, 9, 30, tzinfo=SEOUL)
    assert _sweep(session, config, thursday) == [("unanswered_alert", referral.id)]
    assert set(_keys(session, f"referral:{referral.id}:unanswered_alert:")) == {
        f"referral:{referral.id}:unanswered_alert:sms:+821055550101",
        f"referral:{referral.id}:unanswered_alert:console:it-kim",
    }  # e-mail is switched off in config.yaml
    assert _sweep(session, config, thursday + timedelta(days=1)) == []
    assert _sweep(session, config, NOW + timedelta(days=14)) == [("expired", referral.id)]
    assert referral.status == ReferralStatus.EXPIRED and referral.follow_up_at is None
    assert referrals.open_link(session, token, NOW + timedelta(days=14)).problem == referrals.EXPIRED
    assert _sweep(session, config, NOW + timedelta(days=30)) == []
    kinds = session.scalars(select(ReferralFollowUp.kind).where(ReferralFollowUp.referral_id == referral.id))
    assert sorted(kinds) == ["expired", "reminder", "unanswered_alert"]


def test_after_downtime_an_old_referral_just_expires_once(
    session, config, make_user, make_ticket, make_institute
) -> None:
    kim = make_user("it-kim")
    referral = _refer(session, config, make_ticket(), make_institute("kitech-g"), kim)
    late = NOW + timedelta(days=20)
    assert _sweep(session, config, late) == [("expired", referral.id)]
    assert _sweep(session, config, late) == []
    assert _keys(session, f"referral:{referral.id}:reminder") == []


def test_an_accepted_referral_without_an_outcome_alerts_the_consultant_once_after_its_expected_date(
    session, config, make_user, make_ticket, make_institute
) -> None:
    kim = make_user("it-kim")
    referral = _refer(session, config, make_ticket(), make_institute("kitech-h"), kim)
    email = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"referral:{referral.id}:referral:email"))
    ).one()
    token = re.search(r"/institute/r/([\w-]+)", email.payload["text"]).group(1)
    referrals.accept(
        session, token, person="박담당", expected=datetime(2026, 12, 10).date(), now=NOW + timedelta(hours=2),
        settings=config.referrals, texts=MessageTexts.from_config(config),
    )  # fmt: skip
    assert (
        _sweep(session, config, datetime(2026, 12, 10, 23, 0, tzinfo=SEOUL)) == []
    )  # not a reminder to answer
    overdue = datetime(2026, 12, 11, 0, 0, tzinfo=SEOUL)
    assert _sweep(session, config, overdue) == [("outcome_alert", referral.id)]
    assert _sweep(session, config, overdue + timedelta(days=3)) == []
    assert _keys(session, f"referral:{referral.id}:outcome_alert:console:it-kim")
    # The link still takes the late outcome.
    referrals.complete(session, token, outcome="완료", now=overdue + timedelta(days=5))
    assert referral.status == ReferralStatus.COMPLETED
