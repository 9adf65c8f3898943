"""Admins and auditors search the access log in the console, export it (logged), and sign off the monthly
check; nobody else gets in."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from tests.spreadsheet import rows_as_shown
from tests.tickets.test_console_auth import _csrf, login
from tickets import access_log
from tickets.access_log import AccessLogEntry, AccessReview
from tickets.db import db


def test_only_admins_and_auditors_see_the_log(client, make_user) -> None:
    make_user("it-kim")
    login(client, "it-kim")
    assert client.get("/console/audit").status_code == 403
    make_user("audit-lee", role="auditor", fields=())
    login(client, "audit-lee")
    assert client.get("/console/audit").status_code == 200
    assert client.get("/console/").status_code == 403  # read-only: no tickets


def test_an_auditor_searches_by_number_and_the_export_is_itself_logged(
    client, make_user, make_ticket, session
) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket(callback_number="+821077770001")
    other = make_ticket(callback_number="+821077770002")
    access_log.record(session, actor=kim, action="view", subjects=[ticket.reference])
    access_log.record(session, actor=kim, action="view", subjects=[other.reference])
    make_user("audit-lee", role="auditor", fields=())
    login(client, "audit-lee")
    page = client.get("/console/audit?subject=010-7777-0001").get_data(as_text=True)
    assert ticket.reference in page and other.reference not in page
    searched = session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id.desc())).first()
    assert (searched.actor_name, searched.subjects) == (
        "audit-lee",
        ["010-****-0001"],
    )  # the search is logged
    assert client.get("/console/audit/export.csv?user=it-kim").status_code == 400  # no reason, no file
    exported = client.get("/console/audit/export.csv?user=it-kim&reason=분기 점검")
    rows = rows_as_shown(exported.get_data())
    assert {r[5] for r in rows[1:]} == {ticket.reference, other.reference}
    logged = session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id.desc())).first()
    assert (logged.action, logged.reason, logged.actor_name) == ("download", "분기 점검", "audit-lee")


def test_the_monthly_check_lists_the_unusual_and_keeps_the_sign_off(
    client, make_user, make_ticket, session
) -> None:
    kim = make_user("it-kim")
    bio = make_ticket("bio")  # outside it-kim's field
    night = datetime(2026, 10, 14, 14, 0, tzinfo=UTC)  # 23:00 in Seoul, a Wednesday
    day = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)  # 11:00 in Seoul
    access_log.record(session, actor=kim, action="view", subjects=[bio.reference], at=night)
    access_log.record(session, actor=kim, action="play", subjects=[bio.reference], at=day)
    access_log.record(session, actor=kim, action="download", subjects=[], reason="보고", at=day)
    make_user("audit-lee", role="auditor", fields=())
    login(client, "audit-lee")
    page = client.get("/console/audit/review?month=2026-10").get_data(as_text=True)
    for kind in ("off_hours", "played_by_other", "download"):
        assert f'data-kind="{kind}"' in page
    token = _csrf(page.encode())
    client.post("/console/audit/review", data={"month": "2026-10", "note": "확인함", "csrf_token": token})
    review = db.session.get(AccessReview, "2026-10")
    assert review is not None and (review.signed_by, review.findings, review.note) == (
        "audit-lee",
        3,
        "확인함",
    )
    assert "확인 서명: audit-lee" in client.get("/console/audit/review?month=2026-10").get_data(as_text=True)


def test_many_tickets_outside_ones_fields_are_flagged_above_the_threshold(
    client, make_user, make_ticket, session, app
) -> None:
    kim = make_user("it-kim")
    threshold = app.config["HOTLINE"].privacy.outside_fields_threshold
    day = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)
    tickets = [make_ticket("bio") for _ in range(threshold + 1)]
    for ticket in tickets[:threshold]:
        access_log.record(session, actor=kim, action="view", subjects=[ticket.reference], at=day)
    make_user("audit-lee", role="auditor", fields=())
    login(client, "audit-lee")
    assert 'data-kind="outside_fields"' not in client.get("/console/audit/review?month=2026-10").get_data(
        as_text=True
    )
    access_log.record(session, actor=kim, action="view", subjects=[tickets[-1].reference], at=day)
    db.session.commit()
    assert 'data-kind="outside_fields"' in client.get("/console/audit/review?month=2026-10").get_data(
        as_text=True
    )
