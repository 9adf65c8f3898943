"""Missed calls stay out of the 3-day compliance figures and are reported on their own line."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import Flask
from sqlalchemy.orm import Session

from supervisor import reports
from supervisor.reports import Period
from tests.supervisor.test_dashboard import _log_in, _user
from tickets.clock import FrozenClock
from tickets.models import Ticket

NOW = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def _ticket(
    session: Session, reference: str, *, missed: bool, due: datetime, called_back: datetime | None
) -> None:
    created = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    session.add(
        Ticket(
            reference=reference,
            field="general" if missed else "it",
            status="new" if called_back is None else "resolved",
            incomplete=missed,
            missed_call=missed,
            created_at=created,
            updated_at=created,
            sla_due_at=due,
            first_attempt_at=called_back,
            resolved_at=called_back,
        )
    )


def _history(session: Session) -> None:
    start = datetime(2026, 11, 20, 1, 0, tzinfo=UTC)
    _ticket(session, "1000-0001", missed=False, due=start + 3 * DAY, called_back=start + DAY)  # met
    _ticket(session, "1000-0002", missed=False, due=start + 3 * DAY, called_back=None)  # breached by NOW
    _ticket(session, "1000-0003", missed=True, due=start + DAY, called_back=start + DAY / 2)  # in time
    _ticket(session, "1000-0004", missed=True, due=start + DAY, called_back=None)  # late
    _ticket(session, "1000-0005", missed=True, due=start + DAY, called_back=start + 2 * DAY)  # late
    session.flush()


def test_missed_calls_have_their_own_figures_and_leave_compliance_alone(session: Session) -> None:
    _history(session)
    report = reports.build_report(session, Period(date(2026, 11, 20), date(2026, 11, 27)), NOW, ())
    assert (report.compliance.met, report.compliance.breached) == (1, 1)
    assert report.missed_calls == reports.MissedCalls(received=3, called_back_in_time=1, late=2)
    (day,) = [d for d in report.days if d.day == "2026-11-20"]
    assert (day.met, day.breached) == (1, 1)


def test_the_reports_page_shows_missed_calls_as_their_own_line(
    app: Flask, session: Session, clock: FrozenClock
) -> None:
    clock.move_to(NOW)
    _history(session)
    supervisor = _user(session, "boss", "supervisor")
    session.commit()
    client: Any = app.test_client()
    _log_in(client, supervisor)
    query = "first=2026-11-20&last=2026-11-27"
    data = client.get(f"/supervisor/reports.json?{query}").get_json()
    assert data["missed_calls"] == {"received": 3, "called_back_in_time": 1, "late": 2}
    assert data["sla_compliance"]["met"] == 1 and data["sla_compliance"]["breached"] == 1
    page = client.get(f"/supervisor/reports?{query}").get_data(as_text=True)
    assert re.search(r'data-figure="missed-calls">3<', page)
