"""The referral follow-up: institutes that do not answer are reminded, then their consultant is alerted, and
the referral expires with its link; an accepted referral without an outcome by its due date alerts the
consultant. Each of these is a unique ReferralFollowUp row (referral, kind), so reruns, two schedulers or
days of downtime give each exactly once.

Like the escalation sweep it reads only `follow_up_at <= now` through its index and locks the rows it
takes (`FOR UPDATE SKIP LOCKED` on PostgreSQL). Ticket services only set `follow_up_at = now` when a
referral changes; the rules of what falls due when live here alone:

- sent: the reminder after `answer_within_working_days` working days, the consultant's alert after twice
  that, and expiry when its link does (`link_valid_days`);
- accepted: the consultant's alert when the outcome is due (tickets.referrals.outcome_due_at).
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.messages import ticket_link
from scheduler.recipients import Directory
from scheduler.scheduler_config import NotificationConfig
from tickets import events, referrals
from tickets.business_hours import BusinessHours
from tickets.labels import STAFF_SMS_PREFIX
from tickets.models import Referral, ReferralFollowUp, ReferralStatus
from tickets.outbox import add_message_once
from tickets.referrals import MessageTexts
from tickets.sla import business_hours
from tickets.ticket_config import ReferralConfig

BATCH_SIZE = 500
REMINDER, UNANSWERED, EXPIRED, OUTCOME_OVERDUE = "reminder", "unanswered_alert", "expired", "outcome_alert"
CONSULTANT_CHANNELS = ("sms", "email", "console")


@dataclass(frozen=True)
class FollowUpSettings:
    referrals: ReferralConfig
    hours: BusinessHours
    notifications: NotificationConfig
    texts: MessageTexts

    @classmethod
    def from_config(cls, config: Any) -> FollowUpSettings:
        """From ivr's HotlineConfig (typed loosely: ivr imports us)."""
        return cls(
            referrals=config.referrals,
            hours=business_hours(config.scheduler.sla),
            notifications=config.scheduler.notifications,
            texts=MessageTexts.from_config(config),
        )

    def schedule(self, referral: Referral) -> dict[str, datetime]:
        """Every follow-up of the referral as it stands, by kind."""
        if referral.status == ReferralStatus.SENT:
            answer = self.referrals.answer_within_working_days * self.hours.day_seconds
            return {
                REMINDER: self.hours.add(referral.sent_at, answer),
                UNANSWERED: self.hours.add(referral.sent_at, 2 * answer),
                EXPIRED: referral.sent_at + timedelta(days=self.referrals.link_valid_days),
            }
        if referral.status == ReferralStatus.ACCEPTED:
            due = referrals.outcome_due_at(referral, self.referrals, self.hours.timezone)
            return {OUTCOME_OVERDUE: due}
        return {}


@dataclass(frozen=True)
class FollowedUp:
    referral_id: int
    reference: str
    kind: str
    due_at: datetime

    def to_json(self) -> dict[str, Any]:
        return {
            "referral": self.referral_id,
            "reference": self.reference,
            "kind": self.kind,
            "due_at": self.due_at.isoformat(),
        }


def lock_due_referrals(session: Session, now: datetime, limit: int) -> list[Referral]:
    query = (
        select(Referral)
        .where(Referral.follow_up_at <= now)
        .order_by(Referral.follow_up_at, Referral.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Referral)
    )
    return list(session.scalars(query))


def follow_up_due_referrals(
    session: Session, settings: FollowUpSettings, now: datetime, *, limit: int = BATCH_SIZE
) -> tuple[int, list[FollowedUp]]:
    """One batch in the caller's transaction: (rows taken, follow-ups written)."""
    directory = Directory(session, settings.notifications)
    done: list[FollowedUp] = []
    due_referrals = lock_due_referrals(session, now, limit)
    for referral in due_referrals:
        written = set(
            session.scalars(select(ReferralFollowUp.kind).where(ReferralFollowUp.referral_id == referral.id))
        )
        schedule = settings.schedule(referral)
        if EXPIRED in schedule and schedule[EXPIRED] <= now:
            schedule = {EXPIRED: schedule[EXPIRED]}  # too late to remind: it expires, and says so once
        for kind, due_at in sorted(schedule.items(), key=lambda item: item[1]):
            if due_at <= now and kind not in written:
                _follow_up(session, settings, directory, referral, kind, due_at, now)
                done.append(FollowedUp(referral.id, referral.ticket.reference, kind, due_at))
                written.add(kind)
        later = [
            due for kind, due in settings.schedule(referral).items() if kind not in written and due > now
        ]
        referral.follow_up_at = min(later) if later else None
    session.flush()
    return len(due_referrals), done


def _follow_up(
    session: Session,
    settings: FollowUpSettings,
    directory: Directory,
    referral: Referral,
    kind: str,
    due_at: datetime,
    now: datetime,
) -> None:
    session.add(ReferralFollowUp(referral_id=referral.id, kind=kind, due_at=due_at, created_at=now))
    ticket = referral.ticket
    detail: dict[str, Any] = {"referral": referral.id, "institute": referral.institute.key}
    if kind == REMINDER:
        detail["notified"] = referrals.remind_institute(session, referral, settings.texts, now)
        events.record(session, ticket, "referral_reminded", at=now, **detail)
        return
    if kind == EXPIRED:
        referral.status = ReferralStatus.EXPIRED
        referral.answered_at = now
        events.record(session, ticket, "referral_expired", at=now, **detail)
    name = referral.institute.name_ko
    texts = {
        UNANSWERED: f"{name}이(가) 연계 요청에 답하지 않았습니다 (재안내 후에도)",
        EXPIRED: f"{name}에 보낸 연계 요청이 응답 없이 만료되었습니다",
        OUTCOME_OVERDUE: f"{name}이(가) 수락한 지원의 결과 보고가 기한을 넘겼습니다",
    }
    link = ticket_link(settings.texts.public_base_url, ticket.reference)
    text = f"{STAFF_SMS_PREFIX} 접수 {ticket.reference}: {texts[kind]}. {link}"
    payload = {"subject": text[:120], "text": text, "reference": ticket.reference, "url": link}
    notified = []
    for contact in directory.contacts(ticket, "assignee"):
        for channel in CONSULTANT_CHANNELS:
            address = directory.address(contact, channel)
            if address is None:
                continue
            add_message_once(
                session, key=f"referral:{referral.id}:{kind}:{channel}:{address}", channel=channel,
                recipient=address, payload=payload, now=now, ticket_id=ticket.id,
            )  # fmt: skip
            notified.append(f"{channel}:{address}")
    events.record(session, ticket, "referral_alert", at=now, kind=kind, notified=notified, **detail)


def follow_up_referrals(
    transaction: Callable[[], AbstractContextManager[Session]],
    settings: FollowUpSettings,
    now: datetime,
    *,
    batch_size: int = BATCH_SIZE,
) -> list[FollowedUp]:
    """Everything due, a batch per transaction: a crash loses at most one batch, which the next run redoes."""
    done: list[FollowedUp] = []
    while True:
        with transaction() as session:
            taken, batch = follow_up_due_referrals(session, settings, now, limit=batch_size)
        done += batch
        if taken < batch_size:
            return done
