"""The hotline's records: people, calls, tickets and what happens to them."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tickets import clock
from tickets.db import Base, created, intpk, str16, str32, str64, str255


class Role(enum.StrEnum):
    CONSULTANT = "consultant"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"
    AUDITOR = "auditor"  # reads the access log, nothing else


class Status(enum.StrEnum):
    NEW = "new"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING = "waiting"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Channel(enum.StrEnum):
    """How a request reached the hotline."""

    PHONE = "phone"
    WEB = "web"


OPEN_STATUSES = (Status.NEW, Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING)


class Outcome(enum.StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    VOICEMAIL = "voicemail"
    WRONG_NUMBER = "wrong_number"
    FAILED = "failed"


def _enum_check(name: str, column: str, values: type[enum.StrEnum]) -> CheckConstraint:
    allowed = ", ".join(f"'{v.value}'" for v in values)
    return CheckConstraint(f"{column} IN ({allowed})", name=name)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (_enum_check("role", "role", Role),)

    id: Mapped[intpk]
    username: Mapped[str64] = mapped_column(unique=True)
    display_name: Mapped[str255]
    role: Mapped[str16]
    phone: Mapped[str32 | None]  # E.164; the phone click-to-call rings
    email: Mapped[str255 | None]
    active: Mapped[bool] = mapped_column(default=True)
    on_duty: Mapped[bool] = mapped_column(default=True)
    away_from: Mapped[date | None]
    away_until: Mapped[date | None]  # inclusive
    password_hash: Mapped[str255 | None]
    # Copied into each console session at login; raising it (logout, a new password, a new role,
    # deactivation) ends every session holding the old number (tickets.auth).
    session_version: Mapped[int] = mapped_column(default=0, server_default="0")
    last_assigned_at: Mapped[datetime | None]  # routing breaks ties by who waited longest
    created_at: Mapped[created]
    # Two-step sign-in (tickets.two_step). The TOTP secret (base32) is set when enrolment starts and is on
    # once a first code confirmed it (totp_enabled_at). The time step of the last code accepted is kept, so
    # a code seen once (over a shoulder, in a phished form) is refused for the rest of its window.
    totp_secret: Mapped[str64 | None]
    totp_enabled_at: Mapped[datetime | None]
    totp_last_step: Mapped[int | None]

    field_links: Mapped[list[UserField]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def fields(self) -> list[str]:
        return sorted(link.field for link in self.field_links)

    @fields.setter
    def fields(self, keys: list[str]) -> None:
        wanted = set(keys)
        self.field_links = [link for link in self.field_links if link.field in wanted]
        have = {link.field for link in self.field_links}
        self.field_links.extend(UserField(field=key) for key in sorted(wanted - have))


class LoginThrottle(Base):
    """Failed logins and API tokens counted per client address (tickets.throttle).

    In the database, not in a process, so every web host counts the same failures. One row per address
    and name tried (a password guess), plus one per address with username "" (all its failures).
    """

    __tablename__ = "login_throttle"

    address: Mapped[str64] = mapped_column(primary_key=True)
    username: Mapped[str64] = mapped_column(primary_key=True)
    failures: Mapped[int]
    window_started_at: Mapped[datetime]


class RecoveryCode(Base):
    """A one-time code that stands in for the authenticator app (a lost phone): only its hash is kept, and
    using it stamps used_at, so it works once."""

    __tablename__ = "recovery_codes"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str64]  # sha256 hex of a random 64-bit code: never the code itself
    created_at: Mapped[created]
    used_at: Mapped[datetime | None]


class UserField(Base):
    """Which technical fields a consultant covers (or a supervisor oversees)."""

    __tablename__ = "user_fields"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    field: Mapped[str32] = mapped_column(primary_key=True, index=True)

    user: Mapped[User] = relationship(back_populates="field_links")


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[intpk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str64] = mapped_column(unique=True)  # sha256 hex: the token itself is never stored
    label: Mapped[str64 | None]
    created_at: Mapped[created]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")


class Call(Base):
    """One inbound call, saved at every step of the flow so a hang-up or a crash loses nothing."""

    __tablename__ = "calls"
    __table_args__ = (Index(None, "started_at"),)

    id: Mapped[intpk]
    call_sid: Mapped[str64] = mapped_column(unique=True)
    from_number: Mapped[str64 | None]  # as Twilio sent it (may be "anonymous")
    to_number: Mapped[str64 | None]
    language: Mapped[str16] = mapped_column(default="ko")
    step: Mapped[str32 | None]  # the step the caller is at; None once the flow finished
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)  # callflows.CallState.to_dict()
    turn: Mapped[int] = mapped_column(default=0)  # numbers the prompts, so a replayed webhook is recognised
    last_response: Mapped[str | None] = mapped_column(Text)  # TwiML of the latest turn, replayed as is
    status: Mapped[str32] = mapped_column(default="in-progress")  # Twilio's CallStatus
    flow_completed: Mapped[bool] = mapped_column(default=False)
    recording_sid: Mapped[str64 | None]  # a recording callback may arrive before the ticket exists
    recording_url: Mapped[str | None] = mapped_column(String(1024))
    recording_duration: Mapped[int | None]
    duration: Mapped[int | None]  # seconds, from the status callback
    started_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    ended_at: Mapped[datetime | None]
    # when the recovery job (ivr.calls.file_unfiled_calls) filed the ticket of a call that ended or went
    # quiet without one, or found nothing to file: it looks at a call once
    filing_checked_at: Mapped[datetime | None]
    # when retention or an erasure removed the caller's number, flow state and recording (scheduler.retention)
    anonymised_at: Mapped[datetime | None]

    ticket: Mapped[Ticket | None] = relationship(back_populates="call", foreign_keys="Ticket.call_id")
    repeat_of: Mapped[RepeatCall | None] = relationship(back_populates="call")

    @property
    def filed_or_joined_ticket(self) -> Ticket | None:
        """The ticket this call filed, or the open ticket it joined as a repeat call; None before either."""
        if self.ticket is not None:
            return self.ticket
        return self.repeat_of.ticket if self.repeat_of is not None else None


class RepeatCall(Base):
    """A call that joined the caller's open ticket (same callback number, same field) instead of filing one.

    Ticket.call_id is the call that filed the ticket; a repeat call is linked here, at most once per call
    (the primary key), so a replayed webhook cannot link it twice. A table of its own rather than a column
    on calls: calls and tickets would otherwise point at each other.
    """

    __tablename__ = "repeat_calls"

    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    linked_at: Mapped[created]

    call: Mapped[Call] = relationship(back_populates="repeat_of")
    ticket: Mapped[Ticket] = relationship()


# What the period reports read from a ticket besides id, field and created_at (see Ticket's report indexes).
REPORT_COLUMNS = [
    "channel",
    "missed_call",
    "support_type",
    "status",
    "sla_due_at",
    "first_attempt_at",
    "resolved_at",
    "closed_at",
    "unreached_notified_at",
]


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        _enum_check("status", "status", Status),
        # The consultant's queue: mine, open, by deadline.
        Index(None, "assignee_id", "status", "sla_due_at"),
        # The field pool and the filters of GET /tickets.
        Index(None, "field", "status", "created_at"),
        Index(None, "status", "sla_due_at"),
        # The SLA sweep reads only what is due; closed tickets have no next escalation.
        Index(None, "next_escalation_at"),
        # A repeat caller's open tickets, by the network caller ID (a typed callback number is no proof).
        Index(None, "caller_number", "field", "status"),
        # The daily retention job reads tickets closed before a cutoff (scheduler.retention).
        Index(None, "closed_at"),
        # Reports (supervisor/reports.py) aggregate a period of receipt, optionally one field: on PostgreSQL
        # these cover every column the aggregates read, so a year of tickets is an index-only scan. The first
        # also serves every other created_at range or order (a plain created_at index beside it would be a
        # duplicate on SQLite, and on PostgreSQL the planner would prefer it and read the table instead).
        Index(
            "ix_tickets_report_received",
            "created_at",
            postgresql_include=["field", *REPORT_COLUMNS],
        ),
        # id: a one-field report joins the period's alerts and attempts to the field's tickets by id.
        Index(
            "ix_tickets_report_field_received",
            "field",
            "created_at",
            postgresql_include=["id", *REPORT_COLUMNS],
        ),
    )

    id: Mapped[intpk]
    reference: Mapped[str16] = mapped_column(unique=True)  # "4821-9135": digits, easy to read aloud
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id"), unique=True)
    # No CHECK like status's: on SQLite adding one copies the tickets table, and every table pointing at it.
    channel: Mapped[str16] = mapped_column(default=Channel.PHONE, server_default=Channel.PHONE.value)
    field: Mapped[str32]  # a field key from config, or "general" (not sure: supervisors triage)
    support_type: Mapped[str32 | None]
    language: Mapped[str16] = mapped_column(default="ko")
    caller_number: Mapped[str64 | None]
    callback_number: Mapped[str32 | None]  # E.164
    recording_sid: Mapped[str64 | None]
    recording_url: Mapped[str | None] = mapped_column(String(1024))
    recording_duration: Mapped[int | None]
    # From the web form (tickets.web_requests): who asked, and their words in place of a recording.
    company: Mapped[str255 | None]
    contact_person: Mapped[str255 | None]
    description: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str16] = mapped_column(default=Status.NEW)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    incomplete: Mapped[bool] = mapped_column(default=False)  # the caller hung up before the flow ended
    # a call that ended before the caller chose a field (silence, or a hang-up): to be called back within
    # the missed-call target, and left out of the request figures
    missed_call: Mapped[bool] = mapped_column(default=False, server_default=false())
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)
    assigned_at: Mapped[datetime | None]
    acted_at: Mapped[datetime | None]  # the assignee's last action; an untouched assignment is released
    first_attempt_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # SLA: stored when the ticket changes, never recomputed by the sweep.
    sla_due_at: Mapped[datetime | None]
    first_callback_due_at: Mapped[datetime | None]
    next_escalation_at: Mapped[datetime | None]  # when the sweep must look at it next (warning or level)
    paused_at: Mapped[datetime | None]  # set while waiting: the clock is stopped
    paused_seconds: Mapped[int] = mapped_column(default=0)
    # While waiting: when the company asked to be called back; the queue brings the ticket up from then.
    callback_at: Mapped[datetime | None]
    escalation_level: Mapped[int] = mapped_column(default=0)
    # The SLA clock of the current round: set from creation, cleared when the ticket closes, restarted at a
    # reopen (which starts a new round, so its escalations are new rows). warned_at: the warning went out.
    sla_started_at: Mapped[datetime | None]
    sla_round: Mapped[int] = mapped_column(default=0)
    warned_at: Mapped[datetime | None]
    unreached_notified_at: Mapped[datetime | None]
    resolution_summary: Mapped[str | None] = mapped_column(Text)
    resolution_type: Mapped[str32 | None]
    # Retention (scheduler.retention): each step is done once, and these say when.
    recordings_deleted_at: Mapped[datetime | None]  # its recordings deleted at Twilio, references forgotten
    numbers_masked_at: Mapped[datetime | None]  # caller and callback numbers kept masked only
    anonymised_at: Mapped[datetime | None]  # erased on request, or an incomplete ticket past retention

    call: Mapped[Call | None] = relationship(back_populates="ticket", foreign_keys=[call_id])
    assignee: Mapped[User | None] = relationship(lazy="joined")
    attempts: Mapped[list[CallbackAttempt]] = relationship(
        back_populates="ticket", order_by="CallbackAttempt.at", cascade="all, delete-orphan"
    )
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", cascade="all, delete-orphan"
    )
    pauses: Mapped[list[SlaPause]] = relationship(
        order_by="SlaPause.started_at", cascade="all, delete-orphan"
    )
    referrals: Mapped[list[Referral]] = relationship(
        back_populates="ticket", order_by="Referral.id", cascade="all, delete-orphan"
    )

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class SlaPause(Base):
    """A stretch of `waiting`: the company asked to be called later, or must send documents."""

    __tablename__ = "sla_pauses"

    id: Mapped[intpk]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)


class CallbackAttempt(Base):
    __tablename__ = "callback_attempts"
    __table_args__ = (
        _enum_check("outcome", "outcome", Outcome),
        # The reports count attempts of a period by outcome (ticket_id: joined to a field's tickets).
        Index(None, "at", "outcome", postgresql_include=["ticket_id"]),
    )

    id: Mapped[intpk]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    outcome: Mapped[str16]
    at: Mapped[created]
    duration: Mapped[int | None]  # seconds
    note: Mapped[str | None] = mapped_column(Text)
    call_sid: Mapped[str64 | None] = mapped_column(unique=True)  # click-to-call: logged once per call

    ticket: Mapped[Ticket] = relationship(back_populates="attempts")
    user: Mapped[User | None] = relationship(lazy="joined")


class TicketEvent(Base):
    """The audit trail: who did what to a ticket, when and why."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index(None, "ticket_id", "at"),)

    id: Mapped[intpk]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    type: Mapped[str32]
    at: Mapped[created]
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(lazy="joined")


class OutboxMessage(Base):
    """A side effect waiting to happen: written with the change, delivered by a job after commit."""

    __tablename__ = "outbox"
    __table_args__ = (Index(None, "status", "next_try_at"),)

    id: Mapped[intpk]
    key: Mapped[str255] = mapped_column(unique=True)  # one message per key: a replay never sends twice
    channel: Mapped[str16]  # sms, email, webhook, console
    recipient: Mapped[str255]
    payload: Mapped[dict[str, Any]]
    status: Mapped[str16] = mapped_column(default="pending")  # pending, sent, dead
    tries: Mapped[int] = mapped_column(default=0)
    next_try_at: Mapped[created]
    last_error: Mapped[str | None] = mapped_column(Text)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[created]
    sent_at: Mapped[datetime | None]


class Notification(Base):
    """A message in one user's console inbox: an SLA alert, a digest, a repeat call.

    Written by the outbox's console channel when it delivers (tickets.inbox), so it appears only
    once the change behind it committed. `key` is the outbox message's: a retried delivery adds no copy.
    """

    __tablename__ = "notifications"
    # The console header counts the user's unread notifications on every page.
    __table_args__ = (Index(None, "user_id", "read_at"),)

    id: Mapped[intpk]
    key: Mapped[str255] = mapped_column(unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    # Indexed for the ON DELETE CASCADE when retention deletes a ticket (the text names the ticket).
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[created]
    read_at: Mapped[datetime | None]

    ticket: Mapped[Ticket | None] = relationship(lazy="joined")


class Escalation(Base):
    """An SLA alert: level 0 warns before the deadline, 1 is the breach, 2 and up follow. Once per level."""

    __tablename__ = "escalations"
    __table_args__ = (
        UniqueConstraint("ticket_id", "sla_round", "level"),
        Index(None, "acknowledged_at", "created_at"),
        # The reports count alerts that fell due in a period, by level (ticket_id: joined to a field's).
        Index(None, "due_at", "level", postgresql_include=["ticket_id"]),
    )

    id: Mapped[intpk]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    sla_round: Mapped[int] = mapped_column(default=0)  # Ticket.sla_round: a reopened ticket escalates anew
    level: Mapped[int]
    due_at: Mapped[datetime]  # when it was due (a catch-up run may write it later)
    created_at: Mapped[created]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    ticket: Mapped[Ticket] = relationship()


class SchedulerHeartbeat(Base):
    """One row per scheduler process name, touched by a job: /healthz tells whether it is alive."""

    __tablename__ = "scheduler_heartbeats"

    name: Mapped[str64] = mapped_column(primary_key=True)
    host: Mapped[str255]
    pid: Mapped[int]
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    # The process's latest successful SLA sweep and how long it took (read by /metrics)
    sweep_succeeded_at: Mapped[datetime | None]
    sweep_seconds: Mapped[float | None]


# --- partner institutes and referrals (tickets.institutes, tickets.referrals) -----------------------------


class InstituteKind(enum.StrEnum):
    RESEARCH_INSTITUTE = "research_institute"
    UNIVERSITY = "university"
    TECHNOPARK = "technopark"
    TESTING_BODY = "testing_body"
    OTHER = "other"


class Institute(Base):
    """A partner institute a company can be referred to. About 60 rows: lists are filtered in Python."""

    __tablename__ = "institutes"
    __table_args__ = (_enum_check("kind", "kind", InstituteKind),)

    id: Mapped[intpk]
    key: Mapped[str64] = mapped_column(unique=True)  # how the CSV, the API and the CLI name it
    name_ko: Mapped[str255]
    name_en: Mapped[str255 | None]
    kind: Mapped[str32]
    regions: Mapped[list[Any]] = mapped_column(default=list)  # region keys (tickets.regions)
    fields: Mapped[list[Any]] = mapped_column(default=list)  # field keys from config
    support_types: Mapped[list[Any]] = mapped_column(default=list)  # support type keys from config
    keywords: Mapped[list[Any]] = mapped_column(default=list)  # equipment or services, free words
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[created]
    updated_at: Mapped[datetime] = mapped_column(default=clock.now, onupdate=clock.now)

    contacts: Mapped[list[InstituteContact]] = relationship(
        back_populates="institute",
        order_by="InstituteContact.position",
        cascade="all, delete-orphan",
        lazy="selectin",
    )


class InstituteContact(Base):
    __tablename__ = "institute_contacts"

    id: Mapped[intpk]
    institute_id: Mapped[int] = mapped_column(ForeignKey("institutes.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)  # the first is the default recipient of a referral
    name: Mapped[str255]
    email: Mapped[str255 | None]
    phone: Mapped[str32 | None]  # E.164; an SMS goes out only to a mobile number

    institute: Mapped[Institute] = relationship(back_populates="contacts")


class Diagnosis(Base):
    """The consultant's diagnosis of a ticket: what the problem is and which kinds of help it needs."""

    __tablename__ = "diagnoses"
    __table_args__ = (Index(None, "ticket_id", "id"),)  # the latest of a ticket

    id: Mapped[intpk]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    summary: Mapped[str] = mapped_column(Text)
    needs: Mapped[list[Any]] = mapped_column(default=list)  # support type keys
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[created]

    by: Mapped[User | None] = relationship(lazy="joined")


class ReferralStatus(enum.StrEnum):
    SENT = "sent"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    EXPIRED = "expired"
    COMPLETED = "completed"


OPEN_REFERRAL_STATUSES = (ReferralStatus.SENT, ReferralStatus.ACCEPTED)
# The same condition in SQL, for the partial index below and its migration (0014).
OPEN_REFERRAL_SQL = f"status IN ({', '.join(repr(str(s)) for s in OPEN_REFERRAL_STATUSES)})"


class Referral(Base):
    """A ticket handed to a partner institute, answered by the institute through its private link."""

    __tablename__ = "referrals"
    __table_args__ = (
        _enum_check("status", "status", ReferralStatus),
        # One open referral per ticket and institute: two consultants referring at once make one (the other
        # 409). Once the institute declined or let it expire, it may be asked again.
        Index(
            None,
            "ticket_id",
            "institute_id",
            unique=True,
            sqlite_where=text(OPEN_REFERRAL_SQL),
            postgresql_where=text(OPEN_REFERRAL_SQL),
        ),
        # The follow-up sweep reads only what is due (scheduler.referral_followup).
        Index(None, "follow_up_at"),
        # Suggestions rank institutes by their open referrals; the reports count by institute.
        Index(None, "institute_id", "status"),
    )

    id: Mapped[intpk]
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    institute_id: Mapped[int] = mapped_column(ForeignKey("institutes.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("institute_contacts.id", ondelete="SET NULL"))
    status: Mapped[str16] = mapped_column(default=ReferralStatus.SENT)
    note: Mapped[str | None] = mapped_column(Text)  # the consultant's words to the institute
    by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    sent_at: Mapped[created]
    answered_at: Mapped[datetime | None]  # accepted, declined or expired
    accepted_by: Mapped[str255 | None]  # the institute's person who will contact the company
    expected_at: Mapped[date | None]  # when the institute expects to be done
    decline_reason: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(Text)
    follow_up_at: Mapped[datetime | None]  # when the sweep must look at it next; None once final

    ticket: Mapped[Ticket] = relationship(back_populates="referrals")
    institute: Mapped[Institute] = relationship(lazy="joined")
    contact: Mapped[InstituteContact | None] = relationship(lazy="joined")
    by: Mapped[User | None] = relationship(lazy="joined")

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_REFERRAL_STATUSES


class ReferralLink(Base):
    """The private link an institute answers through: only the SHA-256 of its token is stored."""

    __tablename__ = "referral_links"

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str64] = mapped_column(unique=True)
    created_at: Mapped[created]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]

    referral: Mapped[Referral] = relationship(lazy="joined")


class ReferralFollowUp(Base):
    """A reminder or alert of a referral, once per kind: reruns and two schedulers write it once."""

    __tablename__ = "referral_follow_ups"
    __table_args__ = (UniqueConstraint("referral_id", "kind"),)

    id: Mapped[intpk]
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id", ondelete="CASCADE"))
    kind: Mapped[str32]  # reminder, unanswered_alert, expired, outcome_alert
    due_at: Mapped[datetime]
    created_at: Mapped[created]


class WebRequest(Base):
    """A web form's request, waiting for its callback number to be proved (tickets.web_requests).

    Nothing is filed until the number is proved: the form's answers wait here with the SMS code's hash, and
    the row is deleted when the ticket is filed (the ticket then holds them) or when it goes stale.
    """

    __tablename__ = "web_requests"
    # Stale requests are deleted by age.
    __table_args__ = (Index(None, "created_at"),)

    id: Mapped[intpk]
    token: Mapped[str64] = mapped_column(unique=True)  # kept in the browser's session: which request is its
    language: Mapped[str16]
    company: Mapped[str255]
    contact_person: Mapped[str255]
    field: Mapped[str32]
    support_type: Mapped[str32]
    callback_number: Mapped[str32]  # E.164
    description: Mapped[str] = mapped_column(Text)
    client_address: Mapped[str64]
    code_hash: Mapped[str64]  # sha256 hex of the token and the code: never the code itself
    code_expires_at: Mapped[datetime]
    tries: Mapped[int] = mapped_column(default=0)  # codes typed so far; the limit is in tickets.web_requests
    created_at: Mapped[created]
