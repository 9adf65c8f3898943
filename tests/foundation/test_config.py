"""A broken config.yaml is refused at start-up by file and key, with exit status 2 and no traceback."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from ivr.config import ROOT, ConfigError, load_config
from tickets.business_hours import HOLIDAY_YEARS
from tickets.clock import FrozenClock


def _edit(path: Path, change) -> Path:  # type: ignore[no-untyped-def]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def test_the_shipped_config_loads_with_the_six_fields_and_seven_support_types() -> None:
    config = load_config(ROOT / "config.yaml", environ={})
    assert [(f.digit, f.key) for f in config.flow.fields] == [
        ("1", "it"),
        ("2", "machinery"),
        ("3", "electronics"),
        ("4", "bio"),
        ("5", "chemistry"),
        ("6", "energy"),
    ]
    assert [(s.digit, s.key) for s in config.flow.support_types] == [
        ("1", "equipment"),
        ("2", "advice"),
        ("3", "rnd"),
        ("4", "information"),
        ("5", "transfer"),
        ("6", "staffing"),
        ("0", "other"),
    ]
    assert config.flow.fields[0].name("ko") == "정보통신(IT)"
    assert config.flow.hotline_number == "+827040001379"
    assert config.flow.languages["ko"].locale == "ko-KR"
    assert config.scheduler.sla.resolve_within_days == 3
    assert config.database_url.startswith("sqlite:///") and config.database_url.endswith(
        "var/hotline.sqlite3"
    )


def test_secrets_and_deployment_values_come_from_the_environment() -> None:
    config = load_config(
        ROOT / "config.yaml",
        environ={
            "DATABASE_URL": "postgresql+psycopg://db/hotline",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_AUTH_TOKEN": "secret",
            "PUBLIC_BASE_URL": "https://hotline.example.org/",
            "SECRET_KEY": "k",
        },
    )
    assert config.database_url == "postgresql+psycopg://db/hotline"
    assert (config.twilio_account_sid, config.twilio_auth_token) == ("AC123", "secret")
    assert config.public_base_url == "https://hotline.example.org"


@pytest.mark.parametrize(
    "environ, message",
    [
        ({"PUBLIC_BASE_URL": "https://hotline.example.org"}, "TWILIO_AUTH_TOKEN"),
        ({"TWILIO_WEBHOOK_SHARED_KEYS": "only-an-id"}, "TWILIO_WEBHOOK_SHARED_KEYS"),
    ],
)
def test_unsafe_or_malformed_twilio_environment_is_refused(environ: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(ROOT / "config.yaml", environ=environ)


BROKEN = [
    (
        "unknown key",
        lambda d: d["call_flow"].update(recordng_max_seconds=60),
        "call_flow.recordng_max_seconds",
    ),
    ("duplicated digit", lambda d: d["fields"][2].update(digit="2"), "fields[2].digit"),
    ("missing ko name", lambda d: d["support_types"][1]["name"].pop("ko"), "support_types[1].name.ko"),
    ("invalid phone", lambda d: d["hotline"].update(number="1379"), "hotline.number"),
    ("zero SLA", lambda d: d["sla"].update(resolve_within_days=0), "sla.resolve_within_days"),
    ("digit 9 reserved for English", lambda d: d["fields"][0].update(digit="9"), "fields[0].digit"),
    (
        "unknown channel",
        lambda d: d["sla"]["escalation_levels"][0]["notify"][0].update(channels=["fax"]),
        "sla.escalation_levels[0].notify[0].channels",
    ),
    (
        # What config.yaml used to ship: level 2 to a head of center with no phone and no e-mail.
        "an escalation that reaches nobody",
        lambda d: d["sla"]["escalation_levels"][1].update(
            notify=[{"role": "head", "channels": ["sms", "email", "webhook", "console"]}]
        ),
        "sla.escalation_levels[1].notify[0]",
    ),
    (
        "a head whose only phone is a landline",
        lambda d: (
            d["notifications"]["head_of_center"].update(phone="02-1234-5678"),
            d["sla"]["escalation_levels"][1]["notify"].append({"role": "head", "channels": ["sms"]}),
        ),
        "sla.escalation_levels[1].notify[1]",
    ),
    # The retention job deletes throttle rows a day old: a longer lock would be lifted by it.
    (
        "a lock longer than a day",
        lambda d: d["logins"].update(throttle_minutes=1441),
        "logins.throttle_minutes",
    ),
    (
        "a warning by e-mail only, with e-mail switched off",
        lambda d: d["sla"].update(warning_notify=[{"role": "assignee", "channels": ["email"]}]),
        "sla.warning_notify[0]",
    ),
]


def test_a_head_of_center_with_a_mobile_phone_can_be_alerted(tmp_config: Path) -> None:
    def give_the_head_a_phone(data: dict) -> None:  # type: ignore[type-arg]
        data["notifications"]["head_of_center"].update(phone="010-9999-0000")
        data["sla"]["escalation_levels"][1]["notify"].append({"role": "head", "channels": ["sms", "console"]})

    config = load_config(_edit(tmp_config, give_the_head_a_phone), environ={})
    assert config.scheduler.sla.levels[1].notify[-1].role == "head"


@pytest.mark.parametrize(("what", "change", "key"), BROKEN, ids=[b[0] for b in BROKEN])
def test_a_broken_config_is_refused_naming_the_key(tmp_config: Path, what: str, change, key: str) -> None:  # type: ignore[no-untyped-def]
    _edit(tmp_config, change)
    with pytest.raises(ConfigError) as error:
        load_config(tmp_config, environ={})
    assert str(error.value).startswith(f"{tmp_config}: {key}:"), str(error.value)


def test_not_yaml_at_all_is_refused(tmp_config: Path) -> None:
    tmp_config.write_text("fields: [unclosed", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(tmp_config, environ={})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["fields"][2].update(digit="2"), "fields[2].digit: '2' is used twice (also fields[1])"),
        (
            lambda d: d["sla"]["escalation_levels"][1].update(notify=[{"role": "head", "channels": ["sms"]}]),
            "sla.escalation_levels[1].notify[0]: 'head' is reached by none of sms",
        ),
    ],
)
def test_the_cli_exits_2_with_one_line_and_no_traceback(tmp_config: Path, change, message: str) -> None:  # type: ignore[no-untyped-def]
    _edit(tmp_config, change)
    env = {**os.environ, "HOTLINE_CONFIG": str(tmp_config), "DATABASE_URL": "sqlite://"}
    result = subprocess.run(
        [sys.executable, "-c", "from ivr.cli import main; main()", "tickets", "list"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"{tmp_config}: {message}" in result.stderr


def test_a_year_whose_korean_holidays_are_unknown_is_refused_at_start_up(clock: FrozenClock) -> None:
    # Deadlines reach into next year, so on New Year's Eve of the package's last year the hotline refuses
    # to start rather than stamp deadlines that ignore Seollal and Chuseok.
    clock.move_to(datetime(HOLIDAY_YEARS.stop - 1, 12, 31, 3, 0, tzinfo=UTC))
    with pytest.raises(ConfigError, match=f"holidays of {HOLIDAY_YEARS.stop} are unknown"):
        load_config(ROOT / "config.yaml", environ={})
    clock.move_to(datetime(HOLIDAY_YEARS.stop - 2, 12, 31, 3, 0, tzinfo=UTC))
    assert load_config(ROOT / "config.yaml", environ={}).scheduler.sla.resolve_within_days == 3
