"""The supervisors' morning digest (09:00 Asia/Seoul on working days): breached tickets, tickets due today,
and notifications that could not be delivered.

Written to the outbox under a key per day and recipient, so two schedulers at 09:00 send it once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from scheduler.messages import ticket_link
from scheduler.recipients import Contact, Directory
from scheduler.scheduler_config import NotificationConfig
from tickets.business_hours import BusinessHours
from tickets.labels import STAFF_SMS_PREFIX
from tickets.models import OPEN_STATUSES, OutboxMessage, Role, Ticket, User
from tickets.outbox import DEAD, add_message_once

LISTED = 10  # the digest names the most urgent tickets; the dashboard has the rest


@dataclass(frozen=True)
class Digest:
    day: str
    breached: list[Ticket]
    due_today: list[Ticket]
    dead_messages: int

    def text(self, public_base_url: str | None) -> str:
        lines = [
            f"{STAFF_SMS_PREFIX} {self.day} SLA 현황: 기한 초과 {len(self.breached)}건, "
            f"오늘 마감 {len(self.due_today)}건, 발송 실패 알림 {self.dead_messages}건"
        ]
        for title, tickets in (("기한 초과", self.breached), ("오늘 마감", self.due_today)):
            for t in tickets[:LISTED]:
                lines.append(
                    f"- {title} {t.reference} ({t.field}) {ticket_link(public_base_url, t.reference)}"
                )
        return "\n".join(lines)


def build_digest(session: Session, hours: BusinessHours, now: datetime) -> Digest:
    today = hours.local_date(now)
    end_of_day = datetime.combine(today + timedelta(days=1), time(0), tzinfo=hours.zone)
    open_tickets = select(Ticket).where(Ticket.status.in_(OPEN_STATUSES)).order_by(Ticket.sla_due_at)
    breached = session.scalars(open_tickets.where(Ticket.sla_due_at <= now)).all()
    due_today = session.scalars(
        open_tickets.where(Ticket.sla_due_at > now, Ticket.sla_due_at < end_of_day)
    ).all()
    dead = session.scalar(select(func.count()).where(OutboxMessage.status == DEAD)) or 0
    return Digest(today.isoformat(), list(breached), list(due_today), int(dead))


def send_daily_digest(
    session: Session,
    hours: BusinessHours,
    notifications: NotificationConfig,
    now: datetime,
    public_base_url: str | None = None,
) -> int:
    """Queue today's digest for every active supervisor; nothing on a day the center is closed."""
    if not hours.is_working_day(hours.local_date(now)):
        return 0
    digest = build_digest(session, hours, now)
    text = digest.text(public_base_url)
    payload = {"subject": text.splitlines()[0], "text": text}
    directory = Directory(session, notifications)
    supervisors = session.scalars(
        select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.id)
    ).all()
    queued = 0
    for user in supervisors:
        contact = Contact.of(user)
        for channel in ("email", "console"):
            address = directory.address(contact, channel)
            if address is None:
                continue
            queued += add_message_once(
                session,
                key=f"digest:{digest.day}:{channel}:{address}",
                channel=channel,
                recipient=address,
                payload=payload,
                now=now,
            )
    return queued
