"""보류 with a "call back at" time: the deadline stops, the queue says when, and the ticket comes back to the
top of its holder's queue when the time comes."""

from __future__ import annotations

import re
from datetime import timedelta

from tests.conftest import NOW
from tests.tickets.test_console_auth import _csrf, login
from tickets.db import db


def _my_queue_order(client) -> list[str]:
    page = client.get("/console/").data.decode()
    mine = page[page.index('id="my-queue"') : page.index('id="pool"')]
    return re.findall(r'data-reference="([^"]+)"', mine)


def test_a_held_ticket_returns_to_the_top_at_its_callback_time(client, make_user, make_ticket, clock) -> None:
    make_user("it-kim")
    urgent = make_ticket(now=NOW - timedelta(days=2))  # the earlier deadline: first in the queue
    held = make_ticket()
    login(client, "it-kim")
    url = f"/console/tickets/{held.reference}"
    token = _csrf(client.get(url).data)
    client.post(f"{url}/status", data={"csrf_token": token, "status": "in_progress"})
    # 2026-11-27 12:30 in Seoul is NOW + 3 hours (NOW is 09:30 in Seoul).
    form = {
        "csrf_token": token,
        "status": "waiting",
        "note": "자료 받은 뒤",
        "callback_at": "2026-11-27T12:30",
    }
    page = client.post(f"{url}/status", data=form, follow_redirects=True).data.decode()
    assert "기한 정지" in page and "2026-11-27 12:30 회신 예정" in page
    assert "회신 예정 2026-11-27 12:30" in page  # in the history's reason too
    assert _my_queue_order(client) == [urgent.reference, held.reference]

    clock.advance(hours=3)
    db.session.remove()
    assert _my_queue_order(client) == [held.reference, urgent.reference]
    assert "회신할 시각입니다" in client.get("/console/").data.decode()


def test_a_callback_time_in_the_past_is_refused(client, make_user, make_ticket) -> None:
    make_user("it-kim")
    ticket = make_ticket()
    login(client, "it-kim")
    url = f"/console/tickets/{ticket.reference}"
    token = _csrf(client.get(url).data)
    client.post(f"{url}/status", data={"csrf_token": token, "status": "in_progress"})
    form = {"csrf_token": token, "status": "waiting", "note": "나중에", "callback_at": "2026-11-27T08:00"}
    page = client.post(f"{url}/status", data=form, follow_redirects=True).data.decode()
    assert "지금보다 뒤여야" in page and '<small id="status">처리 중</small>' in page


def test_the_holder_is_told_once_when_the_promised_time_comes(session, make_user, make_ticket, clock) -> None:
    from sqlalchemy import select

    from tickets.callbacks import remind_due_callbacks
    from tickets.models import OutboxMessage, Status

    kim = make_user("it-kim")
    ticket = make_ticket()
    ticket.status, ticket.callback_at = Status.WAITING, NOW + timedelta(hours=3)
    session.flush()
    assert remind_due_callbacks(session, NOW, "Asia/Seoul") == []  # not yet
    later = NOW + timedelta(hours=3, minutes=1)
    assert remind_due_callbacks(session, later, "Asia/Seoul") == [ticket.reference]
    assert remind_due_callbacks(session, later, "Asia/Seoul") == []  # a rerun tells nobody twice
    (notice,) = session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)).all()
    assert (notice.channel, notice.recipient) == ("console", kim.username)
    assert "11-27 12:30" in notice.payload["body"]  # the promised time, in Seoul
