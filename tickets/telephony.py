"""The telephone as tickets see it: place a call, fetch or delete a recording, send an SMS.

`tickets` may not import `ivr`, where the Twilio REST gateway lives, so this is the seam: `ivr.gateway`
provides a console implementation (development, tests) and the real one over `twilio.rest.Client`;
`create_app` puts the chosen one in `app.extensions["telephony"]`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol, cast

from flask import current_app

from tickets.masking import mask_number


class TelephonyError(RuntimeError):
    """The telephone service refused or could not be reached; the message is safe to show."""


class Telephony(Protocol):
    def start_call(self, to: str, url: str, status_callback: str, caller_id: str) -> str:
        """Ring `to`; when answered, Twilio fetches TwiML from `url`. Returns the call's sid."""
        ...

    def fetch_recording(self, recording_sid: str) -> tuple[bytes, str]:
        """The audio of one of the account's recordings ("RE" + 32 hex digits) and its `audio/*` type.
        Takes a SID, never a URL: the gateway builds the media URL under its own account."""
        ...

    def delete_recording(self, recording_sid: str) -> None:
        """Delete one of the account's recordings for good; one already gone counts as deleted."""
        ...

    def recording_exists(self, recording_sid: str) -> bool:
        """Whether the account still holds the recording (asked before a delete is retried)."""
        ...

    def send_sms(self, to: str, body: str) -> str:
        """Send a text message from the hotline's number. Returns the message sid."""
        ...

    def sms_sent_since(self, to: str, since: datetime) -> list[str]:
        """The texts sent to `to` since `since` that went out or are on their way (for a retry to ask)."""
        ...


def telephony() -> Telephony:
    return cast(Telephony, current_app.extensions["telephony"])


def mask_phone(number: str | None) -> str:
    """For logs: tickets.masking's one rule ("010-****-5678"), and "-" for no number."""
    return mask_number(number) or "-"
