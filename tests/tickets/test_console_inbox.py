"""The console inbox: SLA alerts reach people's consoles after commit, once, and each reads and marks only
their own."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from scheduler.delivery import build_channels, deliver_due_messages
from scheduler.sweep import AlertSettings
from tests.conftest import NOW
from tests.scheduler.sla_helpers import run
from tickets.clock import FrozenClock
from tickets.db import db
from tickets.models import Notification, Ticket, User


def _deliver(settings: AlertSettings, now: Any = NOW) -> Any:
    channels = build_channels(settings.notifications, None, db.transaction)
    return deliver_due_messages(db.transaction, channels, settings.notifications, now)


def _login(client: Any, username: str) -> None:
    page = client.get("/console/login").data.decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"username": username, "password": "hotline1379", "csrf_token": token}
    assert client.post("/console/login", data=form).status_code == 302


def _csrf(client: Any) -> str:
    page = client.get("/console/notifications").data.decode()
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]


def _unread_in_header(client: Any, path: str = "/console/notifications") -> int:
    page = client.get(path).data.decode()
    found = re.search(r'id="unread-count" class="count">(\d+)<', page)
    return int(found.group(1)) if found else 0


def _breached_ticket(make_user: Any, make_ticket: Any, session: Session, config: Any) -> Ticket:
    make_user("it-kim", phone="010-5555-0101")
    make_user("it-boss", role="supervisor", phone="010-5555-0002")
    make_user("bio-boss", role="supervisor", fields=("bio",))
    ticket = make_ticket(now=NOW - timedelta(hours=72))
    session.flush()
    run(AlertSettings.from_config(config), NOW)  # the breach: level 1, to the field's supervisors
    return ticket


def test_a_breach_lands_in_the_supervisors_console_once_delivered(
    client: Any, session: Session, config: Any, make_user: Any, make_ticket: Any
) -> None:
    ticket = _breached_ticket(make_user, make_ticket, session, config)
    assert session.scalars(select(Notification)).all() == []  # in the outbox only, until delivery runs

    settings = AlertSettings.from_config(config)
    _deliver(settings)
    _login(client, "it-boss")
    assert _unread_in_header(client) == 1
    assert _unread_in_header(client, "/console/") == 1  # every console page's header
    assert _unread_in_header(client, "/supervisor/") == 1  # and the supervisor dashboard's
    page = client.get("/console/notifications").data.decode()
    assert ticket.reference in page and f'href="/console/tickets/{ticket.reference}"' in page
    assert "2026-11-27 09:30" in page  # NOW (00:30 UTC) in Asia/Seoul

    # A delivery retried after a lost outcome (at least once) adds no copy.
    boss = session.scalar(select(User).where(User.username == "it-boss"))
    channel = build_channels(settings.notifications, None, db.transaction)["console"]
    key = session.scalar(select(Notification.key).where(Notification.user_id == boss.id))
    channel.send("it-boss", {"text": "again", "reference": ticket.reference}, key)
    assert len(session.scalars(select(Notification).where(Notification.user_id == boss.id)).all()) == 1

    _login(client, "bio-boss")  # another field's supervisor: not theirs
    assert _unread_in_header(client) == 0
    assert ticket.reference not in client.get("/console/notifications").text


def test_a_console_message_for_nobody_is_a_failed_try(session: Session, config: Any) -> None:
    settings = AlertSettings.from_config(config)
    channel = build_channels(settings.notifications, None, db.transaction)["console"]
    with pytest.raises(LookupError):  # a failed try: after the last one, a dead letter on the dashboard
        channel.send("no-such-user", {"text": "x"}, "test:nobody")


def test_each_user_marks_their_own_notifications_read_one_or_all(
    client: Any, session: Session, config: Any, make_user: Any, make_ticket: Any, clock: FrozenClock
) -> None:
    settings = AlertSettings.from_config(config)
    _breached_ticket(make_user, make_ticket, session, config)
    _deliver(settings)
    clock.advance(hours=24)
    run(settings, NOW + timedelta(hours=24))  # level 2, a day later
    _deliver(settings, NOW + timedelta(hours=24))
    mine = session.scalars(
        select(Notification).join(User).where(User.username == "it-boss").order_by(Notification.id)
    ).all()
    assert len(mine) == 2

    _login(client, "it-kim")  # someone else cannot mark them
    response = client.post(f"/console/notifications/{mine[0].id}/read", data={"csrf_token": _csrf(client)})
    assert response.status_code == 303

    _login(client, "it-boss")
    assert _unread_in_header(client) == 2
    page = client.get("/console/notifications").data.decode()
    assert page.index(f'data-id="{mine[1].id}"') < page.index(f'data-id="{mine[0].id}"')  # newest first
    assert client.post(f"/console/notifications/{mine[0].id}/read").status_code == 400  # no CSRF token
    assert _unread_in_header(client) == 2
    client.post(f"/console/notifications/{mine[0].id}/read", data={"csrf_token": _csrf(client)})
    assert _unread_in_header(client) == 1
    client.post("/console/notifications/read", data={"csrf_token": _csrf(client)})
    assert _unread_in_header(client) == 0
    assert "새 알림" not in client.get("/console/notifications").text
