"""The console inbox in a real browser, at a desktop and a phone size: the header's unread count, the list,
the link to the ticket, marking one and then all read."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.live import ARTIFACTS, SIZES, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)
from tickets import clock, inbox
from tickets.db import db
from tickets.models import Ticket


def _two_alerts_for(app: Any, username: str) -> list[str]:
    """Two delivered console messages, as the outbox's console channel writes them."""
    with app.app_context(), db.transaction() as session:
        references = list(session.scalars(select(Ticket.reference).order_by(Ticket.id).limit(2)))
        for n, reference in enumerate(references):
            inbox.deliver(
                session,
                username=username,
                key=f"sla:browser:{n}",
                text=f"[1379] 처리기한 초과: 접수번호 {reference} (정보통신) https://hotline.example.org/console/"
                f"tickets/{reference}",
                reference=reference,
                now=clock.now(),
            )
    return references


@pytest.mark.browser
@pytest.mark.parametrize("size", list(SIZES))
def test_a_supervisor_reads_and_clears_the_console_inbox(live_server, browser_page, size: str) -> None:  # noqa: F811
    page = browser_page
    page.set_viewport_size(SIZES[size])
    first, second = _two_alerts_for(live_server.app, "supervisor")

    page.goto(f"{live_server.url}/console/login")
    page.get_by_label("아이디").fill("supervisor")
    page.get_by_label("비밀번호").fill("hotline1379")
    page.get_by_role("button", name="로그인").click()
    assert page.locator("#unread-count").inner_text() == "2"  # on the dashboard they land on

    page.goto(f"{live_server.url}/console/")
    inbox_link = page.locator("#inbox-link")
    assert inbox_link.is_visible() and page.locator("#unread-count").inner_text() == "2"
    box = inbox_link.bounding_box()
    assert box is not None and box["x"] + box["width"] <= SIZES[size]["width"]  # wrapped, not cut off
    inbox_link.click()

    items = page.locator("#notifications li")
    assert items.count() == 2
    assert second in items.nth(0).inner_text() and first in items.nth(1).inner_text()  # newest first
    assert fits_the_width(page)
    page.screenshot(path=str(ARTIFACTS / f"inbox-{size}.png"), full_page=True)

    # each click posts and reloads the page: wait for the new one, never read the one going away
    items.nth(0).get_by_role("button", name="읽음", exact=True).click()
    expect(page.locator("#unread-count")).to_have_text("1")
    expect(page.locator("#notifications li.unread")).to_have_count(1)

    page.get_by_role("button", name="모두 읽음으로 표시").click()
    expect(page.locator("#unread-count")).to_have_count(0)
    expect(page.locator("#notifications li.read")).to_have_count(2)

    page.get_by_role("link", name=f"접수번호 {first} 보기").click()
    expect(page).to_have_url(f"{live_server.url}/console/tickets/{first}")
