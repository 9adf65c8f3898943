"""Phone numbers shown masked, as 010-****-5678: enough to tell callers apart, not enough to call them."""

from __future__ import annotations

import re

import phonenumbers

from callflows.prompts import display_number


def mask_number(e164: str | None) -> str:
    """ "+821012345678" -> "010-****-5678"; every group between the first and the last is starred.

    The one masking rule: lists, dashboards, exports, logs and retention's masked rows all use it. A number
    masked already is returned as it is."""
    if not e164:
        return ""
    if "*" in e164:
        return e164
    shown = display_number(e164)
    groups = re.split(r"([ -])", shown)
    digit_groups = [i for i, part in enumerate(groups) if part.strip("+").isdigit()]
    if len(digit_groups) < 3:  # no groups to keep apart: keep only the last four digits
        digits = re.sub(r"\D", "", shown)
        return "*" * max(0, len(digits) - 4) + digits[-4:]
    for i in digit_groups[1:-1]:
        groups[i] = "*" * len(groups[i])
    return "".join(groups)


def e164_or_none(text: str) -> str | None:
    """A number as typed by staff (010-1234-5678, +82 10…) in E.164, or None when it is not one."""
    try:
        number = phonenumbers.parse(text, "KR")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
