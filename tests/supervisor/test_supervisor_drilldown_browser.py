"""A supervisor in a real browser, on a desk and a phone: acknowledging an alert does not hide the overdue
ticket (the tile links to the list of every overdue ticket, and each reference opens the ticket), and a
ticket in the general pool is triaged from the top of the page."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from scheduler.sweep import AlertSettings, sweep
from tests.axe import severe_violations
from tests.live import SIZES, LiveServer, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)
from tests.tickets.test_console_workday_browser import log_in
from tickets.clock import now
from tickets.db import db


@pytest.mark.browser
@pytest.mark.parametrize("size", list(SIZES))
def test_a_supervisor_opens_an_acknowledged_overdue_ticket_and_triages_the_pool(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
    clock: Any,
    size: str,
) -> None:
    page = browser_page
    page.set_viewport_size(SIZES[size])
    clock.advance(days=5)  # the demo tickets are now past their deadlines
    with live_server.app.app_context():
        assert sweep(db.transaction, AlertSettings.from_config(live_server.app.config["HOTLINE"]), now())
    log_in(page, live_server.url, "supervisor")
    expect(page).to_have_url(f"{live_server.url}/supervisor/")
    assert fits_the_width(page) and severe_violations(page) == []

    # The general pool sits first, and one action routes a ticket.
    pool_row = page.locator("#pool tbody tr").first
    triaged = pool_row.get_attribute("data-reference")
    assert page.locator("section.card").first.get_attribute("id") == "live-pool"
    pool_row.locator("select[name=field]").select_option("it")
    pool_row.get_by_role("button", name="지정").click()
    expect(page.locator(".flash")).to_contain_text(f"{triaged}: 정보통신")

    # Acknowledge every alert of one ticket: it leaves the alert list ...
    reference = page.locator("#alerts tbody tr").first.get_attribute("data-reference")
    rows = page.locator(f'#alerts tr[data-reference="{reference}"]')
    while rows.count():
        rows.first.get_by_role("button", name="확인").click()
        expect(page.locator(".flash")).to_contain_text("경보를 확인했습니다")
    # ... but not the overdue list, which the tile opens, and from which the ticket opens.
    page.locator("#overdue-list").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("티켓 찾기")
    assert fits_the_width(page)
    page.locator("#results").get_by_role("link", name=reference).click()
    expect(page.locator("#reference")).to_have_text(reference)
    expect(page.locator("#deadline")).to_have_class("overdue")
    assert fits_the_width(page) and severe_violations(page) == []
