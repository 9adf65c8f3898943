"""Retake the "after" screenshots in docs/screenshots/: the queue, the ticket and the dashboard, each at a
desk (1366×900) and a phone (390×844), as the README shows them.

The same set-up as the browser tests (tests/live.py): the demo data on a fresh SQLite file, the clock
stopped at the tests' NOW, the app on loopback and Debian's chromium. The queue and the ticket are
it-kim's at NOW; the dashboard is the supervisor's 40 hours later, once the scheduler's sweep has
raised the alerts of the tickets no one closed: two overdue, one due soon (and recorded its heartbeat, as
the scheduler does, so its tile shows it running). Run from the repository root:

    .venv/bin/python docs/screenshots/take.py
"""

from __future__ import annotations

import logging
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import Browser, sync_playwright  # noqa: E402
from sqlalchemy import select  # noqa: E402

from ivr.app import create_app  # noqa: E402
from scheduler.heartbeat import record_sweep  # noqa: E402
from scheduler.sweep import AlertSettings, sweep  # noqa: E402
from tests.conftest import CHEAP_PASSWORD_HASH, NOW, test_config  # noqa: E402
from tests.live import CHROMIUM, CHROMIUM_ARGS, SIZES, build_demo_database, serving  # noqa: E402
from tests.tickets.test_console_workday_browser import log_in  # noqa: E402
from tickets import accounts  # noqa: E402
from tickets.clock import frozen  # noqa: E402
from tickets.db import db  # noqa: E402
from tickets.models import Ticket, User  # noqa: E402

OUT = Path(__file__).resolve().parent


def shoot(browser: Browser, url: str, username: str, landing: str, pages: dict[str, str]) -> None:
    """Log `username` in at each size and save each of `pages` (name: path, "" for the landing page)."""
    for size, viewport in SIZES.items():
        page = browser.new_context(locale="ko-KR", timezone_id="Asia/Seoul").new_page()
        page.set_viewport_size(viewport)
        log_in(page, url, username)
        page.wait_for_url(f"{url}{landing}")
        for name, path in pages.items():
            if path:
                page.goto(f"{url}{path}")
            page.screenshot(path=OUT / f"after-{name}-{size}.png", full_page=True)
        page.context.close()


def main() -> None:
    accounts.PASSWORD_HASH_METHOD = CHEAP_PASSWORD_HASH  # the demo logins, made in a second
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    with tempfile.TemporaryDirectory() as folder, frozen(NOW) as clock:
        path = Path(folder) / "demo.sqlite3"
        build_demo_database(path)
        config = test_config(f"sqlite:///{path}")
        app = create_app(config)
        with app.app_context():
            consultant = db.session.scalar(select(User).where(User.username == "it-kim"))
            reference = db.session.scalar(select(Ticket.reference).where(Ticket.assignee == consultant))
            db.session.remove()
        with serving(app) as live, sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            shoot(
                browser,
                live.url,
                "it-kim",
                "/console/",
                {"queue": "", "ticket": f"/console/tickets/{reference}"},
            )
            clock.advance(hours=40)
            with app.app_context():
                started = clock.at
                sweep(db.transaction, AlertSettings.from_config(config), clock.at)
                with db.transaction() as session:  # as the scheduler records it: the tile shows it alive
                    record_sweep(session, "scheduler", started, seconds=0.1)
            shoot(browser, live.url, "supervisor", "/supervisor/", {"dashboard": ""})
            browser.close()


if __name__ == "__main__":
    main()
