"""Which Twilio recording a ticket plays, and the app's own link that plays it.

Nothing taken from a request is ever fetched as a URL (DESIGN): the recording proxy fetches by recording
SID, and `ivr.gateway` builds the media URL from that SID and the hotline's own account. The SID is the
RecordingSid Twilio posted; a row or event that kept only Twilio's RecordingUrl gives its SID up through a
strict match of the one form Twilio writes, so a URL with userinfo, a port, another host or another path
plays nothing. Links are the app's own paths: Twilio's URLs never leave the server.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from tickets.models import Ticket, TicketEvent

RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")
_TWILIO_RECORDING_URL = re.compile(
    r"https://api\.twilio\.com/2010-04-01/Accounts/AC[0-9a-fA-F]{32}/Recordings/(RE[0-9a-fA-F]{32})"
    r"(?:\.mp3|\.wav)?"
)
# Event detail keys that held Twilio's media URL; they are shown as the app's own link instead.
URL_KEYS = ("url", "recording_url")


def is_recording_sid(value: object) -> bool:
    return isinstance(value, str) and RECORDING_SID.fullmatch(value) is not None


def recording_sid(sid: str | None, url: str | None) -> str | None:
    """The SID to play: the one Twilio posted, else the one in a stored Twilio recording URL, else None."""
    if is_recording_sid(sid):
        return sid
    match = _TWILIO_RECORDING_URL.fullmatch(url) if isinstance(url, str) else None
    return match.group(1) if match else None


def own_sid(ticket: Ticket) -> str | None:
    return recording_sid(ticket.recording_sid, ticket.recording_url)


def event_sid(event: TicketEvent) -> str | None:
    detail = event.detail or {}
    return recording_sid(detail.get("recording_sid") or detail.get("sid"), detail.get("url"))


def extra_recordings(ticket: Ticket) -> list[TicketEvent]:
    """The recordings besides the ticket's own that it can play: a repeat call's message, the apology's,
    oldest first."""
    return [
        e
        for e in ticket.events
        if e.type == "recording_added" and e.detail.get("extra") and event_sid(e) is not None
    ]


def extra_sid(ticket: Ticket, event_id: int) -> str | None:
    """The SID of one of extra_recordings (only those: what is played is what the ticket lists)."""
    for event in extra_recordings(ticket):
        if event.id == event_id:
            return event_sid(event)
    return None


def own_link(ticket: Ticket) -> str | None:
    """The API path that plays the ticket's own recording; None when it has none it can play."""
    if own_sid(ticket) is None:
        return None
    return f"/api/v1/tickets/{quote(ticket.reference, safe='')}/recording"


def extra_link(ticket: Ticket, event: TicketEvent) -> str:
    """The API path that plays a later recording kept as a `recording_added` event."""
    return f"/api/v1/tickets/{quote(ticket.reference, safe='')}/recordings/{event.id}"


def links_by_sid(ticket: Ticket) -> dict[str, str]:
    """Every recording the ticket can play, by SID, with the link that plays it."""
    links = {event_sid(e): extra_link(ticket, e) for e in extra_recordings(ticket)}
    own, link = own_sid(ticket), own_link(ticket)
    if own is not None and link is not None:
        links[own] = link  # the ticket's own player wins over an extra copy of the same recording
    return {sid: link for sid, link in links.items() if sid is not None}


def public_detail(detail: dict[str, Any], links: dict[str, str]) -> dict[str, Any]:
    """An event's detail with each Twilio media URL replaced by the app's link to the same recording
    (None when the ticket cannot play it)."""
    if not any(key in detail for key in URL_KEYS):
        return detail
    shown = dict(detail)
    for key in URL_KEYS:
        if key in shown:
            sid = recording_sid(detail.get("recording_sid") or detail.get("sid"), shown[key])
            shown[key] = links.get(sid) if sid is not None else None
    return shown
