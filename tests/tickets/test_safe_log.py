"""What a log line may hold of a request: no control characters, allow-listed keys, masked numbers."""

from __future__ import annotations

from tickets.safe_log import safe_fields, safe_text


def test_control_characters_cannot_start_a_new_log_line() -> None:
    assert safe_text("CA1\r\n2026 INFO forged\x1b[2J\u2028") == "CA1\\x0d\\x0a2026 INFO forged\\x1b[2J\\x2028"
    assert safe_text("상담 1379") == "상담 1379"  # Korean and other printable text untouched


def test_only_allow_listed_fields_are_logged_with_numbers_masked() -> None:
    form = {"CallSid": "CA1", "From": "+821012345678", "SpeechResult": "제 번호는 010-9876-5432"}
    logged = safe_fields(form, allowed=("CallSid", "From", "Digits"), numbers=("From",))
    assert logged == {"CallSid": "CA1", "From": "+8210****5678"}
