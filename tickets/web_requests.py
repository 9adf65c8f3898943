"""A request from the public web form: its answers checked, its callback number proved by an SMS code, then
filed through the same intake as a call (tickets.intake.open_ticket: routing, the repeat rule, the SLA).

Nothing is filed until the number is proved. The answers wait in a `WebRequest` row with the hash of a
6-digit code sent through the outbox (so by the SMS channel, or to the development log without Twilio). A
code is valid for CODE_MINUTES and CODE_TRIES typed codes; a number and a client address each get at most
CODES_PER_HOUR codes an hour, counted atomically in the database (tickets.throttle.count_event), so every
web host sees the same count. The right code deletes the row and files the ticket in one transaction: two
submissions of it at once file once (the second finds no row).

The access log (tickets.access_log) records nothing here: the person filling in the form is the data
subject, giving their own data, not someone looking at a caller's.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from callflows import prompts
from callflows.flow_config import FlowConfig
from callflows.phones import callable_number, is_mobile
from callflows.state import GENERAL_FIELD
from tickets import outbox, throttle
from tickets.intake import WebAnswers, open_ticket
from tickets.models import Ticket, WebRequest

CODE_MINUTES = 5
CODE_TRIES = 5
CODES_PER_HOUR = 3
STALE_AFTER = timedelta(hours=1)  # an unproved request is deleted after this (its codes are long dead)
DESCRIPTION_MAX = 2000
NAME_MAX = 100
NUMBER_MAX = 32
_HOUR = timedelta(hours=1)


class Refused(Exception):
    """Why a code was not sent or not accepted; `reason` is a key of tickets.public.texts."""

    def __init__(self, reason: str, tries_left: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.tries_left = tries_left


@dataclass(frozen=True)
class Answers:
    language: str
    company: str
    contact_person: str
    field: str
    support_type: str
    callback_number: str  # E.164, a mobile
    description: str


def check_answers(
    form: Mapping[str, str], flow: FlowConfig, language: str
) -> tuple[Answers | None, dict[str, str]]:
    """The form's answers, or the problems with them: {form field: reason key}. Texts are stored as typed
    (trimmed); they are only ever shown escaped."""
    problems: dict[str, str] = {}

    def text(name: str, limit: int) -> str:
        # Browsers send a textarea's line breaks as CRLF, and count each as one character against maxlength.
        value = (form.get(name) or "").replace("\r\n", "\n").strip()
        if not value:
            problems[name] = "required"
        elif len(value) > limit:
            problems[name] = "too_long"
        return value

    company = text("company", NAME_MAX)
    contact_person = text("contact_person", NAME_MAX)
    description = text("description", DESCRIPTION_MAX)
    field = form.get("field") or ""
    if field not in {f.key for f in flow.fields} | {GENERAL_FIELD}:
        problems["field"] = "choose"
    support_type = form.get("support_type") or ""
    if support_type not in {s.key for s in flow.support_types}:
        problems["support_type"] = "choose"
    raw_number = (form.get("callback_number") or "").strip()
    number = callable_number(raw_number) if len(raw_number) <= NUMBER_MAX else None
    if not raw_number:
        problems["callback_number"] = "required"
    elif number is None or not is_mobile(number):
        problems["callback_number"] = "not_mobile"  # the code goes by SMS: only a mobile can prove itself
    if form.get("consent") != "yes":
        problems["consent"] = "consent"
    if problems:
        return None, problems
    assert number is not None
    answers = Answers(language, company, contact_person, field, support_type, number, description)
    return answers, {}


def _code_hash(token: str, code: str) -> str:
    return hashlib.sha256(f"{token}:{code}".encode()).hexdigest()


def _number_key(number: str) -> str:
    # The throttle's table keeps no phone number: its hash is enough to count codes.
    return "number:" + hashlib.sha256(number.encode()).hexdigest()[:48]


def _send_code(
    session: Session, request: WebRequest, *, address: str, now: datetime, flow: FlowConfig
) -> None:
    """A new code for `request`, if neither its number nor this address has had too many this hour."""
    for key in (address, _number_key(request.callback_number)):
        if throttle.count_event(session, key, "web-code", now, _HOUR) > CODES_PER_HOUR:
            raise Refused("too_many_codes")
    code = f"{secrets.randbelow(10**6):06d}"
    request.code_hash = _code_hash(request.token, code)
    request.code_expires_at = now + timedelta(minutes=CODE_MINUTES)
    request.tries = 0
    session.flush()
    outbox.add_message_once(
        session,
        key=f"web-code:{request.token}:{code}:{now.isoformat()}",
        channel="sms",
        recipient=request.callback_number,
        payload={"kind": "web_code", "body": code_sms(request.language, code)},
        now=now,
    )


def code_sms(language: str, code: str) -> str:
    if language == "en":
        return f"[Hotline 1379] Your code is {code}. It is valid for {CODE_MINUTES} minutes."
    return f"[1379] 인증번호 {code} ({CODE_MINUTES}분 안에 입력하세요)"


def _stale(now: datetime) -> ColumnElement[bool]:
    return WebRequest.created_at < now - STALE_AFTER


def forget_stale(session: Session, now: datetime) -> int:
    """Delete the requests whose number was never proved, past STALE_AFTER: done whenever a request starts,
    and daily by the retention job (scheduler.retention) for a form nobody uses."""
    return session.execute(delete(WebRequest).where(_stale(now))).rowcount  # type: ignore[attr-defined,no-any-return]


def count_stale(session: Session, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(WebRequest).where(_stale(now))) or 0


def start(session: Session, answers: Answers, *, address: str, now: datetime, flow: FlowConfig) -> WebRequest:
    """Keep the answers and send the first code (Refused when throttled: the caller commits the count)."""
    forget_stale(session, now)
    request = WebRequest(
        token=secrets.token_urlsafe(32),
        language=answers.language,
        company=answers.company,
        contact_person=answers.contact_person,
        field=answers.field,
        support_type=answers.support_type,
        callback_number=answers.callback_number,
        description=answers.description,
        client_address=address[:64],
        code_hash="",
        code_expires_at=now,
        tries=0,
        created_at=now,
    )
    session.add(request)
    _send_code(session, request, address=address, now=now, flow=flow)
    return request


def waiting(session: Session, token: str | None, now: datetime) -> WebRequest | None:
    """The request this browser started, unless it is gone or stale."""
    if not token:
        return None
    request = session.scalar(select(WebRequest).where(WebRequest.token == token))
    if request is None or request.created_at < now - STALE_AFTER:
        return None
    return request


def send_new_code(
    session: Session, token: str | None, *, address: str, now: datetime, flow: FlowConfig
) -> WebRequest:
    request = waiting(session, token, now)
    if request is None:
        raise Refused("not_found")
    _send_code(session, request, address=address, now=now, flow=flow)
    return request


def prove_and_file(
    session: Session,
    token: str | None,
    code: str,
    *,
    now: datetime,
    flow: FlowConfig,
    timezone: str,
) -> Ticket:
    """File the request if `code` is its code, still valid and within its tries; else Refused.

    A try is counted (atomically) before the code is compared, and the caller must commit on Refused too,
    so every wrong code counts whatever happens to the response."""
    request = waiting(session, token, now)
    if request is None:
        raise Refused("not_found")
    tries = session.execute(
        update(WebRequest)
        .where(WebRequest.id == request.id, WebRequest.tries < CODE_TRIES)
        .values(tries=WebRequest.tries + 1)
        .returning(WebRequest.tries)
    ).scalar_one_or_none()
    if tries is None:
        gone = session.get(WebRequest, request.id, populate_existing=True) is None
        raise Refused("not_found" if gone else "no_tries_left")  # gone: filed by a submission just before
    if now >= request.code_expires_at:
        raise Refused("expired")
    if not hmac.compare_digest(request.code_hash, _code_hash(request.token, code.strip())):
        raise Refused("wrong_code" if tries < CODE_TRIES else "no_tries_left", tries_left=CODE_TRIES - tries)
    if session.execute(delete(WebRequest).where(WebRequest.id == request.id)).rowcount != 1:  # type: ignore[attr-defined]
        raise Refused("not_found")  # the same code submitted twice at once: the other one filed it
    ticket = open_ticket(
        session,
        now=now,
        field=request.field,
        support_type=request.support_type,
        language=request.language,
        # The code proved the number as the network proves a caller ID: it is the request's caller number,
        # and the repeat rule (same proved number, same field) may join the open ticket it filed.
        caller_number=request.callback_number,
        callback_number=request.callback_number,
        join_open_ticket=True,
        timezone=timezone,
        web=WebAnswers(request.company, request.contact_person, request.description),
    )
    outbox.add_message_once(
        session,
        key=f"web-confirm:{request.token}",
        channel="sms",
        recipient=request.callback_number,
        payload={
            "kind": "web_confirmation",
            "reference": ticket.reference,
            "body": prompts.confirmation_sms(flow, request.language, ticket.reference, ticket.field),
        },
        ticket_id=ticket.id,
        now=now,
    )
    return ticket
