"""Promised callbacks: a waiting ticket's "call back at" time has come, so its holder is told.

The console's queue already sorts such a ticket first (tickets.console); this writes one console notice per
promised time through the outbox. The key names the ticket and the time, so a rerun, a second scheduler or
a day of downtime tells the holder once, and a new time set later is a new notice.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import outbox
from tickets.models import Status, Ticket


def remind_due_callbacks(session: Session, now: datetime, timezone: str) -> list[str]:
    """Write a notice for every waiting ticket whose callback time has come; the references newly told."""
    due = session.scalars(
        select(Ticket).where(
            Ticket.status == Status.WAITING,
            Ticket.callback_at <= now,
            Ticket.assignee_id.is_not(None),
        )
    )
    told = []
    for ticket in due:
        assert ticket.assignee is not None and ticket.callback_at is not None
        local = ticket.callback_at.astimezone(ZoneInfo(timezone)).strftime("%m-%d %H:%M")
        body = f"[1379] 접수번호 {ticket.reference}: 고객과 약속한 회신 시각({local})입니다. 전화해 주세요."
        if outbox.add_message_once(
            session,
            key=f"callback-due:{ticket.id}:{ticket.callback_at.isoformat()}",
            channel="console",
            recipient=ticket.assignee.username,
            payload={"kind": "callback_due", "reference": ticket.reference, "body": body},
            ticket_id=ticket.id,
            now=now,
        ):
            told.append(ticket.reference)
    return told
