"""A real server on loopback and a real browser (Debian's chromium through Playwright) for end-to-end tests.

Used by the browser tests of every page a person uses. The server runs the whole app in a thread on its
own copy of a migrated SQLite file with the demo data; the browser is never downloaded: /usr/bin/chromium
or nothing. The demo database and chromium are made once per session; each test gets its own server,
database copy and browser context.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from ivr.app import create_app
from tickets import demo
from tickets.clock import frozen
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
SIZES = {"desktop": {"width": 1366, "height": 900}, "phone": {"width": 390, "height": 844}}
PHONE = SIZES["phone"]


def fits_the_width(page: Any) -> bool:
    """Nothing to scroll sideways to, once the page's stylesheets have loaded.

    A URL matches as soon as the new page commits; measured before its stylesheets arrive, an unstyled
    table is wider than a phone. On a loaded CI machine that happened.
    """
    page.wait_for_load_state("load")
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file with the demo data, seeded at the tests' NOW: built once per session (per
    xdist worker), then copied for each live server, so every browser test starts from the same data."""
    path = tmp_path_factory.mktemp("live") / "demo.sqlite3"
    build_demo_database(path)
    return path


def build_demo_database(path: Path) -> None:
    """Migrate a new SQLite file at `path` and seed the demo data into it at the tests' NOW."""
    from tests.conftest import NOW, test_config

    database_url = f"sqlite:///{path}"
    engine = make_engine(database_url)
    upgrade(engine)
    engine.dispose()
    config = test_config(database_url)
    app = create_app(config)
    with frozen(NOW), app.app_context(), db.transaction() as session:
        demo.seed(session, config)
    db.of(app).engine.dispose()


def _copy_sqlite(source: Path, target: Path) -> None:
    # SQLite's own backup, not a file copy: it carries whatever still sits in the write-ahead log.
    with closing(sqlite3.connect(source)) as original, closing(sqlite3.connect(target)) as copy:
        original.backup(copy)


@pytest.fixture
def live_server(demo_database: Path, tmp_path: Path) -> Iterator[LiveServer]:
    """The whole app serving a fresh copy of the demo database: a test may change anything."""
    from tests.conftest import test_config

    path = tmp_path / "live.sqlite3"
    _copy_sqlite(demo_database, path)
    with serving(create_app(test_config(f"sqlite:///{path}"))) as live:
        yield live


@contextmanager
def serving(app: Flask) -> Iterator[LiveServer]:
    """`app` on a free loopback port in a thread; stopped, and its connections closed, on the way out."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        db.of(app).engine.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One chromium per session (per xdist worker): starting it costs more than most browser tests."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("HOTLINE_TEST_BROWSER") == "required":
            pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium", pytrace=False)
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); CI requires it")
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def browser_page(browser: Any) -> Iterator[Any]:
    """A page in a new browser context: no cookie, storage or cache is left from another test."""
    context = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul", accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        yield page
    finally:
        context.close()
