"""A real server on loopback and a real browser (Debian's chromium through Playwright) for end-to-end tests.

Used by the browser tests of every page a person uses. The server runs the whole app in a thread on a
migrated SQLite file with the demo data; the browser is never downloaded: /usr/bin/chromium or nothing.
"""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from ivr.app import create_app
from tickets import demo
from tickets.db import db, make_engine
from tickets.migrate import upgrade

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[LiveServer]:
    from tests.conftest import test_config

    database_url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    config = test_config(database_url)
    app = create_app(config)
    with app.app_context(), db.transaction() as session:
        demo.seed(session, config)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        if db.engine is not None:
            db.engine.dispose()


@pytest.fixture
def browser_page() -> Iterator[Any]:
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("HOTLINE_TEST_BROWSER") == "required":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI requires it")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", accept_downloads=True)
        page = context.new_page()
        page.set_default_timeout(10_000)
        try:
            yield page
        finally:
            context.close()
            browser.close()
