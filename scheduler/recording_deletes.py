"""The outbox channel that deletes recordings at Twilio (tickets.recording_deletion queues them).

Deleting is idempotent at Twilio: the gateway takes a 404 as "gone already". Before a retry the outbox asks
`went_out`; here that is "the recording no longer exists", so a try that went through just before the
process died is not sent again, and a try that failed is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from tickets.recording_deletion import CHANNEL as CHANNEL


class RecordingDeleter(Protocol):
    """What ivr.gateway provides (Twilio's Recordings resource)."""

    def delete_recording(self, recording_sid: str) -> None: ...

    def recording_exists(self, recording_sid: str) -> bool: ...


@dataclass
class RecordingDeleteChannel:
    telephony: RecordingDeleter

    def send(self, recipient: str, payload: Mapping[str, Any], key: str) -> None:
        self.telephony.delete_recording(recipient)

    def went_out(self, recipient: str, payload: Mapping[str, Any], key: str, since: datetime) -> bool:
        return not self.telephony.recording_exists(recipient)
