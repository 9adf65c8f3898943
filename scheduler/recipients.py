"""Who hears about an SLA alert, and at which address on each channel.

Roles come from config: `assignee` (the consultant holding the ticket; the field's supervisors when nobody
does), `supervisor` (active supervisors of the ticket's field; every active supervisor when the field has
none, so an alert never goes nowhere) and `head` (the head of the center, from config).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.config import NotificationConfig
from tickets.models import Role, Ticket, User, UserField

MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


@dataclass(frozen=True)
class Contact:
    name: str
    username: str | None
    phone: str | None
    email: str | None

    @classmethod
    def of(cls, user: User) -> Contact:
        return cls(name=user.display_name, username=user.username, phone=user.phone, email=user.email)


@lru_cache(maxsize=4096)  # the same supervisors' numbers come up for every ticket of a sweep
def is_mobile(number: str | None) -> bool:
    """SMS goes to mobile numbers only: a landline cannot receive it."""
    if not number:
        return False
    try:
        parsed = phonenumbers.parse(number, "KR")
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.number_type(parsed) in MOBILE_TYPES


@dataclass
class Directory:
    """Looks people up once per sweep: many due tickets share a field."""

    session: Session
    notifications: NotificationConfig
    _supervisors: dict[str, list[Contact]] = field(default_factory=dict)

    def contacts(self, ticket: Ticket, role: str) -> list[Contact]:
        if role == "assignee":
            user = ticket.assignee
            if user is not None and user.active:
                return [Contact.of(user)]
            return self.supervisors(ticket.field)
        if role == "supervisor":
            return self.supervisors(ticket.field)
        if role == "head":
            n = self.notifications
            return [Contact(name=n.head_name, username="head", phone=n.head_phone, email=n.head_email)]
        raise ValueError(f"unknown role {role!r}")

    def supervisors(self, field_key: str) -> list[Contact]:
        if field_key not in self._supervisors:
            active = select(User).where(User.role == Role.SUPERVISOR, User.active.is_(True)).order_by(User.id)
            users = self.session.scalars(
                active.where(User.id.in_(select(UserField.user_id).where(UserField.field == field_key)))
            ).all()
            if not users:
                users = self.session.scalars(active).all()
            self._supervisors[field_key] = [Contact.of(u) for u in users]
        return self._supervisors[field_key]

    def address(self, contact: Contact, channel: str) -> str | None:
        """Where `channel` reaches `contact`, or None when it cannot (or the channel is switched off)."""
        n = self.notifications
        if channel == "sms":
            return contact.phone if n.sms_enabled and is_mobile(contact.phone) else None
        if channel == "email":
            return contact.email if n.email_enabled and contact.email else None
        if channel == "webhook":
            return n.webhook_url if n.webhook_enabled else None
        if channel == "console":
            return contact.username or contact.name
        raise ValueError(f"unknown channel {channel!r}")
