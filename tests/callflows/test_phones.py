"""Caller IDs we can call back, numbers typed on the keypad, numbers read aloud."""

from __future__ import annotations

import pytest

from callflows.phones import callable_number, is_mobile, parse_entered_number, speak_digits, speak_number


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("+821012345678", "+821012345678"),
        (" +82 10-1234-5678 ", "+821012345678"),
        ("01012345678", "+821012345678"),
        ("+82212345678", "+82212345678"),
        ("+827040001379", "+827040001379"),
        ("+12015550123", "+12015550123"),  # a valid foreign number can be called back
    ],
)
def test_callable_caller_ids(raw: str, e164: str) -> None:
    assert callable_number(raw) == e164


@pytest.mark.parametrize(
    "raw",
    [
        None,
        "",
        "   ",
        "+266696687",
        "anonymous",
        "Anonymous",
        "restricted",
        "unknown",
        "UNKNOWN",
        "+1234",
        "+4412",  # invalid foreign number
        "0801234567",  # toll-free: cannot be dialled back
        "0601234567",
        "15881234",
        "client:alice",
        "sip:bob@example.com",
        "+82" + "1" * 10_000,
    ],
)
def test_uncallable_caller_ids(raw: str | None) -> None:
    assert callable_number(raw) is None


@pytest.mark.parametrize(
    ("digits", "reason"),
    [
        (None, "empty"),
        ("", "empty"),
        ("#", "empty"),
        ("0101234", "too_short"),
        ("1" * 16, "too_long"),
        ("9" * 10_000, "too_long"),
        ("010*12345678", "not_digits"),
        ("０１０１２３４５６７８", "not_digits"),  # full-width digits never come from a keypad
        ("0991234567", "invalid"),
        ("0801234567", "not_callable"),
    ],
)
def test_refused_entered_numbers_carry_a_reason_in_both_languages(digits: str | None, reason: str) -> None:
    parsed = parse_entered_number(digits)
    assert not parsed.ok and parsed.e164 is None and parsed.reason == reason
    assert parsed.message("ko") and parsed.message("en")
    assert parsed.message("ko") != parsed.message("en")


@pytest.mark.parametrize(
    ("digits", "e164"),
    [
        ("01012345678", "+821012345678"),
        ("01012345678#", "+821012345678"),
        ("021234567", "+8221234567"),
        ("0311234567", "+82311234567"),
        ("07012345678", "+827012345678"),
        ("1012345678", "+821012345678"),  # the leading 0 forgotten: still unambiguous
    ],
)
def test_accepted_entered_numbers(digits: str, e164: str) -> None:
    parsed = parse_entered_number(digits)
    assert parsed.ok and parsed.e164 == e164 and parsed.reason is None


@pytest.mark.parametrize(
    ("e164", "ko", "en"),
    [
        ("+821012345678", "공일공, 일이삼사, 오육칠팔", "0 1 0, 1 2 3 4, 5 6 7 8"),
        ("+8221234567", "공이, 일이삼, 사오육칠", "0 2, 1 2 3, 4 5 6 7"),
        ("+82212345678", "공이, 일이삼사, 오육칠팔", "0 2, 1 2 3 4, 5 6 7 8"),
        ("+827040001379", "공칠공, 사공공공, 일삼칠구", "0 7 0, 4 0 0 0, 1 3 7 9"),
        ("+12015550123", "플러스, 일, 이공일, 오오오, 공일이삼", "plus, 1, 2 0 1, 5 5 5, 0 1 2 3"),
    ],
)
def test_speak_number(e164: str, ko: str, en: str) -> None:
    assert speak_number(e164, "ko") == ko
    assert speak_number(e164, "en") == en


def test_speak_digits() -> None:
    assert speak_digits("4821-9135", "ko") == "사팔이일, 구일삼오"
    assert speak_digits("4821-9135", "ko", slow=True) == "사 팔 이 일, 구 일 삼 오"
    assert speak_digits("4821-9135", "en") == "4 8 2 1, 9 1 3 5"
    assert speak_digits("HL-2024-0007", "en") == "H L, 2 0 2 4, 0 0 0 7"
    assert speak_digits("", "ko") == ""


@pytest.mark.parametrize(
    ("e164", "mobile"),
    [
        ("+821012345678", True),
        ("+82212345678", False),
        ("+827040001379", False),
        ("+12015550123", False),  # US numbers do not say whether they are mobile
        ("", False),
        (None, False),
        ("garbage", False),
    ],
)
def test_is_mobile(e164: str | None, mobile: bool) -> None:
    assert is_mobile(e164) is mobile
