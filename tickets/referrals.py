"""From the expert's diagnosis to the institute that solves it: diagnoses, suggestions, referrals and the
institute's private link.

A referral moves `sent → accepted | declined | expired`, then `accepted → completed`; every move is an event
on the ticket. The institute answers through a link whose token is random (`secrets`) and stored only as its
SHA-256: it serves one referral, expires (config `referrals.link_valid_days`, stretched on acceptance until
the outcome is due), can be revoked (and a new one sent to the right address), and once the referral is
final it changes nothing more. The scheduler's follow-up sweep (scheduler.referral_followup) reminds, alerts
and expires: a change here only asks it to look (`follow_up_at = now`), so its rules live in one place.

Service functions flush; the request wrapper commits. Side effects go through the one outbox writer.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from callflows.phones import is_mobile
from callflows.prompts import display_number
from tickets import access_log, events, institutes, recordings
from tickets.access_log import Action
from tickets.labels import SMS_PREFIX, STAFF_SMS_PREFIX
from tickets.models import (
    Diagnosis,
    Institute,
    InstituteContact,
    Referral,
    ReferralLink,
    ReferralStatus,
    Ticket,
    User,
)
from tickets.outbox import add_message_once
from tickets.regions import region_of_number
from tickets.ticket_config import ReferralConfig

log = logging.getLogger(__name__)

SUMMARY_MAX = 4000
ANSWER_PATH = "/institute/r/{token}"
RECORDING_PATH = "/institute/r/{token}/recording"
REFERRED = "referred"  # the resolution_type of a ticket an institute took on
NEW_LINK = "new-link"  # the message kind of a link sent after the earlier ones were revoked


class ReferralError(Exception):
    """A referral request that cannot be done; `status` is the HTTP status the API answers with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


# --- diagnosis and suggestions ----------------------------------------------------------------------------


def record_diagnosis(
    session: Session,
    ticket: Ticket,
    *,
    summary: Any,
    needs: Any,
    support_type_keys: Sequence[str],
    by: User,
    now: datetime,
) -> Diagnosis:
    if not ticket.is_open:
        raise ReferralError(
            409, "ticket_closed", f"A {ticket.status} ticket is not diagnosed; reopen it first."
        )
    if not isinstance(summary, str) or not summary.strip():
        raise ReferralError(422, "invalid_summary", "summary is required text.")
    if len(summary) > SUMMARY_MAX:
        raise ReferralError(422, "invalid_summary", f"summary is at most {SUMMARY_MAX} characters.")
    if not isinstance(needs, list) or not all(isinstance(n, str) for n in needs):
        raise ReferralError(422, "invalid_needs", "needs is a list of support type keys.")
    unknown = [n for n in needs if n not in support_type_keys]
    if unknown:
        raise ReferralError(
            422, "invalid_needs", f"unknown support types {unknown}; known: {', '.join(support_type_keys)}"
        )
    diagnosis = Diagnosis(
        ticket_id=ticket.id, summary=summary.strip(), needs=list(dict.fromkeys(needs)), by=by, at=now
    )
    session.add(diagnosis)
    events.record(session, ticket, "diagnosed", by=by, at=now, needs=diagnosis.needs)
    _touch(ticket, by, now)
    session.flush()
    access_log.record_request(session, Action.INPUT, [ticket.reference], what="diagnosis")
    return diagnosis


def latest_diagnosis(session: Session, ticket: Ticket) -> Diagnosis | None:
    return session.scalar(
        select(Diagnosis).where(Diagnosis.ticket_id == ticket.id).order_by(Diagnosis.id.desc()).limit(1)
    )


def diagnosis_json(diagnosis: Diagnosis | None) -> dict[str, Any] | None:
    if diagnosis is None:
        return None
    return {
        "summary": diagnosis.summary,
        "needs": list(diagnosis.needs),
        "by": diagnosis.by.username if diagnosis.by else None,
        "at": diagnosis.at.isoformat(),
    }


@dataclass(frozen=True)
class Suggestion:
    institute: Institute
    near: bool  # in the company's region (from its landline's area code)
    open_referrals: int
    matching_needs: tuple[str, ...]


def needed_support(session: Session, ticket: Ticket) -> list[str]:
    """What the company needs: the latest diagnosis's needs, else the support type asked for on the call."""
    diagnosis = latest_diagnosis(session, ticket)
    if diagnosis is not None and diagnosis.needs:
        return list(diagnosis.needs)
    return [ticket.support_type] if ticket.support_type else []


def suggest(session: Session, ticket: Ticket) -> list[Suggestion]:
    """Active institutes serving the ticket's field and offering a needed support type: those in the company's
    region first, then those with the fewest open referrals, then those matching more needs."""
    needs = needed_support(session, ticket)
    region = region_of_number(ticket.callback_number) or region_of_number(ticket.caller_number)
    counts = institutes.open_referral_counts(session)
    already = {r.institute_id for r in ticket.referrals}
    found = []
    for institute in institutes.list_institutes(session, field=ticket.field, active_only=True):
        matching = tuple(n for n in needs if n in institute.support_types)
        if (needs and not matching) or institute.id in already:
            continue
        near = region is not None and region in institute.regions
        found.append(Suggestion(institute, near, counts.get(institute.id, 0), matching))
    found.sort(key=lambda s: (not s.near, s.open_referrals, -len(s.matching_needs), s.institute.key))
    return found


# --- referring --------------------------------------------------------------------------------------------


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def answer_link(base_url: str | None, token: str) -> str:
    return (base_url or "") + ANSWER_PATH.format(token=token)


def _new_link(session: Session, referral: Referral, expires_at: datetime, now: datetime) -> str:
    token = secrets.token_urlsafe(32)
    session.add(
        ReferralLink(referral=referral, token_hash=_hash(token), created_at=now, expires_at=expires_at)
    )
    return token


def refer(
    session: Session,
    ticket: Ticket,
    *,
    institute_key: Any,
    contact_name: Any = None,
    note: Any = None,
    by: User,
    now: datetime,
    settings: ReferralConfig,
    texts: MessageTexts,
) -> Referral:
    """Refer the ticket to an institute: the referral, its link, the event and the institute's messages."""
    if not isinstance(institute_key, str) or not institute_key.strip():
        raise ReferralError(422, "invalid_institute", "institute (a key) is required.")
    if note is not None and (not isinstance(note, str) or len(note) > SUMMARY_MAX):
        raise ReferralError(422, "invalid_note", f"note is text of at most {SUMMARY_MAX} characters.")
    if contact_name is not None and not isinstance(contact_name, str):
        raise ReferralError(422, "invalid_contact", "contact is a contact's name.")
    institute = institutes.find(session, institute_key)
    if institute is None or not institute.active:
        raise ReferralError(422, "invalid_institute", f"No active institute {institute_key!r}.")
    contact = _contact(institute, contact_name)
    if not ticket.is_open:
        raise ReferralError(
            409, "ticket_closed", f"A {ticket.status} ticket is not referred; reopen it first."
        )
    duplicate = ReferralError(
        409, "already_referred", f"This ticket has an open referral to {institute.key} already."
    )
    if any(r.institute_id == institute.id and r.is_open for r in ticket.referrals):
        raise duplicate
    try:
        # The unique index over open referrals decides a race between two consultants; the savepoint keeps
        # the request's transaction usable for the 409 (PostgreSQL aborts a transaction on an error).
        with session.begin_nested():
            referral = Referral(
                ticket=ticket, institute=institute, contact=contact, status=ReferralStatus.SENT,
                note=(note or "").strip() or None, by=by, sent_at=now, follow_up_at=now,
            )  # fmt: skip
            session.add(referral)
            session.flush()
    except IntegrityError:
        raise duplicate from None
    token = _new_link(session, referral, now + timedelta(days=settings.link_valid_days), now)
    events.record(
        session, ticket, "referred", by=by, at=now, referral=referral.id, institute=institute.key,
        contact=contact.name,
    )  # fmt: skip
    _touch(ticket, by, now)
    _message_institute(session, referral, token, texts, now, kind="referral")
    session.flush()
    access_log.record_request(
        session, Action.INPUT, [ticket.reference], what="referral", referral=referral.id,
        institute=institute.key,
    )  # fmt: skip
    return referral


def _contact(institute: Institute, name: str | None) -> InstituteContact:
    if not institute.contacts:
        raise ReferralError(422, "invalid_contact", f"{institute.key} has no contact to send a referral to.")
    if not name:
        return institute.contacts[0]
    for contact in institute.contacts:
        if contact.name == name.strip():
            return contact
    raise ReferralError(422, "invalid_contact", f"{institute.key} has no contact {name!r}.")


def _touch(ticket: Ticket, by: User | None, now: datetime) -> None:
    ticket.updated_at = now
    if by is not None and by.id == ticket.assignee_id:
        ticket.acted_at = now


def reissue_link(session: Session, referral: Referral, now: datetime) -> str:
    """A fresh token for the same referral (the reminder carries it: the first is known only by its hash),
    expiring with the referral's current link."""
    return _new_link(session, referral, _lasts_until(_links(session, referral), now), now)


def _lasts_until(links: Sequence[ReferralLink], now: datetime) -> datetime:
    """When the referral's links stop working: a new one expires then too, so it moves no date."""
    return max((link.expires_at for link in links), default=now)


def _links(session: Session, referral: Referral) -> list[ReferralLink]:
    return list(session.scalars(select(ReferralLink).where(ReferralLink.referral_id == referral.id)))


def revoke_links(session: Session, referral: Referral, *, by: User, now: datetime) -> int:
    """Every link of the referral stops working (a forwarded e-mail, a wrong address). Returns how many."""
    revoked = 0
    for link in _links(session, referral):
        if link.revoked_at is None:
            link.revoked_at = now
            revoked += 1
    if revoked:
        events.record(
            session, referral.ticket, "referral_link_revoked", by=by, at=now, referral=referral.id,
            institute=referral.institute.key,
        )  # fmt: skip
        access_log.record_request(
            session, Action.CHANGE, [referral.ticket.reference], what="referral_revoke", referral=referral.id,
            institute=referral.institute.key,
        )  # fmt: skip
    session.flush()
    return revoked


def send_new_link(
    session: Session,
    referral: Referral,
    *,
    contact_name: Any = None,
    by: User,
    now: datetime,
    texts: MessageTexts,
) -> Referral:
    """After the links were revoked (a wrong address, a forwarded e-mail): one new link to the institute's
    contact named (by default the referral's own, perhaps at a corrected address), or to another of them.

    The referral keeps its dates: the new link expires with the revoked ones, and the sweep's reminder and
    expiry stay where they were, so the company's deadline does not move. The reminder, if still due, now
    goes out again (with a link of its own) because a link works again."""
    if contact_name is not None and not isinstance(contact_name, str):
        raise ReferralError(422, "invalid_contact", "contact is a contact's name.")
    if not referral.is_open:
        raise ReferralError(409, "referral_closed", f"A {referral.status} referral gets no new link.")
    links = _links(session, referral)
    if not _all_revoked(links):
        raise ReferralError(409, "link_works", "The referral's link still works: revoke it first.")
    expires_at = _lasts_until(links, now)
    if expires_at <= now:
        raise ReferralError(409, "link_expired", "The referral's links have expired; it gets no new one.")
    if contact_name is None and referral.contact is not None:
        contact_name = referral.contact.name
    contact = _contact(referral.institute, contact_name)
    token = _new_link(session, referral, expires_at, now)
    referral.contact = contact
    ticket = referral.ticket
    events.record(
        session, ticket, "referral_link_sent", by=by, at=now, referral=referral.id,
        institute=referral.institute.key, contact=contact.name,
    )  # fmt: skip
    _touch(ticket, by, now)
    # Each new link is its own message: one per link, so a second revocation and resend also reaches them.
    _message_institute(session, referral, token, texts, now, kind=f"{NEW_LINK}-{len(links) + 1}")
    session.flush()
    access_log.record_request(
        session, Action.CHANGE, [ticket.reference], what="referral_new_link", referral=referral.id,
        institute=referral.institute.key,
    )  # fmt: skip
    return referral


def links_revoked(session: Session, referral: Referral) -> bool:
    """Whether the consultant withdrew every link of the referral: no reminder hands it a fresh one; only
    the consultant's `send_new_link` does."""
    return _all_revoked(_links(session, referral))


def _all_revoked(links: Sequence[ReferralLink]) -> bool:
    return bool(links) and all(link.revoked_at is not None for link in links)


def referral_json(referral: Referral) -> dict[str, Any]:
    return {
        "id": referral.id,
        "institute": referral.institute.key,
        "status": referral.status,
        "sent_at": referral.sent_at.isoformat(),
        "answered_at": referral.answered_at.isoformat() if referral.answered_at else None,
        "expected_at": referral.expected_at.isoformat() if referral.expected_at else None,
        "outcome": referral.outcome,
        "note": referral.note,
    }


def has_accepted(ticket: Ticket) -> bool:
    return any(r.status in (ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED) for r in ticket.referrals)


# --- the institute's answers ------------------------------------------------------------------------------

# Why a link does nothing (the page says so in Korean; the log gets a warning).
INVALID, REVOKED, EXPIRED, ANSWERED = "invalid", "revoked", "expired", "answered"


@dataclass(frozen=True)
class LinkState:
    referral: Referral | None  # None: no such link
    problem: str | None  # None: the link may act


def open_link(session: Session, token: str, now: datetime) -> LinkState:
    """What the token opens. A tampered token finds nothing; a revoked or expired one finds its referral
    but may not act on it."""
    link = session.scalar(select(ReferralLink).where(ReferralLink.token_hash == _hash(token)))
    if link is None:
        return LinkState(None, INVALID)
    referral = link.referral
    if link.revoked_at is not None:
        return LinkState(referral, REVOKED)
    if referral.status == ReferralStatus.EXPIRED or link.expires_at <= now:
        return LinkState(referral, EXPIRED)
    if not referral.is_open:
        return LinkState(referral, ANSWERED)
    return LinkState(referral, None)


class LinkRefused(Exception):
    """The link may not do this: `problem` is INVALID, REVOKED, EXPIRED or ANSWERED."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem


def _acting(session: Session, token: str, now: datetime, *, expect: ReferralStatus, what: str) -> Referral:
    state = open_link(session, token, now)
    problem = state.problem
    if problem is None and state.referral is not None and state.referral.status != expect:
        problem = ANSWERED
    if problem is not None or state.referral is None:
        referral_id = state.referral.id if state.referral is not None else None
        log.warning("institute link refused to %s: %s (referral %s)", what, problem, referral_id)
        raise LinkRefused(problem or INVALID)
    return state.referral


def accept(
    session: Session,
    token: str,
    *,
    person: str,
    expected: date,
    now: datetime,
    settings: ReferralConfig,
    texts: MessageTexts,
) -> Referral:
    """The institute takes the referral on: who will contact the company, and by when it expects to be done.
    The company hears by SMS (once), and the link lives on until the outcome is due."""
    person = person.strip()
    if not person or len(person) > 255:
        raise ValueError("person")
    referral = _acting(session, token, now, expect=ReferralStatus.SENT, what="accept")
    referral.status = ReferralStatus.ACCEPTED
    referral.answered_at = now
    referral.accepted_by = person
    referral.expected_at = expected
    referral.follow_up_at = now
    lasts = outcome_due_at(referral, settings, texts.timezone) + timedelta(days=settings.link_valid_days)
    for link in _links(session, referral):
        link.expires_at = max(link.expires_at, lasts)
    ticket = referral.ticket
    events.record(
        session, ticket, "referral_accepted", at=now, referral=referral.id, institute=referral.institute.key,
        person=person, expected_at=expected.isoformat(),
    )  # fmt: skip
    _message_company(session, referral, texts, now)
    session.flush()
    return referral


def outcome_due_at(referral: Referral, settings: ReferralConfig, timezone: str) -> datetime:
    """When an accepted referral's outcome is due: the end of its expected day (local), else
    `outcome_within_days` after it was accepted."""
    if referral.expected_at is not None:
        day_after = datetime.combine(referral.expected_at + timedelta(days=1), time(0), ZoneInfo(timezone))
        return day_after.astimezone(UTC)
    assert referral.answered_at is not None
    return referral.answered_at + timedelta(days=settings.outcome_within_days)


def decline(session: Session, token: str, *, reason: str, now: datetime) -> Referral:
    reason = reason.strip()
    if not reason or len(reason) > SUMMARY_MAX:
        raise ValueError("reason")
    referral = _acting(session, token, now, expect=ReferralStatus.SENT, what="decline")
    referral.status = ReferralStatus.DECLINED
    referral.answered_at = now
    referral.decline_reason = reason
    referral.follow_up_at = None
    events.record(
        session, referral.ticket, "referral_declined", at=now, referral=referral.id,
        institute=referral.institute.key, reason=reason,
    )  # fmt: skip
    session.flush()
    return referral


def complete(session: Session, token: str, *, outcome: str, now: datetime) -> Referral:
    outcome = outcome.strip()
    if not outcome or len(outcome) > SUMMARY_MAX:
        raise ValueError("outcome")
    referral = _acting(session, token, now, expect=ReferralStatus.ACCEPTED, what="report the outcome")
    referral.status = ReferralStatus.COMPLETED
    referral.completed_at = now
    referral.outcome = outcome
    referral.follow_up_at = None
    events.record(
        session, referral.ticket, "referral_completed", at=now, referral=referral.id,
        institute=referral.institute.key, outcome=outcome,
    )  # fmt: skip
    session.flush()
    return referral


def recording_sid(session: Session, token: str, now: datetime) -> str | None:
    """The SID of the caller's recording the link may play: only while its referral is open."""
    state = open_link(session, token, now)
    if state.problem is not None or state.referral is None:
        log.warning("institute link refused to play the recording: %s", state.problem)
        return None
    return recordings.own_sid(state.referral.ticket)


# --- messages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MessageTexts:
    """What messages need from config: the public base URL and the names of fields and support types."""

    public_base_url: str | None
    field_names: Mapping[str, str]
    support_type_names: Mapping[str, str]
    timezone: str = "Asia/Seoul"

    @classmethod
    def from_config(cls, config: Any) -> MessageTexts:
        """From ivr's HotlineConfig (typed loosely: ivr imports us)."""
        return cls(
            public_base_url=config.public_base_url,
            field_names={f.key: f.name("ko") for f in config.flow.fields},
            support_type_names={s.key: s.name("ko") for s in config.flow.support_types},
            timezone=config.timezone,
        )


def can_message(contact: InstituteContact | None) -> bool:
    """Whether the institute's messages can reach this contact: an e-mail address or a mobile number (a
    landline gets no SMS, and the link cannot be read out over the phone)."""
    return contact is not None and (bool(contact.email) or is_mobile(contact.phone))


def _message_institute(
    session: Session, referral: Referral, token: str, texts: MessageTexts, now: datetime, *, kind: str
) -> list[str]:
    """The institute's e-mail (and SMS, to a mobile): a summary, the company's number, the recording's and
    the answer's links. `kind` is "referral", "reminder" or NEW_LINK and the link's number; each is written
    once per contact address."""
    ticket, contact = referral.ticket, referral.contact
    if contact is None:
        return []
    diagnosis = latest_diagnosis(session, ticket)
    summary = diagnosis.summary if diagnosis is not None else (ticket.resolution_summary or "")
    needs = needed_support(session, ticket)
    link = answer_link(texts.public_base_url, token)
    recording = (
        (texts.public_base_url or "") + RECORDING_PATH.format(token=token)
        if recordings.own_sid(ticket) is not None
        else None
    )
    field = texts.field_names.get(ticket.field, ticket.field)
    help_wanted = ", ".join(texts.support_type_names.get(n, n) for n in needs) or "-"
    callback = display_number(ticket.callback_number) if ticket.callback_number else "-"
    first = "[1379 재안내] " if kind == "reminder" else f"{STAFF_SMS_PREFIX} "
    subject = f"{first}기업 기술지원 연계 요청 {ticket.reference} ({field})"
    lines = [
        f"{referral.institute.name_ko} {contact.name}님께,",
        "",
        "중소기업 기술애로 상담 1379에서 기업 지원을 요청드립니다.",
        f"접수번호: {ticket.reference}",
        f"분야: {field} / 필요한 지원: {help_wanted}",
        f"진단 요약: {summary or '-'}",
    ]
    if referral.note:
        lines.append(f"전문위원 메모: {referral.note}")
    if kind.startswith(NEW_LINK):
        lines.append("앞서 보낸 링크는 취소되었습니다. 이 메시지의 링크를 쓰세요.")
    lines.append(f"기업 연락처: {callback}")
    if recording:
        lines.append(f"기업의 문의 녹음: {recording}")
    lines += [
        "",
        f"수락 또는 거절, 결과 보고: {link}",
        "이 링크는 이 요청 전용이며 다른 사람과 공유하지 마세요.",
    ]
    sent = []
    payload = {"subject": subject, "text": "\n".join(lines), "reference": ticket.reference, "url": link}
    if contact.email:
        add_message_once(
            session, key=f"referral:{referral.id}:{kind}:email:{contact.email}", channel="email",
            recipient=contact.email, payload=payload, now=now, ticket_id=ticket.id,
        )  # fmt: skip
        sent.append(f"email:{contact.email}")
    if is_mobile(contact.phone):
        assert contact.phone is not None
        text = f"{first}기술지원 연계 요청 {ticket.reference} ({field}). 기업 {callback}. 응답: {link}"
        add_message_once(
            session, key=f"referral:{referral.id}:{kind}:sms:{contact.phone}", channel="sms",
            recipient=contact.phone, payload={**payload, "text": text}, now=now, ticket_id=ticket.id,
        )  # fmt: skip
        sent.append(f"sms:{contact.phone}")
    return sent


def remind_institute(session: Session, referral: Referral, texts: MessageTexts, now: datetime) -> list[str]:
    """The one reminder to an institute that has not answered, with a fresh link to the same referral.

    None once the consultant revoked the links: the reminder would go to the same (wrong or leaked) address
    with a link that works again."""
    if links_revoked(session, referral):
        return []
    token = reissue_link(session, referral, now)
    return _message_institute(session, referral, token, texts, now, kind="reminder")


def _message_company(session: Session, referral: Referral, texts: MessageTexts, now: datetime) -> None:
    """The company hears once which institute will contact it and how to reach it (SMS to a mobile)."""
    ticket = referral.ticket
    number = ticket.callback_number
    if not is_mobile(number):
        events.record(
            session, ticket, "company_sms_skipped", at=now, referral=referral.id, reason="no mobile"
        )
        return
    assert number is not None
    contact = referral.contact
    reach = ""
    if contact is not None and contact.phone:
        reach = display_number(contact.phone)
    elif contact is not None and contact.email:
        reach = contact.email
    institute = referral.institute
    if ticket.language == "en":
        name = institute.name_en or institute.name_ko
        text = (
            f"{SMS_PREFIX['en']} Request {ticket.reference}: {referral.accepted_by} of {name} "
            "will contact you"
        )
        text += f" (contact: {reach})." if reach else "."
    else:
        who = f"{institute.name_ko} {referral.accepted_by}님"
        text = f"{SMS_PREFIX['ko']} 접수 {ticket.reference}: {who}이 연락드릴 예정입니다"
        text += f" (연락처 {reach})." if reach else "."
    add_message_once(
        session, key=f"referral-accepted:{referral.id}:sms", channel="sms", recipient=number,
        payload={"text": text, "reference": ticket.reference}, now=now, ticket_id=ticket.id,
    )  # fmt: skip
