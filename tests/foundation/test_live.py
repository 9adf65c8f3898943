"""The live-server and browser fixtures work: a real chromium loads /healthz from a real server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.live import LiveServer, browser_page, live_server  # noqa: F401  (fixtures)


@pytest.mark.browser
def test_chromium_reads_healthz_from_a_live_server(live_server: LiveServer, browser_page: Any) -> None:  # noqa: F811
    browser_page.goto(f"{live_server.url}/healthz")
    body = json.loads(browser_page.inner_text("body"))
    assert body["database"] == "ok" and body["status"] == "degraded"  # no scheduler runs here
