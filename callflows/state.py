"""A call's progress as an immutable value that round-trips through JSON.

ivr saves `to_dict()` in the database after every step (keyed by CallSid) and rebuilds the state
with `CallState.from_dict()` on the next webhook, so a crash or a redeploy between two key presses
loses nothing. `from_dict` fills missing keys with defaults so old rows keep loading after a new
key is added.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

from callflows.flow_config import LANGUAGES

# The steps in the order a caller meets them; each is also the last segment of its webhook URL.
STEPS = (
    "field",
    "repeat_choice",
    "support_type",
    "callback",
    "callback_number",
    "callback_confirm",
    "message",
)

GENERAL_FIELD = "general"  # "not sure": a general queue that a supervisor triages
OTHER_SUPPORT_TYPE = "other"
CALLBACK_SOURCES = ("caller_id", "entered")

STATE_VERSION = 1


@dataclass(frozen=True)
class CallState:
    language: str = "ko"
    step: str = "field"
    caller_number: str | None = None  # the caller ID exactly as Twilio sent it
    field: str | None = None  # a field key from config, or "general"
    support_type: str | None = None  # a support type key from config ("other" by default)
    callback_number: str | None = None  # E.164
    callback_source: str | None = None  # "caller_id", "entered" or None
    # False: no recording (yet, or the caller said nothing); else {"url": str, "duration": int | None}
    recording: bool | dict[str, Any] = False
    failures: int = 0  # failed inputs at the current step; reset when the step changes
    finished: bool = False
    # steps where the caller gave no usable answer and the flow took the default; shown to staff
    defaulted_steps: tuple[str, ...] = ()
    # fields in which the network caller ID (never a typed number) has an open ticket, looked up by ivr
    # when the call starts; choosing one of them offers to add a message to that ticket
    open_fields: tuple[str, ...] = ()
    joins_open_ticket: bool = False  # the caller chose to add their message to their open ticket
    answered: bool = False  # any key or speech at all, so silence alone can be told apart
    missed: bool = False  # finished without any input at the first menu: a missed call, not a request
    version: int = STATE_VERSION

    def __post_init__(self) -> None:
        if self.step not in STEPS:
            raise ValueError(f"unknown step in call state: {self.step!r}")
        if self.language not in LANGUAGES:
            raise ValueError(f"unknown language in call state: {self.language!r}")

    def at(self, step: str) -> CallState:
        """The same call moved to `step`, with a fresh failure count."""
        return replace(self, step=step, failures=0)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["defaulted_steps"] = list(self.defaulted_steps)
        data["open_fields"] = list(self.open_fields)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CallState:
        """Rebuild a saved state; missing keys take their defaults, unknown keys are ignored.

        Raises ValueError for a step or language this code does not know (a corrupt row).
        """
        recording = data.get("recording", False)
        if not isinstance(recording, dict):
            recording = bool(recording)
        return cls(
            language=str(data.get("language") or "ko"),
            step=str(data.get("step") or "field"),
            caller_number=_optional_str(data.get("caller_number")),
            field=_optional_str(data.get("field")),
            support_type=_optional_str(data.get("support_type")),
            callback_number=_optional_str(data.get("callback_number")),
            callback_source=_optional_str(data.get("callback_source")),
            recording=recording,
            failures=_int(data.get("failures")),
            finished=bool(data.get("finished", False)),
            defaulted_steps=tuple(str(s) for s in data.get("defaulted_steps") or ()),
            open_fields=tuple(str(f) for f in data.get("open_fields") or ()),
            joins_open_ticket=bool(data.get("joins_open_ticket", False)),
            answered=bool(data.get("answered", False)),
            missed=bool(data.get("missed", False)),
            version=_int(data.get("version"), STATE_VERSION),
        )


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _int(value: Any, default: int = 0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
