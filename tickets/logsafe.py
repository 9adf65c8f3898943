"""Text fit for a log line: phone numbers masked, control characters removed, length capped.

Logs are kept longer and read by more people than the database rows they describe, so a log line names a
message by its fields, never by its content. Values that come from outside (a provider's error text, a
recipient typed by an admin) may hold numbers or line breaks that would forge a second log line.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Mapping

from tickets.telephony import mask_phone

# A run of 9 or more digits, maybe with a leading + and hyphens: a phone number, not a date (8 digits)
# or a ticket reference.
_PHONE_LIKE = re.compile(r"\+?\d[\d-]{7,}\d")
_MIN_PHONE_DIGITS = 9
# Control (newlines, escapes), format (bidi overrides that reorder what a reader sees) and line separators.
_UNPRINTABLE = {"Cc", "Cf", "Zl", "Zp"}


def strip_control(text: str) -> str:
    return "".join(ch for ch in text if unicodedata.category(ch) not in _UNPRINTABLE)


def _mask_match(match: re.Match[str]) -> str:
    run = match.group()
    if sum(ch.isdigit() for ch in run) < _MIN_PHONE_DIGITS:
        return run
    if run.startswith("+"):
        return mask_phone(run)  # the console gateway's rule for E.164, the form numbers are stored in
    return "*" * (len(run) - 4) + run[-4:]  # a national number: mask_phone's prefix would show too much


def mask_numbers(text: str) -> str:
    return _PHONE_LIKE.sub(_mask_match, text)


def log_safe(value: object, limit: int = 200) -> str:
    """`value` as text for a log: no control characters, phone numbers masked, at most `limit` chars."""
    text = mask_numbers(strip_control(str(value)))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def log_safe_fields(fields: Mapping[str, object], allowed: Collection[str]) -> dict[str, str]:
    """The `allowed` keys of a request's form, each through log_safe; every other key left out (a form
    holds what a caller said and typed)."""
    return {key: log_safe(fields[key]) for key in allowed if key in fields}
