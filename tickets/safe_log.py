"""What a log line may hold of a request: one rule for webhooks, callbacks and delivery alike.

A value taken from a request can carry a newline (a forged log line) or other control characters, and a
form holds personal data. So a logged value has its control characters escaped, only allow-listed keys
of a form are logged, and phone numbers among them are masked with the one masking rule
(tickets.telephony.mask_phone).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping

from tickets.telephony import mask_phone

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators some log viewers break lines on
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
MAX_LOGGED = 200  # characters of one value; Twilio's fields are far shorter


def safe_text(value: object, limit: int = MAX_LOGGED) -> str:
    """`value` as one harmless line: control characters shown as \\xNN escapes, cut at `limit`."""
    text = str(value)[:limit]
    return _CONTROL.sub(lambda match: f"\\x{ord(match.group()):02x}", text)


def safe_fields(
    fields: Mapping[str, object], allowed: Collection[str], numbers: Collection[str] = ()
) -> dict[str, str]:
    """The `allowed` keys of `fields` as safe text, those also in `numbers` masked; the rest left out."""
    return {
        key: safe_text(mask_phone(str(fields[key])) if key in numbers else fields[key])
        for key in allowed
        if key in fields
    }
