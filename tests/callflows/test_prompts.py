"""Menus are built from config, and the confirmation SMS is short and complete."""

from __future__ import annotations

import pytest

from callflows.call_actions import Say
from callflows.flow_config import FlowConfig
from callflows.prompts import TEXTS, confirmation_sms, field_menu, recording_limit, support_menu


def test_every_text_exists_in_both_languages() -> None:
    for key, texts in TEXTS.items():
        assert set(texts) == {"ko", "en"}, key
        assert all(t.strip() for t in texts.values()), key


def test_field_menu_from_config(config: FlowConfig) -> None:
    menu = field_menu(config, "ko")
    text = " ".join(p.text for p in menu if isinstance(p, Say))
    for option in config.fields:
        assert f"{option.names['ko']} {option.digit}번" in text
    assert menu[-1] == Say("For English, press 9.", "en")


def test_support_menu_names_each_digit(config: FlowConfig) -> None:
    text = " ".join(p.text for p in support_menu(config, "ko") if isinstance(p, Say))
    assert "장비활용 1번" in text and "기술정보 4번" in text and "기타 0번" in text
    assert "연구개발 3번" in text


def test_english_support_menu(config: FlowConfig) -> None:
    text = " ".join(p.text for p in support_menu(config, "en") if isinstance(p, Say))
    assert "1 for equipment use" in text and "0 for other" in text


@pytest.mark.parametrize(
    ("seconds", "ko", "en"), [(120, "2분", "2 minutes"), (60, "1분", "1 minute"), (90, "90초", "90 seconds")]
)
def test_recording_limit(seconds: int, ko: str, en: str) -> None:
    assert recording_limit(seconds, "ko") == ko and recording_limit(seconds, "en") == en


def test_confirmation_sms(config: FlowConfig) -> None:
    ko = confirmation_sms(config, "ko", "4821-9135", "bio")
    assert "4821-9135" in ko and "바이오·의료" in ko and "3일 이내" in ko and "070-4000-1379" in ko
    en = confirmation_sms(config, "en", "4821-9135", "general")
    assert "4821-9135" in en and "General" in en and "3 days" in en and "070-4000-1379" in en
    assert len(ko) <= 90 * 2 and len(en) <= 160  # one SMS (Korean LMS threshold is 90 bytes in EUC-KR)
    assert "General" in confirmation_sms(config, "en", "1", None)
