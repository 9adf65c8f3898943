"""A supervisor reads the reports and the dashboard in a real browser, on a desk (1366×900) and a phone
(390×844): every chart label is at least 11 px on screen, every bar is in view, and nothing stands empty: a
period with nothing to chart says so in a sentence, and the cards fill each row they start. Every control
and every link standing alone is a 44 px tap target, and a reference reads on one line."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from scheduler.sweep import AlertSettings, sweep
from supervisor.dashboard import NOTHING_DECIDED, NOTHING_RECEIVED
from tests.axe import severe_violations
from tests.live import SIZES, LiveServer, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)
from tests.tickets.test_console_workday_browser import log_in
from tickets.clock import FrozenClock, now
from tickets.db import db

# Per chart on show: the size on screen of each label (its font size times the drawing's scale, which
# `meet` makes the smaller of the two axes' scales), how many drawings of it show, and whether the drawing
# and every bar lie inside the card: a bar scrolled out of sight is as good as missing.
CHARTS_ON_SCREEN = """() => [...document.querySelectorAll('main section')].filter(
    section => section.querySelector('svg.chart')).map(section => {
  const card = section.getBoundingClientRect();
  const shown = [...section.querySelectorAll('svg.chart')].filter(
    svg => svg.getBoundingClientRect().width > 0);
  const inside = r => r.left >= card.left - 0.5 && r.right <= card.right + 0.5;
  return {
    card: section.querySelector('h2').textContent,
    shown: shown.length,
    labels: shown.flatMap(svg => {
      const box = svg.getBoundingClientRect(), view = svg.viewBox.baseVal;
      const scale = Math.min(box.width / view.width, box.height / view.height);
      return [...svg.querySelectorAll('text')].map(t => scale * parseFloat(getComputedStyle(t).fontSize));
    }),
    in_view: shown.every(svg => inside(svg.getBoundingClientRect())
      && [...svg.querySelectorAll('rect.bar')].every(bar => inside(bar.getBoundingClientRect()))),
    bars: shown.flatMap(svg => [...svg.querySelectorAll('rect.bar')]).filter(
      bar => bar.getBoundingClientRect().height > 0).length,
  };
})"""

# Cards side by side fill the row they share: no blank beside the last one. Table cells hold something.
EMPTY_PLACES = """() => {
  const gaps = [];
  for (const grid of document.querySelectorAll('main .grid')) {
    const outer = grid.getBoundingClientRect();
    const rows = new Map();
    for (const card of grid.children) {
      const r = card.getBoundingClientRect();
      const key = Math.round(r.top);
      rows.set(key, Math.max(rows.get(key) ?? -Infinity, r.right));
    }
    for (const [top, right] of rows) {
      if (right < outer.right - 1) gaps.push(`row at ${top}: ${outer.right - right}px blank`);
    }
  }
  const cells = [...document.querySelectorAll('main td, main th')].filter(
    c => !c.textContent.trim() && !c.querySelector('input, select, button, audio, a'));
  return gaps.concat(cells.map(c => `empty cell in #${c.closest('table').id}`));
}"""


# Controls, and links not set in a table or a sentence, under 44 px high; references broken over lines.
SMALL_TARGETS = """() => [...document.querySelectorAll('button, select, input:not([type=hidden]), a[href]')]
  .filter(e => e.tagName !== 'A' || !e.closest('td, p, li'))
  .filter(e => { const r = e.getBoundingClientRect(); return r.width && r.height < 44; })
  .map(e => `${e.tagName} ${e.textContent.trim() || e.name}: ${e.getBoundingClientRect().height}px`)"""
BROKEN_REFERENCES = """() => [...document.querySelectorAll('main td a[href*="/console/tickets/"]')]
  .filter(a => a.getClientRects().length > 1 || a.getBoundingClientRect().height > 1.6 * parseFloat(
    getComputedStyle(a).lineHeight || getComputedStyle(a).fontSize))
  .map(a => a.textContent)"""


def _charts(page: Any) -> dict[str, dict[str, Any]]:
    return {chart["card"]: chart for chart in page.evaluate(CHARTS_ON_SCREEN)}


@pytest.fixture(params=list(SIZES))
def supervisor_page(
    request: pytest.FixtureRequest,
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
) -> Any:
    """The supervisor logged in, on a desk or a phone."""
    browser_page.set_viewport_size(SIZES[request.param])
    log_in(browser_page, live_server.url, "supervisor")
    return browser_page


@pytest.mark.browser
def test_charts_read_at_11_px_with_every_bar_in_view_and_no_empty_place(
    live_server: LiveServer,  # noqa: F811
    supervisor_page: Any,
    clock: FrozenClock,
) -> None:
    page = supervisor_page
    page.goto(f"{live_server.url}/supervisor/reports")  # the last 30 days: the demo tickets
    charts = _charts(page)
    assert set(charts) == {"일별 접수", "지원유형별 비중"}
    for chart in charts.values():
        assert chart["shown"] == 1, chart  # one drawing of each chart, the one that fits
        assert chart["labels"] and min(chart["labels"]) >= 11, chart
        assert chart["in_view"], chart
    assert charts["일별 접수"]["bars"] > 0
    # Nothing has been decided yet in the demo data: the compliance chart says so instead of a bare frame.
    expect(page.locator("#compliance-chart")).to_contain_text(NOTHING_DECIDED)
    assert page.locator("#compliance-chart svg").count() == 0
    assert page.evaluate(EMPTY_PLACES) == []
    assert page.evaluate(SMALL_TARGETS) == []
    assert fits_the_width(page) and severe_violations(page) == []

    clock.advance(hours=40)  # two demo tickets overdue, one due soon: the dashboard lists their alerts
    with live_server.app.app_context():
        assert sweep(db.transaction, AlertSettings.from_config(live_server.app.config["HOTLINE"]), now())
    log_in(page, live_server.url, "supervisor")  # the session of 40 hours ago has lapsed
    expect(page.locator("#pool")).to_be_visible()
    expect(page.locator("#alerts tbody tr")).to_have_count(3)
    assert page.evaluate(EMPTY_PLACES) == []
    assert page.evaluate(SMALL_TARGETS) == []
    assert page.evaluate(BROKEN_REFERENCES) == []


@pytest.mark.browser
def test_a_period_with_nothing_received_says_so_instead_of_empty_charts(
    live_server: LiveServer,  # noqa: F811
    supervisor_page: Any,
) -> None:
    page = supervisor_page
    page.goto(f"{live_server.url}/supervisor/reports?first=2025-01-01&last=2025-01-31")
    expect(page.locator('[data-figure="received"]')).to_have_text("0")
    assert page.locator("svg.chart").count() == 0  # no frame of grid lines with nothing in it
    expect(page.locator("#volume-chart")).to_contain_text(NOTHING_RECEIVED)
    expect(page.locator("#compliance-chart")).to_contain_text(NOTHING_DECIDED)
    expect(page.locator("#share-chart")).to_contain_text(NOTHING_RECEIVED)
    expect(page.locator("#split-empty")).to_have_text(NOTHING_RECEIVED)  # not a table of headers alone
    assert page.evaluate(EMPTY_PLACES) == []
    assert fits_the_width(page) and severe_violations(page) == []
