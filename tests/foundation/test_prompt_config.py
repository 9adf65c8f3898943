"""The texts an operator edits (greeting, notices, SMS) come from config.yaml, checked at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from callflows import flow, prompts
from ivr.config import ConfigError, load_config


def _with(path: Path, key: str, texts: Any) -> Path:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["prompts"][key] = texts
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_an_edited_greeting_and_sms_are_what_callers_hear_and_read(tmp_config: Path) -> None:
    _with(tmp_config, "greeting", {"ko": "기술상담 일삼칠구입니다.", "en": "Hotline 1 3 7 9."})
    _with(
        tmp_config,
        "sms",
        {"ko": "[1379] {reference} {field} {days}일 {hotline}", "en": "{reference} {field} {days} {hotline}"},
    )
    config = load_config(tmp_config, environ={}).flow
    greeting = flow.start(config, "+821012345678").actions[0]
    assert "기술상담 일삼칠구입니다." in str(greeting)
    assert prompts.confirmation_sms(config, "ko", "1234-5678", "bio").startswith(
        "[1379] 1234-5678 바이오·의료 3일"
    )


@pytest.mark.parametrize(
    ("texts", "problem"),
    [
        (
            {"ko": "[1379] {reference}", "en": "{reference} {field} {days} {hotline}"},
            "missing placeholder {days}",
        ),
        ({"ko": "{reference} {field} {days} {hotline} {name}", "en": "x"}, "unknown placeholder {name}"),
        ({"ko": "{reference} {field} {days} {hotline}"}, "missing"),
        ({"ko": "{reference} {field} {days} {hotline}", "en": "{reference"}, "not a valid text"),
    ],
)
def test_a_broken_text_is_refused_naming_the_file_and_the_key(
    tmp_config: Path, texts: Any, problem: str
) -> None:
    _with(tmp_config, "sms", texts)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_config, environ={})
    assert str(tmp_config) in str(error.value) and "prompts.sms." in str(error.value)
    assert problem in str(error.value)


def test_an_unknown_text_is_refused(tmp_config: Path) -> None:
    _with(tmp_config, "farewell", {"ko": "안녕히 계세요.", "en": "Bye."})
    with pytest.raises(ConfigError, match=r"prompts\.farewell: unknown key"):
        load_config(tmp_config, environ={})


def test_the_shipped_texts_are_the_ones_in_config_yaml() -> None:
    config = load_config(environ={}).flow
    assert set(config.texts) == set(prompts.EDITABLE)
    assert config.texts["recording_notice"]["ko"] == "남기신 내용은 상담에만 쓰이며 1년 후 삭제됩니다."
