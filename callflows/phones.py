"""Phone numbers: which caller IDs we can call back, entered numbers, and numbers read aloud."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, PhoneNumberType

from callflows import prompts

# Types an expert can call back from the office. Toll-free (080), premium (060), shared-cost (1588)
# and personal (050x) numbers are valid but either cannot be dialled out to or are not the caller.
CALLABLE_TYPES = frozenset(
    {
        PhoneNumberType.FIXED_LINE,
        PhoneNumberType.MOBILE,
        PhoneNumberType.FIXED_LINE_OR_MOBILE,
        PhoneNumberType.VOIP,  # 070 numbers: many small companies use them
    }
)

# What Twilio sends in `From` when the caller ID is withheld; `+266696687` spells ANONYMOUS and
# would otherwise parse as a Lesotho number.
WITHHELD_CALLER_IDS = frozenset(
    {"", "+266696687", "266696687", "anonymous", "restricted", "unknown", "private", "unavailable"}
)

# Korean syllables for digits so TTS reads "010" as 공일공, not "십".
KOREAN_DIGITS = dict(zip("0123456789", "공일이삼사오육칠팔구", strict=True))

MIN_ENTERED_DIGITS = 9  # 02-123-4567, the shortest Korean number we call back
MAX_ENTERED_DIGITS = 15  # E.164 maximum; anything longer is a stuck key
_MAX_RAW_LENGTH = 64  # a caller ID longer than this is not a phone number

# A call asks about the same one or two numbers at several steps (is the caller ID callable, read it
# back, is the callback number a mobile), and phonenumbers' parsing is most of a menu step's own work.
# The functions below are pure, so their answers are kept for the numbers of the calls in progress.
_remembered = functools.lru_cache(maxsize=4096)


def _parse(raw: str, region: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(raw, region)
    except NumberParseException:
        return None


def _is_callable(number: phonenumbers.PhoneNumber) -> bool:
    return phonenumbers.is_valid_number(number) and phonenumbers.number_type(number) in CALLABLE_TYPES


@_remembered
def callable_number(raw: str | None, region: str = "KR") -> str | None:
    """The caller ID in E.164 when an expert can call it back, else None (withheld, invalid, 080 …)."""
    if raw is None:
        return None
    raw = raw.strip()
    if raw.lower() in WITHHELD_CALLER_IDS or len(raw) > _MAX_RAW_LENGTH:
        return None
    number = _parse(raw, region)
    if number is None or not _is_callable(number):
        return None
    return phonenumbers.format_number(number, PhoneNumberFormat.E164)


@dataclass(frozen=True)
class ParsedNumber:
    """A number typed on the keypad: `e164` when usable, else a `reason` code to tell the caller."""

    e164: str | None = None
    reason: str | None = None  # one of prompts.NUMBER_PROBLEMS' keys

    @property
    def ok(self) -> bool:
        return self.e164 is not None

    def message(self, language: str) -> str:
        """Why the number was refused, to say before asking again."""
        return prompts.number_problem(self.reason or "invalid", language)


@_remembered
def parse_entered_number(digits: str | None, region: str = "KR") -> ParsedNumber:
    """Check the digits of a callback number (the trailing # already removed by Twilio)."""
    digits = (digits or "").strip().rstrip("#")
    if not digits:
        return ParsedNumber(reason="empty")
    if len(digits) > MAX_ENTERED_DIGITS:
        return ParsedNumber(reason="too_long")
    if not digits.isdecimal() or not digits.isascii():
        return ParsedNumber(reason="not_digits")  # * pressed
    if len(digits) < MIN_ENTERED_DIGITS:
        return ParsedNumber(reason="too_short")
    number = _parse(digits, region)
    if number is None or not phonenumbers.is_valid_number(number):
        return ParsedNumber(reason="invalid")
    if not _is_callable(number):
        return ParsedNumber(reason="not_callable")
    return ParsedNumber(e164=phonenumbers.format_number(number, PhoneNumberFormat.E164))


@_remembered
def is_mobile(e164: str | None) -> bool:
    """True for numbers that surely take an SMS (Korean 010 …). US-style FIXED_LINE_OR_MOBILE is
    not counted: an SMS to a landline fails and would only clutter the outbox."""
    number = _parse(e164 or "", "KR") if e164 else None
    return number is not None and phonenumbers.number_type(number) == PhoneNumberType.MOBILE


def speak_digits(text: str, language: str, slow: bool = False) -> str:
    """Digits read one by one, groups (split at any non-digit) separated by commas.

    "4821-9135" -> "사팔이일, 구일삼오" (ko) or "4 8 2 1, 9 1 3 5" (en). `slow` puts a space between
    Korean syllables too, for a reference the caller writes down.
    """
    groups = [g for g in re.split(r"[^0-9A-Za-z]+", text) if g]
    if language == "ko":
        joiner = " " if slow else ""
        spoken = [joiner.join(KOREAN_DIGITS.get(c, c) for c in g) for g in groups]
    else:
        spoken = [" ".join(g) for g in groups]
    return ", ".join(spoken)


@_remembered
def speak_number(e164: str, language: str) -> str:
    """A number read back digit by digit: national format for Korean numbers, international else.

    "+821012345678" -> "공일공, 일이삼사, 오육칠팔"; "+12015550123" -> "플러스, 일, 이공일, …".
    """
    number = _parse(e164, "KR")
    if number is None:
        return speak_digits(e164, language)
    if phonenumbers.region_code_for_number(number) == "KR":
        return speak_digits(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL), language)
    formatted = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    return f"{prompts.PLUS[language]}, {speak_digits(formatted, language)}"
