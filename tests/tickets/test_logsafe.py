"""What goes into a log line: numbers masked, no control characters, a bounded length."""

from __future__ import annotations

from tickets.logsafe import log_safe


def test_phone_numbers_are_masked_in_any_form_but_dates_and_references_are_kept() -> None:
    line = log_safe(
        "Twilio: The 'To' number +821055550002 (010-5555-0003) is not valid; 2026-11-27, 2611-0001"
    )
    assert "+821055550002" not in line and "55550002" not in line
    assert "010-5555-0003" not in line and "5555-0003" not in line
    assert "0002" in line and "0003" in line  # enough to tell numbers apart
    assert "2026-11-27" in line and "2611-0001" in line


def test_control_characters_cannot_forge_or_hide_a_log_line() -> None:
    line = log_safe("failed\nINFO forged entry\r\x1b[2Kgone\u202etxt.exe\u2028")
    assert not any(ch in line for ch in "\n\r\x1b\u202e\u2028")
    assert "INFO forged entry" in line  # the text stays readable, on one line


def test_long_values_are_cut() -> None:
    assert len(log_safe("x" * 5000, limit=100)) == 100
