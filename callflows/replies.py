"""The caller's input from one webhook request, read leniently: Twilio's fields are all strings."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

_MAX_DIGITS = 64  # keypad input beyond this is a stuck key or an attack; it is refused, not parsed


@dataclass(frozen=True)
class Reply:
    digits: str | None = None
    speech: str | None = None
    confidence: float | None = None  # informational only: Twilio reports 0.0 for some correct results
    recording_url: str | None = None
    recording_duration: int | None = None  # seconds

    @classmethod
    def from_twilio(cls, form: Mapping[str, str]) -> Reply:
        """From Twilio's form fields Digits, SpeechResult, Confidence, RecordingUrl, RecordingDuration."""
        return cls(
            digits=form.get("Digits") or None,
            speech=form.get("SpeechResult") or None,
            confidence=_float(form.get("Confidence")),
            recording_url=form.get("RecordingUrl") or None,
            recording_duration=_seconds(form.get("RecordingDuration")),
        )

    @property
    def pressed(self) -> str:
        """Keys pressed, "" when none. A lone # is a key at a menu (which has no finish key), while
        `parse_entered_number` drops the # that ends a number."""
        return (self.digits or "")[: _MAX_DIGITS + 1].strip()

    @property
    def said(self) -> str:
        return (self.speech or "").strip()


def _float(value: str | None) -> float | None:
    try:
        number = float(value) if value else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _seconds(value: str | None) -> int | None:
    number = _float(value)
    return int(number) if number is not None else None
