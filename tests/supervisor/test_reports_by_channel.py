"""Supervisors' reports split by channel: requests by phone and on the web, each with its SLA outcome, in the
report, its JSON and its page."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from supervisor import reports
from supervisor.reports import Period
from tests.conftest import NOW
from tests.supervisor.test_dashboard import _log_in, supervisor  # noqa: F401  (supervisor is a fixture)
from tests.tickets.conftest import make_ticket  # noqa: F401  (fixtures)
from tickets.intake import WebAnswers
from tickets.models import Ticket, User

TODAY = date(2026, 11, 27)  # NOW in Seoul


def _three_tickets(make: Callable[..., Ticket]) -> None:
    make()  # by phone, still open
    done = make()
    done.status, done.resolved_at = "resolved", NOW + timedelta(hours=1)  # by phone, in time
    make(web=WebAnswers("한빛정밀", "김민수", "PLC 문의"))  # on the web, still open


def test_the_report_counts_each_channel(session: Session, make_ticket: Callable[..., Ticket]) -> None:  # noqa: F811
    _three_tickets(make_ticket)
    session.flush()
    report = reports.build_report(session, Period(TODAY, TODAY), NOW + timedelta(days=4), ())
    phone, web = report.by_channel["phone"], report.by_channel["web"]
    assert (phone.received, phone.compliance.met, phone.compliance.breached) == (2, 1, 1)
    assert (web.received, web.compliance.met, web.compliance.breached) == (1, 0, 1)
    quiet = reports.build_report(session, Period(date(2026, 10, 1), date(2026, 10, 2)), NOW, ())
    assert quiet.by_channel["web"].received == 0  # listed with zeros, not left out


def test_the_reports_json_and_page_split_by_channel(
    session: Session,
    client: Any,
    supervisor: User,  # noqa: F811
    make_ticket: Callable[..., Ticket],  # noqa: F811
) -> None:
    _three_tickets(make_ticket)
    session.commit()
    _log_in(client, supervisor)
    data = client.get(f"/supervisor/reports.json?first={TODAY}&last={TODAY}").get_json()
    assert data["by_channel"]["phone"]["received"] == 2 and data["by_channel"]["web"]["received"] == 1
    page = client.get(f"/supervisor/reports?first={TODAY}&last={TODAY}").get_data(as_text=True)
    assert 'data-channel="web"><td>웹 신청</td>' in page and "접수 경로별" in page
