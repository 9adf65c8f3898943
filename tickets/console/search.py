"""Finding tickets from the console's header: a reference, a phone number in any format, or words of a note,
an attempt's note or a resolution summary; narrowed by status, field and deadline.

The filters live in the query string (`/console/?q=…&status=…`) so a result can be bookmarked. A search by a
phone number is an access to personal data: the caller of `search` writes it to the access log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Text, cast, or_, select
from sqlalchemy.orm import Session

from tickets import ticket_actions
from tickets.accounts import AccountError, to_e164
from tickets.models import OPEN_STATUSES, CallbackAttempt, Status, Ticket, TicketEvent, User
from tickets.references import normalise_reference

LIMIT = 100
DUE_CHOICES = {"overdue": "기한 초과", "24h": "24시간 안에 기한"}


@dataclass(frozen=True)
class Filters:
    q: str = ""
    status: str = ""  # a Status value, "open", or "" for any
    field: str = ""
    due: str = ""  # a DUE_CHOICES key or ""

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        status = args.get("status", "")
        due = args.get("due", "")
        return cls(
            q=args.get("q", "").strip()[:100],
            status=status if status in {"open", *(s.value for s in Status)} else "",
            field=args.get("field", "").strip()[:32],
            due=due if due in DUE_CHOICES else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.q or self.status or self.field or self.due)

    @property
    def phone(self) -> str | None:
        """The query as an E.164 number, when it reads as one (010-1234-5678, +82 10 …, 01012345678)."""
        if sum(ch.isdigit() for ch in self.q) < 9:
            return None
        try:
            return to_e164(self.q)
        except AccountError:
            return None


def _json_fragment(text: str) -> str:
    # Event details are stored as JSON text with non-ASCII escaped (\ud55c): search for the same spelling.
    return json.dumps(text)[1:-1]


def search(session: Session, user: User, filters: Filters, now: datetime) -> list[Ticket]:
    query = ticket_actions.visible(select(Ticket), user)
    if filters.q:
        words = filters.q
        matches = [
            Ticket.reference == normalise_reference(words),
            Ticket.resolution_summary.icontains(words, autoescape=True),
            Ticket.company.icontains(words, autoescape=True),
            Ticket.id.in_(
                select(CallbackAttempt.ticket_id).where(
                    CallbackAttempt.note.icontains(words, autoescape=True)
                )
            ),
            Ticket.id.in_(
                select(TicketEvent.ticket_id).where(
                    TicketEvent.type == "note",
                    cast(TicketEvent.detail, Text).icontains(_json_fragment(words), autoescape=True),
                )
            ),
        ]
        if filters.phone:
            matches += [Ticket.callback_number == filters.phone, Ticket.caller_number == filters.phone]
        query = query.where(or_(*matches))
    if filters.status == "open":
        query = query.where(Ticket.status.in_(list(OPEN_STATUSES)))
    elif filters.status:
        query = query.where(Ticket.status == filters.status)
    if filters.field:
        query = query.where(Ticket.field == filters.field)
    if filters.due:
        # Deadlines matter only while a ticket is open. The same rule as the dashboard's tiles, which link
        # here, so a tile's count and its list agree.
        query = query.where(Ticket.status.in_(list(OPEN_STATUSES)))
        if filters.due == "overdue":
            query = query.where(Ticket.sla_due_at <= now)
        else:
            query = query.where(Ticket.sla_due_at > now, Ticket.sla_due_at <= now + timedelta(hours=24))
    order = (Ticket.sla_due_at.asc().nulls_last(), Ticket.id.desc())
    return list(session.scalars(query.order_by(*order).limit(LIMIT)))
