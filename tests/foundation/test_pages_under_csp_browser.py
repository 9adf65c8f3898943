"""Every page a person uses works in a real browser under the Content-Security-Policy: no inline script or
style is refused (chromium reports each refusal on the console), the stylesheets apply, and the dashboard
still refreshes itself."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tests.live import LiveServer, browser_page, live_server  # noqa: F401  (fixtures)
from tickets.db import db
from tickets.models import Ticket, User


def _log_in(page: Any, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/console/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "hotline1379")
    page.press("input[name=password]", "Enter")
    page.wait_for_load_state()


def _header_colour(page: Any) -> str:
    return str(page.eval_on_selector("header", "e => getComputedStyle(e).backgroundColor"))


@pytest.mark.browser
def test_every_page_works_without_inline_script_or_style(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
) -> None:
    page = browser_page
    refused: list[str] = []
    page.on(
        "console", lambda message: refused.append(message.text) if "Security Policy" in message.text else None
    )
    live_server.app.config["SUPERVISOR_REFRESH_SECONDS"] = 1
    with live_server.app.app_context():
        reference = db.session.scalars(select(Ticket.reference)).first()
        consultant_id = db.session.scalar(select(User.id).where(User.role == "consultant"))
        db.session.remove()
    url = live_server.url

    page.goto(f"{url}/console/login")
    assert _header_colour(page) == "rgb(20, 61, 107)"  # console.css applied
    _log_in(page, live_server, "supervisor")
    assert page.url == f"{url}/supervisor/"
    assert _header_colour(page) == "rgb(20, 61, 107)"  # the one header, its header.css applied
    radius = page.eval_on_selector("section.card", "e => getComputedStyle(e).borderTopLeftRadius")
    assert radius == "8px"  # supervisor.css applied
    before = page.inner_text("#refreshed-at")
    expect(page.locator("#refreshed-at")).not_to_have_text(before, timeout=5_000)
    assert "연결 끊김" not in page.inner_text("#refreshed-at")  # live.js fetched the fragments
    for path in ("/supervisor/reports", "/console/", f"/console/tickets/{reference}", "/console/me"):
        response = page.goto(f"{url}{path}")
        assert response is not None and response.ok, path

    page.context.clear_cookies()
    _log_in(page, live_server, "admin")
    for path in ("/console/admin/users", f"/console/admin/users/{consultant_id}", "/supervisor/"):
        response = page.goto(f"{url}{path}")
        assert response is not None and response.ok, path
    assert refused == []
