"""Who hears about an SLA alert, and at which address on each channel.

Roles come from config: `assignee` (the consultant holding the ticket; the field's supervisors when nobody
does), `supervisor` (active supervisors of the ticket's field; every active supervisor when the field has
none, so an alert never goes nowhere) and `head` (the head of the center, from config).

The first two are users: each has a console login, so the console inbox reaches them whatever their own
numbers are. The head is only a name, a phone and an e-mail address in config, with no console inbox.
`can_reach` says from config alone whether a role can be reached on a channel; ivr.config refuses, at
start-up, an alert recipient that no channel reaches.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from callflows.phones import is_mobile
from scheduler.scheduler_config import NotificationConfig
from tickets.models import Role, Ticket, User, UserField

USER_ROLES = ("assignee", "supervisor")  # resolved to active users at alert time
HEAD_ROLE = "head"


@dataclass(frozen=True)
class Contact:
    name: str
    username: str | None  # a console user's; None for someone with no console login (the head)
    phone: str | None
    email: str | None

    @classmethod
    def of(cls, user: User) -> Contact:
        return cls(name=user.display_name, username=user.username, phone=user.phone, email=user.email)


def head_of_center(notifications: NotificationConfig) -> Contact:
    n = notifications
    return Contact(name=n.head_name, username=None, phone=n.head_phone, email=n.head_email)


def switched_on(notifications: NotificationConfig, channel: str) -> bool:
    n = notifications
    enabled = {"sms": n.sms_enabled, "email": n.email_enabled, "webhook": n.webhook_enabled, "console": True}
    if channel not in enabled:
        raise ValueError(f"unknown channel {channel!r}")
    return enabled[channel]


def address(notifications: NotificationConfig, contact: Contact, channel: str) -> str | None:
    """Where `channel` reaches `contact`, or None when it cannot (or the channel is switched off)."""
    if not switched_on(notifications, channel):
        return None
    if channel == "sms":
        return contact.phone if is_mobile(contact.phone) else None  # a landline cannot take an SMS
    if channel == "email":
        return contact.email or None
    if channel == "webhook":
        return notifications.webhook_url
    return contact.username  # console: only users have an inbox


def can_reach(notifications: NotificationConfig, role: str, channel: str) -> bool:
    """Whether `channel` can reach people of `role` at all, as far as config tells.

    Users: the console always can (every user reads their inbox), SMS and e-mail when switched on (whether
    a given user has a mobile number or an address is their record's business). The head: only through the
    phone, e-mail address or webhook configured for them.
    """
    if role == HEAD_ROLE:
        return address(notifications, head_of_center(notifications), channel) is not None
    return switched_on(notifications, channel)


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
        if role == HEAD_ROLE:
            return [head_of_center(self.notifications)]
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
        return address(self.notifications, contact, channel)
