"""A supervisor's morning in a real browser: log in, watch an alert arrive, acknowledge it, reassign, export.

Debian's chromium through Playwright against a live server with the demo data; the dashboard polls every
second here. The screenshots land in test-artifacts/ for people to look at.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from scheduler.sweep import AlertSettings, sweep
from tests.live import ARTIFACTS, LiveServer, browser_page, live_server  # noqa: F401  (fixtures)
from tests.spreadsheet import rows_as_shown
from tickets import clock
from tickets.db import db
from tickets.models import Escalation, Ticket


def _log_in(page: Any, server: LiveServer) -> None:
    page.goto(f"{server.url}/supervisor/")
    assert "/console/login" in page.url  # a stranger is sent to the login page first
    # A supervisor who opens the plain login page (no next=) lands on the dashboard, not the queue.
    page.goto(f"{server.url}/console/login")
    page.fill("input[name=username]", "supervisor")
    page.fill("input[name=password]", "hotline1379")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{server.url}/supervisor/")


def _sweep_three_days_ahead(server: LiveServer) -> int:
    """What the scheduler would do once the demo tickets' deadlines pass."""
    with server.app.app_context():
        swept = sweep(
            db.transaction,
            AlertSettings.from_config(server.app.config["HOTLINE"]),
            clock.now() + timedelta(days=3),
        )
    return len(swept)


@pytest.mark.browser
def test_a_supervisor_sees_an_alert_acknowledges_it_reassigns_and_exports(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
) -> None:
    page = browser_page
    live_server.app.config["SUPERVISOR_REFRESH_SECONDS"] = 1
    _log_in(page, live_server)
    assert page.locator("#no-alerts").is_visible()
    assert page.locator("#scheduler-state").inner_text() == "중단"  # no scheduler runs in this test

    # The sweep runs elsewhere (the scheduler process); the open page picks the alerts up by itself.
    assert _sweep_three_days_ahead(live_server) > 0
    rows = page.locator("#alerts tbody tr")
    rows.first.wait_for()
    alerts_before = rows.count()
    assert page.locator("#tile-alerts").inner_text() == str(alerts_before)
    assert "기한 초과" in page.locator("#alerts").inner_text()

    # Acknowledge the first alert.
    first_alert = rows.first.get_attribute("data-alert")
    rows.first.get_by_role("button", name="확인").click()
    page.wait_for_load_state()
    assert page.locator(".flash").inner_text().startswith("경보를 확인했습니다")
    assert page.locator(f'#alerts tr[data-alert="{first_alert}"]').count() == 0
    with live_server.app.app_context():
        escalation = db.session.get(Escalation, int(first_alert or 0))
        assert escalation is not None and escalation.acknowledged_at is not None
        db.session.remove()

    # Reassign the ticket of the next alert to the other consultant of its field.
    row = page.locator("#alerts tbody tr").first
    reference = row.get_attribute("data-reference")
    choice = row.locator("select[name=username]")
    username = choice.locator("option").first.get_attribute("value")
    choice.select_option(username)
    row.get_by_role("button", name="배정").click()
    page.wait_for_load_state()
    assert f"{reference}을(를)" in page.locator(".flash").inner_text()
    with live_server.app.app_context():
        ticket = db.session.scalar(select(Ticket).where(Ticket.reference == reference))
        assert ticket is not None and ticket.assignee is not None and ticket.assignee.username == username
        db.session.remove()
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    # The consultant console and the dashboard link to each other for a supervisor.
    page.get_by_role("link", name="내 대기열").click()
    page.wait_for_url(f"{live_server.url}/console/")
    page.get_by_role("link", name="감독 대시보드").click()
    page.wait_for_url(f"{live_server.url}/supervisor/")
    assert page.locator("#live-alerts").is_visible()

    # The ticket export of the reports page: a CSV with a BOM, Korean headers and the demo tickets.
    page.get_by_role("link", name="보고서").click()
    page.wait_for_selector("#report-tiles")
    received = int(page.locator('[data-figure="received"]').inner_text())
    page.fill("#export-reason", "월간 실적 보고")  # a download needs its reason (the access log keeps it)
    with page.expect_download() as download_info:
        page.click("#export-tickets")
    header, *lines = rows_as_shown(Path(download_info.value.path()).read_bytes())
    assert header[:3] == ["접수번호", "접수일시", "분야"]
    assert len(lines) == received > 0
    assert reference in {line[0] for line in lines}
    assert "정보통신(IT)" in {line[2] for line in lines}
    page.screenshot(path=str(ARTIFACTS / "dashboard-reports.png"), full_page=True)
