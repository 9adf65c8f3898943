"""GET /privacy: a public page in Korean and English written from config.yaml (the call's recording notice,
`privacy:`), and the contact settings it is written from. The web form shows the call's notice too."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ivr.config import ConfigError, load_config


def test_the_page_says_what_is_kept_for_how_long_and_whom_to_ask(client) -> None:
    korean = client.get("/privacy")
    assert korean.status_code == 200 and korean.headers["Cache-Control"] == "no-store"
    page = korean.get_data(as_text=True)
    assert "상담에만 쓰이며" in page  # the notice callers hear
    assert "365일" in page and "3년" in page and "90일" in page and "접속기록은 2년간" in page
    assert "privacy@example.org" in page and "070-4000-1379" in page and "삭제 요청" in page
    english = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "deleted 365 days after" in english and "question" in english and "Asking for deletion" in english


def test_the_page_follows_the_retention_settings(client, app) -> None:
    hotline = app.config["HOTLINE"]
    retention = dataclasses.replace(hotline.privacy.retention, recordings_days=30)
    privacy = dataclasses.replace(
        hotline.privacy, retention=retention, access_log_years=5, contact_phone="+8223456789"
    )
    app.config["HOTLINE"] = dataclasses.replace(hotline, privacy=privacy)
    page = client.get("/privacy").get_data(as_text=True)
    assert "30일이 지나면" in page and "문의 내용" in page and "5년간" in page and "02-345-6789" in page
    assert "365일" not in page


def _with_privacy(tmp_config: Path, extra: str) -> Path:
    text = tmp_config.read_text(encoding="utf-8")
    tmp_config.write_text(text.replace("privacy:", "privacy:\n" + extra, 1), encoding="utf-8")
    return tmp_config


def _without_contact(tmp_config: Path) -> str:
    lines = tmp_config.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("  contact:"))
    end = next(i for i, line in enumerate(lines) if line.startswith("    email:"))
    return "\n".join(lines[:start] + lines[end + 1 :]) + "\n"


@pytest.mark.parametrize(
    "extra, problem",
    [
        ("  contact: {email: nobody}\n", "privacy.contact.email: expected an e-mail address"),
        ("  contact: {phone: '12'}\n", "privacy.contact.phone"),
    ],
)
def test_the_contact_must_be_reachable(tmp_config: Path, extra: str, problem: str) -> None:
    tmp_config.write_text(_without_contact(tmp_config), encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_config(_with_privacy(tmp_config, extra), environ={})


def test_the_form_and_the_page_show_the_notice_the_caller_hears(client, app) -> None:
    hotline = app.config["HOTLINE"]
    notice = {"ko": "녹음은 상담에만 씁니다.", "en": "Recordings serve your request only."}
    flow = dataclasses.replace(hotline.flow, texts={**hotline.flow.texts, "recording_notice": notice})
    app.config["HOTLINE"] = dataclasses.replace(hotline, flow=flow)
    for path in ("/request", "/privacy"):
        assert notice["ko"] in client.get(path).get_data(as_text=True)
        assert notice["en"] in client.get(f"{path}?lang=en").get_data(as_text=True)
