"""`hotline check`: is this installation wired right? One line per check, each ok, warn or fail.

The checks read what production needs: a migrated database, a SECRET_KEY shared by the web workers, an https
PUBLIC_BASE_URL, a Twilio account that accepts our credentials and holds the hotline's number with its
webhooks pointing here, SMS from that number, the mail server when e-mail is on, and a live scheduler.
`fix_twilio=True` points the number's Voice URL and status callback at PUBLIC_BASE_URL through the REST API
(IncomingPhoneNumbers) and says what it changed.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass
from typing import Any

import requests
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import make_url
from sqlalchemy.exc import SQLAlchemyError
from twilio.base.exceptions import TwilioException, TwilioRestException

from ivr.config import HotlineConfig
from ivr.gateway import TwilioTelephony
from scheduler.heartbeat import scheduler_status
from scheduler.scheduler_config import NotificationConfig
from tickets.db import db
from tickets.migrate import alembic_config

OK, WARN, FAIL = "ok", "warn", "fail"
NETWORK_TIMEOUT = 5  # seconds: a pre-flight should answer quickly, even about a server that does not
VOICE_PATH, STATUS_PATH = "/ivr/voice", "/ivr/status"


@dataclass(frozen=True)
class Check:
    status: str  # OK, WARN or FAIL
    name: str
    detail: str

    def line(self) -> str:
        return f"{self.status:<4}  {self.name:<15}  {self.detail}"


def run_checks(app: Flask, *, fix_twilio: bool = False) -> list[Check]:
    """Every check, in the order an operator fixes them. Call inside an app context."""
    config: HotlineConfig = app.config["HOTLINE"]
    return [
        Check(OK, "config", f"{config.path} is valid"),
        check_database(config.database_url),
        check_secret_key(config),
        check_public_base_url(config),
        *check_twilio(config, app.extensions["telephony"], fix=fix_twilio),
        check_mail(config.scheduler.notifications),
        check_scheduler(),
    ]


def failed(checks: list[Check]) -> bool:
    return any(check.status == FAIL for check in checks)


def check_database(url: str) -> Check:
    where = make_url(url).render_as_string(hide_password=True)
    try:
        current = set(MigrationContext.configure(db.session.connection()).get_current_heads())
    except SQLAlchemyError as error:
        return Check(FAIL, "database", f"{where} unreachable: {_first_line(error)}")
    finally:
        # a read, ended at once: on SQLite every transaction holds the write lock, and Twilio is next
        db.session.rollback()
    heads = set(ScriptDirectory.from_config(alembic_config()).get_heads())
    if current == heads:
        return Check(OK, "database", f"{where} reachable, schema at head ({_revisions(heads)})")
    if not current:
        return Check(FAIL, "database", f"{where} reachable but not migrated: run `hotline db upgrade`")
    return Check(
        FAIL,
        "database",
        f"{where} at revision {_revisions(current)}, this release needs {_revisions(heads)}: "
        "run `hotline db upgrade`",
    )


def check_secret_key(config: HotlineConfig) -> Check:
    if not config.secret_key:
        # gunicorn's workers would each invent a key, and a login made in one is refused by the others
        return Check(
            FAIL, "SECRET_KEY", "unset: each web worker would sign console sessions with its own key"
        )
    if len(config.secret_key) < 32:
        return Check(
            WARN,
            "SECRET_KEY",
            "shorter than 32 characters: `python -c 'import secrets; "
            "print(secrets.token_hex(32))'` makes a good one",
        )
    return Check(OK, "SECRET_KEY", "set")


def check_public_base_url(config: HotlineConfig) -> Check:
    url = config.public_base_url
    if not url:
        return Check(FAIL, "PUBLIC_BASE_URL", "unset: Twilio cannot reach the webhooks")
    if not url.startswith("https://"):
        # Twilio would send the callers' numbers and recordings' links in the clear
        return Check(FAIL, "PUBLIC_BASE_URL", f"{url} is not https")
    return Check(OK, "PUBLIC_BASE_URL", url)


def check_twilio(config: HotlineConfig, telephony: Any, *, fix: bool) -> list[Check]:
    names = ("twilio account", "twilio number", "twilio webhooks", "twilio sms")
    if not isinstance(telephony, TwilioTelephony):
        unset = Check(WARN, names[0], "TWILIO_ACCOUNT_SID or TWILIO_AUTH_TOKEN unset: calls and SMS only log")
        return [unset, *_not_checked(names[1:], "no Twilio credentials")]
    client, sid = telephony.client, telephony.account_sid
    try:
        account = client.api.v2010.accounts(sid).fetch()
    except (TwilioException, requests.RequestException) as error:
        return [Check(FAIL, names[0], _twilio_error(error)), *_not_checked(names[1:], "no Twilio account")]
    if account.status != "active":
        failed_account = Check(FAIL, names[0], f"{sid} is {account.status}, not active")
        return [failed_account, *_not_checked(names[1:], "no Twilio account")]
    checks = [Check(OK, names[0], f"{sid} ({account.friendly_name}) accepts the credentials")]

    number = config.flow.hotline_number
    try:
        # Twilio's PhoneNumber filter also matches parts of numbers: keep the exact one
        found = [
            n for n in client.incoming_phone_numbers.list(phone_number=number) if n.phone_number == number
        ]
    except (TwilioException, requests.RequestException) as error:
        return [*checks, Check(FAIL, names[1], _twilio_error(error)), *_not_checked(names[2:], "no number")]
    if not found:
        missing = Check(FAIL, names[1], f"{number} (hotline.number) is not a number of account {sid}")
        return [*checks, missing, *_not_checked(names[2:], "no number")]
    incoming = found[0]
    checks.append(Check(OK, names[1], f"{number} is on the account ({incoming.sid})"))
    checks.append(_check_webhooks(config, incoming, fix=fix))
    checks.append(_check_sms(config, incoming))
    return checks


def webhook_settings(public_base_url: str) -> dict[str, str]:
    """What the hotline number's voice settings must be, by the name the REST API gives each."""
    return {
        "voice_url": public_base_url + VOICE_PATH,
        "voice_method": "POST",
        "status_callback": public_base_url + STATUS_PATH,
        "status_callback_method": "POST",
        # a TwiML App on the number would take the calls instead of the Voice URL
        "voice_application_sid": "",
    }


def _check_webhooks(config: HotlineConfig, incoming: Any, *, fix: bool) -> Check:
    name = "twilio webhooks"
    if not config.public_base_url:
        return Check(FAIL, name, "not checked: PUBLIC_BASE_URL is unset, so nothing to compare with")
    wanted = webhook_settings(config.public_base_url)
    wrong = {key: value for key, value in wanted.items() if (getattr(incoming, key) or "") != value}
    if not wrong:
        return Check(
            OK, name, f"Voice URL {wanted['voice_url']}, status callback {wanted['status_callback']}"
        )
    differences = "; ".join(
        f"{key} {getattr(incoming, key) or ''!r} → {value!r}" for key, value in wrong.items()
    )
    if not fix:
        return Check(FAIL, name, f"{differences} (`hotline check --fix-twilio` sets them)")
    try:
        incoming.update(**wrong)
    except (TwilioException, requests.RequestException) as error:
        return Check(FAIL, name, f"could not change {differences}: {_twilio_error(error)}")
    return Check(OK, name, f"changed {differences}")


def _check_sms(config: HotlineConfig, incoming: Any) -> Check:
    can_send = bool((incoming.capabilities or {}).get("sms"))
    if can_send:
        return Check(OK, "twilio sms", f"{incoming.phone_number} can send SMS")
    if config.scheduler.notifications.sms_enabled:
        return Check(
            FAIL, "twilio sms", f"{incoming.phone_number} cannot send SMS, and notifications.sms is on"
        )
    return Check(OK, "twilio sms", f"{incoming.phone_number} cannot send SMS; notifications.sms is off")


def check_mail(notifications: NotificationConfig) -> Check:
    if not notifications.email_enabled:
        return Check(OK, "mail server", "e-mail is off (notifications.email.enabled)")
    where = f"{notifications.smtp_host}:{notifications.smtp_port}"
    try:
        with smtplib.SMTP(notifications.smtp_host, notifications.smtp_port, timeout=NETWORK_TIMEOUT) as smtp:
            code, _ = smtp.noop()
    except (OSError, smtplib.SMTPException) as error:
        return Check(
            FAIL, "mail server", f"{where} unreachable: {_first_line(error) or type(error).__name__}"
        )
    if code != 250:
        return Check(FAIL, "mail server", f"{where} answered NOOP with {code}")
    return Check(OK, "mail server", f"{where} answers")


def check_scheduler() -> Check:
    try:
        status = scheduler_status(db.session())
    except SQLAlchemyError as error:
        return Check(FAIL, "scheduler", f"heartbeat not readable: {_first_line(error)}")
    finally:
        db.session.rollback()
    if status["alive"]:
        return Check(OK, "scheduler", f"heartbeat at {status['last_beat_at']} from {status['host']}")
    if "last_beat_at" not in status:
        return Check(FAIL, "scheduler", "no scheduler has ever run: start `hotline scheduler`")
    return Check(
        FAIL, "scheduler", f"last heartbeat at {status['last_beat_at']}: is `hotline scheduler` running?"
    )


def _not_checked(names: tuple[str, ...], reason: str) -> list[Check]:
    return [Check(WARN, name, f"not checked: {reason}") for name in names]


def _twilio_error(error: Exception) -> str:
    if isinstance(error, TwilioRestException):
        return f"Twilio answered HTTP {error.status}: {_first_line(error.msg)}"
    return f"Twilio unreachable: {type(error).__name__}"


def _revisions(revisions: set[str]) -> str:
    return ", ".join(sorted(revisions))


def _first_line(error: object) -> str:
    return str(error).strip().splitlines()[0][:200] if str(error).strip() else ""
