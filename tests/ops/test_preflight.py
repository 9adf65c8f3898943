"""`hotline check`: one line per check, exit status 1 on any fail; `--fix-twilio` sets the number's webhooks.

Twilio is the fake in tests/ops/fake_twilio.py under the real twilio `Client`, so the library's own request
building and parsing run.
"""

from __future__ import annotations

import socket
import socketserver
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy.orm import Session

from ivr.app import create_app
from ivr.cli import cli
from ivr.config import ROOT
from ivr.gateway import TwilioTelephony
from scheduler import heartbeat
from tests.conftest import NOW, test_config
from tests.ops.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilioApi, incoming_number
from tickets.clock import FrozenClock
from tickets.db import db, make_engine
from tickets.migrate import upgrade

BASE = "https://hotline.example.org"
CHECKS = [
    "config",
    "database",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "twilio account",
    "twilio number",
    "twilio webhooks",
    "twilio sms",
    "mail server",
    "scheduler",
]


def check(app: Flask, *args: str) -> tuple[int, dict[str, tuple[str, str]]]:
    """Run `hotline check`; its exit status and {check name: (status, detail)}."""
    result = app.test_cli_runner().invoke(cli, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    return result.exit_code, {line[6:21].strip(): (line[:4].strip(), line[23:]) for line in lines}


def use_twilio(app: Flask, fake: FakeTwilioApi, token: str = AUTH_TOKEN) -> None:
    number = app.config["HOTLINE"].flow.hotline_number
    app.extensions["telephony"] = TwilioTelephony(ACCOUNT_SID, token, number, http_client=fake)


def reconfigure(app: Flask, **changes: Any) -> None:
    app.config["HOTLINE"] = replace(app.config["HOTLINE"], **changes)


def notifications(app: Flask, **changes: Any) -> None:
    scheduler = app.config["HOTLINE"].scheduler
    reconfigure(app, scheduler=replace(scheduler, notifications=replace(scheduler.notifications, **changes)))


@pytest.fixture
def twilio(app: Flask) -> FakeTwilioApi:
    """A production-like installation: secrets set, an https base, the number wired to it."""
    reconfigure(
        app,
        secret_key="s" * 64,
        public_base_url=BASE,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
    )
    number = app.config["HOTLINE"].flow.hotline_number
    fake = FakeTwilioApi(
        [incoming_number(number, voice_url=f"{BASE}/ivr/voice", status_callback=f"{BASE}/ivr/status")]
    )
    use_twilio(app, fake)
    return fake


@pytest.fixture
def scheduler_alive(session: Session) -> None:
    heartbeat.beat(session, "scheduler-1:4242", started_at=NOW)
    session.commit()  # as the scheduler does (the test's outer transaction still rolls it back)


def test_a_wired_installation_passes_every_check(
    app: Flask, twilio: FakeTwilioApi, scheduler_alive: None
) -> None:
    status, results = check(app)
    assert status == 0, results
    assert list(results) == CHECKS
    assert {name: result[0] for name, result in results.items()} == dict.fromkeys(CHECKS, "ok")
    assert twilio.updates() == []  # a plain check changes nothing


@pytest.mark.parametrize(
    ("setting", "wrong"),
    [
        ("voice_url", "https://old-host.example/voice"),
        ("voice_method", "GET"),
        ("status_callback", ""),
        ("voice_application_sid", "AP" + "5" * 32),  # a TwiML App would take the calls
    ],
)
def test_a_misdirected_number_is_reported_and_fix_twilio_points_it_here(
    app: Flask, twilio: FakeTwilioApi, scheduler_alive: None, setting: str, wrong: str
) -> None:
    twilio.numbers[0][setting] = wrong

    status, results = check(app)
    assert status == 1
    assert results["twilio webhooks"][0] == "fail"
    assert setting in results["twilio webhooks"][1] and "--fix-twilio" in results["twilio webhooks"][1]
    assert twilio.updates() == []

    status, results = check(app, "--fix-twilio")
    assert status == 0, results
    verdict, detail = results["twilio webhooks"]
    assert verdict == "ok" and detail.startswith("changed") and setting in detail
    number = twilio.numbers[0]
    assert (number["voice_url"], number["voice_method"]) == (f"{BASE}/ivr/voice", "POST")
    assert (number["status_callback"], number["status_callback_method"]) == (f"{BASE}/ivr/status", "POST")
    assert not number["voice_application_sid"]

    status, results = check(app)
    assert status == 0 and results["twilio webhooks"][0] == "ok"


def test_the_voice_url_is_reported_with_what_it_is_and_what_it_must_be(
    app: Flask, twilio: FakeTwilioApi, scheduler_alive: None
) -> None:
    twilio.numbers[0]["voice_url"] = "https://old-host.example/voice"
    _, results = check(app)
    assert "https://old-host.example/voice" in results["twilio webhooks"][1]
    assert f"{BASE}/ivr/voice" in results["twilio webhooks"][1]


def test_refused_credentials_fail_and_nothing_is_asked_of_the_account(
    app: Flask, twilio: FakeTwilioApi, scheduler_alive: None
) -> None:
    use_twilio(app, twilio, token="a-revoked-token")
    status, results = check(app, "--fix-twilio")
    assert status == 1
    assert results["twilio account"][0] == "fail" and "401" in results["twilio account"][1]
    assert [results[name][0] for name in ("twilio number", "twilio webhooks", "twilio sms")] == ["warn"] * 3
    assert twilio.updates() == []


def test_a_suspended_account_fails(app: Flask, twilio: FakeTwilioApi, scheduler_alive: None) -> None:
    twilio.account_status = "suspended"
    status, results = check(app)
    assert status == 1 and results["twilio account"] == ("fail", f"{ACCOUNT_SID} is suspended, not active")


def test_a_number_not_on_the_account_fails(app: Flask, twilio: FakeTwilioApi, scheduler_alive: None) -> None:
    twilio.numbers[0]["phone_number"] = "+827040009999"
    status, results = check(app, "--fix-twilio")
    assert status == 1 and results["twilio number"][0] == "fail"
    assert "is not a number of account" in results["twilio number"][1]
    assert twilio.updates() == []


def test_a_number_that_cannot_text_fails_only_while_sms_notifications_are_on(
    app: Flask, twilio: FakeTwilioApi, scheduler_alive: None
) -> None:
    twilio.numbers[0]["capabilities"] = {"voice": True, "sms": False}
    status, results = check(app)
    assert status == 1 and results["twilio sms"][0] == "fail"

    notifications(app, sms_enabled=False)
    status, results = check(app)
    assert status == 0 and results["twilio sms"][0] == "ok"


def test_without_twilio_credentials_the_twilio_checks_warn(app: Flask, scheduler_alive: None) -> None:
    reconfigure(app, secret_key="s" * 64, public_base_url=BASE)
    status, results = check(app)
    assert status == 0
    assert [results[name][0] for name in CHECKS if name.startswith("twilio")] == ["warn"] * 4


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"secret_key": None}, "SECRET_KEY"),
        ({"public_base_url": None}, "PUBLIC_BASE_URL"),
        ({"public_base_url": "http://hotline.example.org"}, "PUBLIC_BASE_URL"),
    ],
)
def test_a_missing_secret_key_or_a_base_url_without_https_fails(
    app: Flask, twilio: FakeTwilioApi, scheduler_alive: None, changes: dict[str, Any], name: str
) -> None:
    reconfigure(app, **changes)
    status, results = check(app)
    assert status == 1 and results[name][0] == "fail"


def test_the_scheduler_check_fails_without_a_fresh_heartbeat(
    app: Flask, twilio: FakeTwilioApi, session: Session, clock: FrozenClock
) -> None:
    status, results = check(app)
    assert status == 1 and results["scheduler"] == (
        "fail",
        "no scheduler has ever run: start `hotline scheduler`",
    )

    heartbeat.beat(session, "scheduler-1:4242", started_at=NOW)
    session.commit()  # as the scheduler does (the test's outer transaction still rolls it back)
    assert check(app)[0] == 0

    clock.advance(minutes=5)
    status, results = check(app)
    assert status == 1 and results["scheduler"][0] == "fail"
    assert "last heartbeat at" in results["scheduler"][1]


@pytest.fixture
def smtp_server() -> Iterator[int]:
    """Just enough SMTP on loopback to greet and answer NOOP; yields its port."""

    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            self.wfile.write(b"220 fake ESMTP\r\n")
            for line in self.rfile:
                if line.upper().startswith(b"QUIT"):
                    self.wfile.write(b"221 bye\r\n")
                    return
                self.wfile.write(b"250 ok\r\n")

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_the_mail_server_is_checked_when_email_is_on(
    app: Flask, twilio: FakeTwilioApi, scheduler_alive: None, smtp_server: int
) -> None:
    notifications(app, email_enabled=True, smtp_host="127.0.0.1", smtp_port=smtp_server)
    status, results = check(app)
    assert status == 0 and results["mail server"] == ("ok", f"127.0.0.1:{smtp_server} answers")

    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody_listens = closed.getsockname()[1]
    notifications(app, smtp_port=nobody_listens)
    status, results = check(app)
    assert status == 1 and results["mail server"][0] == "fail" and "unreachable" in results["mail server"][1]


@pytest.mark.parametrize("revision", [None, "0001"])
def test_a_database_behind_the_code_fails_until_upgraded(tmp_path: Path, revision: str | None) -> None:
    url = f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    if revision:
        engine = make_engine(url)
        upgrade(engine, revision)
        engine.dispose()
    app = create_app(test_config(url))
    try:
        with app.app_context():
            status, results = check(app)
            assert status == 1
            assert results["database"][0] == "fail" and "run `hotline db upgrade`" in results["database"][1]
            assert app.test_cli_runner().invoke(cli, ["db", "upgrade"]).exit_code == 0
            assert check(app)[1]["database"][0] == "ok"
    finally:
        db.of(app).engine.dispose()


def test_a_broken_config_is_the_first_failed_check(tmp_config: Path) -> None:
    tmp_config.write_text(tmp_config.read_text(encoding="utf-8") + "\nsurprise: 1\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-c", "from ivr.cli import main; main()", "check"],
        env={"HOTLINE_CONFIG": str(tmp_config), "PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert result.stdout.startswith("fail  config") and "surprise" in result.stdout
