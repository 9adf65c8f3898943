"""Which address each channel reaches, and what config alone can promise about it."""

from __future__ import annotations

import pytest

from scheduler.recipients import Contact, address, can_reach
from scheduler.scheduler_config import NotificationConfig


def _contact(phone: str | None) -> Contact:
    return Contact(name="김감독", username="it-boss", phone=phone, email="it-boss@example.org")


@pytest.mark.parametrize(
    ("phone", "texted"),
    [
        ("+821055550002", True),  # 010: a Korean mobile
        ("+82212345678", False),  # 02: a Seoul landline
        ("+827040001379", False),  # 070: internet phone, no SMS
        # phonenumbers cannot tell US mobiles from landlines (FIXED_LINE_OR_MOBILE). The scheduler's own
        # is_mobile counted them as mobile, the call flow's did not: an SMS to a landline only fails.
        ("+12015550123", False),
        (None, False),
    ],
)
def test_an_sms_goes_only_to_a_number_that_is_surely_mobile(phone: str | None, texted: bool) -> None:
    contact = _contact(phone)
    assert address(NotificationConfig(), contact, "sms") == (phone if texted else None)


def test_the_console_reaches_users_only() -> None:
    notifications = NotificationConfig(head_phone="+821099990000")
    assert address(notifications, _contact(None), "console") == "it-boss"
    assert all(can_reach(notifications, role, "console") for role in ("supervisor", "assignee"))
    assert not can_reach(notifications, "head", "console")  # the head has no console login


@pytest.mark.parametrize(
    ("notifications", "reachable"),
    [
        (NotificationConfig(), set()),
        (NotificationConfig(head_phone="+821099990000"), {"sms"}),
        (NotificationConfig(head_phone="+82212345678"), set()),  # a landline takes no SMS
        (NotificationConfig(head_phone="+821099990000", sms_enabled=False), set()),
        (NotificationConfig(head_email="head@example.org"), set()),  # e-mail is off by default
        (NotificationConfig(head_email="head@example.org", email_enabled=True), {"email"}),
        (NotificationConfig(webhook_enabled=True, webhook_url="http://127.0.0.1:9/hook"), {"webhook"}),
    ],
)
def test_the_head_is_reached_only_through_what_config_gives_for_them(
    notifications: NotificationConfig, reachable: set[str]
) -> None:
    channels = {"sms", "email", "webhook", "console"}
    assert {c for c in channels if can_reach(notifications, "head", c)} == reachable
