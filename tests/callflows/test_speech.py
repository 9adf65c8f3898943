"""The speech matcher on its own: what callers actually say, and what must not match."""

from __future__ import annotations

import time

import pytest

from callflows.flow_config import FlowConfig, MenuOption
from callflows.speech import match_option, normalise, requested_language, spoken_number, yes_or_no


def test_normalise() -> None:
    assert normalise("  바이오,   분야요. ") == "바이오 분야요"
    assert normalise("ＩＴ요！") == "it요"
    assert normalise("IT요", keep_case=True) == "IT요"
    assert normalise(None) == ""
    assert len(normalise("가" * 10_000)) <= 300


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("정보통신이요", "it"),
        ("아이티 쪽이요", "it"),
        ("IT", "it"),
        ("소재 관련", "machinery"),
        ("전기·전자", "electronics"),
        ("전기 전자 쪽", "electronics"),
        ("의료기기 인허가 문제예요", "bio"),
        ("화학", "chemistry"),
        ("태양광 패널이요", "energy"),
        ("We make medical devices", "bio"),
        ("electronics", "electronics"),
    ],
)
def test_field_matches(config: FlowConfig, text: str, key: str) -> None:
    assert match_option(text, config.fields) == key


@pytest.mark.parametrize(
    "text",
    [
        "",
        "음...",
        "it is hard to say",  # "it" is not "IT"
        "bit of everything",
        "바이오랑 화학 둘 다요",  # two fields: ask again rather than guess
        "energy and electronics",
    ],
)
def test_field_non_matches(config: FlowConfig, text: str) -> None:
    assert match_option(text, config.fields) is None


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("장비 쓰고 싶어요", "equipment"),
        ("R&D", "rnd"),
        ("알앤디", "rnd"),
        ("특허 정보요", "information"),
        ("기타", "other"),
    ],
)
def test_support_type_matches(config: FlowConfig, text: str, key: str) -> None:
    assert match_option(text, config.support_types) == key


@pytest.mark.parametrize(
    ("text", "digit"),
    [
        ("1", "1"),
        ("1번", "1"),
        ("일번", "1"),
        ("일 번이요", "1"),
        ("삼번 눌러 주세요", "3"),
        ("영번", "0"),
        ("이요", "2"),
        ("이 번이요", "2"),
        ("사번 선택할게요", "4"),
        ("1번 눌러 주세요", "1"),
        ("공", "0"),
        ("One.", "1"),
        ("number two please", "2"),
        ("press 6", "6"),
        ("Nine", "9"),
    ],
)
def test_spoken_numbers(text: str, digit: str) -> None:
    assert spoken_number(text) == digit


@pytest.mark.parametrize(
    "text", ["이번에 기계 쪽 문제가 있어요", "12", "one two", "", "번", "칠십", "요", "일이", "for example"]
)
def test_not_a_spoken_number(text: str) -> None:
    assert spoken_number(text) is None


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("네", True),
        ("예 맞습니다", True),
        ("yes please", True),
        ("this number", True),
        ("아니요", False),
        ("다른 번호요", False),
        ("no", False),
        ("that's not right", None),
        ("글쎄요", None),
        ("", None),
    ],
)
def test_yes_or_no(text: str, answer: bool | None) -> None:
    assert yes_or_no(text) is answer


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("English please", "en"),
        ("영어로 해 주세요", "en"),
        ("한국어", "ko"),
        ("Korean", "ko"),
        ("바이오", None),
    ],
)
def test_requested_language(text: str, language: str | None) -> None:
    assert requested_language(text) == language


def test_a_huge_transcript_is_quick(config: FlowConfig) -> None:
    began = time.perf_counter()
    for text in ("바이오 " * 5_000, "a" * 10_000, "it " * 5_000, "일" * 10_000):
        match_option(text, config.fields)
        spoken_number(text)
        yes_or_no(text)
    assert time.perf_counter() - began < 1.0


def test_equal_menu_options_hash_alike_so_their_cached_menus_are_shared() -> None:
    """Options are hashed for the menu cache (callflows.questions); equal ones must hash the same, whatever
    the order their names were written in."""
    one = MenuOption(key="bio", digit="2", names={"ko": "바이오", "en": "bio"}, hints=("생명",))
    other = MenuOption(key="bio", digit="2", names={"en": "bio", "ko": "바이오"}, hints=("생명",))
    assert one == other and hash(one) == hash(other)
