"""The ticket JSON of DESIGN.md, shared by the CLI and the API. Times are ISO 8601 with their offset.

Numbers are masked unless the caller asks for them in full (one ticket, to someone who may work it).
Recordings appear as the app's own proxied links (tickets.recordings), never as Twilio's media URLs: a
Twilio URL handed out is a caller's voice one leaked credential away.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import object_session

from tickets import recordings, referrals
from tickets.masking import mask_number
from tickets.models import Ticket


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def ticket_json(ticket: Ticket, *, detail: bool = True, full_numbers: bool = False) -> dict[str, Any]:
    """`full_numbers`: the caller's numbers in E.164, for someone who works the open ticket (see
    tickets.ticket_actions.may_see_numbers); otherwise masked as 010-****-5678."""
    shown = (lambda n: n) if full_numbers else (lambda n: mask_number(n) or None)
    data: dict[str, Any] = {
        "reference": ticket.reference,
        "status": ticket.status,
        "channel": ticket.channel,
        "field": ticket.field,
        "support_type": ticket.support_type,
        "language": ticket.language,
        "company": ticket.company,
        "caller_number": shown(ticket.caller_number),
        "callback_number": shown(ticket.callback_number),
        "recording_url": recordings.own_link(ticket),
        "recording_duration": ticket.recording_duration,
        "call_sid": ticket.call.call_sid if ticket.call else None,
        "incomplete": ticket.incomplete,
        "assignee": ticket.assignee.username if ticket.assignee else None,
        "created_at": iso(ticket.created_at),
        "sla_due_at": iso(ticket.sla_due_at),
        "escalation_level": ticket.escalation_level,
    }
    if detail:
        # The web form's own words, in place of a recording (a call has none of these).
        data["contact_person"] = ticket.contact_person
        data["description"] = ticket.description
        data["attempts"] = [
            {
                "outcome": a.outcome,
                "at": iso(a.at),
                "duration": a.duration,
                "note": a.note,
                "by": a.user.username if a.user else None,
            }
            for a in ticket.attempts
        ]
        links = recordings.links_by_sid(ticket)
        data["events"] = [
            {
                "type": e.type,
                "at": iso(e.at),
                "by": e.actor.username if e.actor else None,
                "detail": recordings.public_detail(e.detail, links),
            }
            for e in ticket.events
        ]
        data["referrals"] = [referrals.referral_json(r) for r in ticket.referrals]
        session = object_session(ticket)
        data["diagnosis"] = referrals.diagnosis_json(
            referrals.latest_diagnosis(session, ticket) if session is not None else None
        )
    return data
