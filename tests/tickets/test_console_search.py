"""Finding tickets from the console header: by reference, by a number typed any way, by the words of a note;
filtered by status, field and deadline, in a URL that can be bookmarked; a number search is access-logged."""

from __future__ import annotations

import html
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.tickets.test_console_auth import _csrf, login
from tickets import events
from tickets.access_log import AccessLogEntry
from tickets.db import db


def _references(page: bytes) -> set[str]:
    text = page.decode()
    start = text.index('id="results"')
    return {part.split('"')[0] for part in text[start:].split('data-reference="')[1:]}


@pytest.mark.parametrize("typed", ["010-9876-5432", "+82 10 9876 5432", "01098765432", "+821098765432"])
def test_a_number_typed_any_way_finds_the_callers_tickets(client, make_user, make_ticket, typed) -> None:
    make_user("it-kim")
    theirs = make_ticket(callback_number="+821098765432")
    make_ticket(callback_number="+821011112222")
    login(client, "it-kim")
    page = client.get("/console/", query_string={"q": typed})
    assert _references(page.data) == {theirs.reference}


def test_a_number_search_writes_the_masked_number_to_the_access_log(client, make_user, make_ticket) -> None:
    make_user("it-kim")
    ticket = make_ticket(callback_number="+821098765432")
    login(client, "it-kim")
    client.get("/console/?q=010-9876-5432")
    rows = db.session.scalars(select(AccessLogEntry).where(AccessLogEntry.action == "view")).all()
    logged = [row for row in rows if "010-****-5432" in row.subjects]
    assert logged and ticket.reference in logged[-1].subjects
    assert all("+821098765432" not in row.subjects for row in rows)


def test_the_words_of_a_note_or_an_attempt_find_the_ticket(client, make_user, make_ticket, session) -> None:
    kim = make_user("it-kim")
    noted = make_ticket()
    events.record(session, noted, "note", by=kim, at=NOW, text="금형 도면을 받기로 함")
    make_ticket()
    login(client, "it-kim")
    assert _references(client.get("/console/?q=도면").data) == {noted.reference}
    assert _references(client.get(f"/console/?q={noted.reference.replace('-', '')}").data) == {
        noted.reference
    }
    assert _references(client.get("/console/?q=100%25").data) == set()  # % is a character, not a wildcard


def test_filters_by_deadline_and_field_keep_other_fields_out(client, make_user, make_ticket) -> None:
    make_user("it-kim", fields=("it", "bio"))
    late = make_ticket("it", now=NOW - timedelta(days=10))
    soon = make_ticket("it", now=NOW - timedelta(days=2, hours=20))
    bio = make_ticket("bio", now=NOW - timedelta(days=10))
    fresh = make_ticket("it")
    assert late.sla_due_at < NOW < soon.sla_due_at < NOW + timedelta(hours=24) < fresh.sla_due_at
    login(client, "it-kim")
    assert _references(client.get("/console/?due=overdue&field=it").data) == {late.reference}
    assert _references(client.get("/console/?due=overdue").data) == {late.reference, bio.reference}
    assert _references(client.get("/console/?due=24h").data) == {soon.reference}
    page = client.get("/console/?due=24h").data.decode()
    assert 'class="due-soon"' in page  # amber, not the red of overdue


def test_a_consultant_never_finds_another_fields_ticket(client, make_user, make_ticket) -> None:
    make_user("it-kim", fields=("it",))
    bio = make_ticket("bio", callback_number="+821098765432")
    login(client, "it-kim")
    assert bio.reference not in client.get("/console/?q=010-9876-5432").data.decode()


def test_hold_needs_a_reason_and_resolve_works_straight_from_assigned(client, make_user, make_ticket) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket()
    assert ticket.assignee_id == kim.id and ticket.status == "assigned"
    login(client, "it-kim")
    url = f"/console/tickets/{ticket.reference}"
    token = _csrf(client.get(url).data)
    hold = {"status": "waiting", "csrf_token": token}
    assert "사유를 적어" in client.post(f"{url}/status", data=hold, follow_redirects=True).data.decode()
    resolved = client.post(
        f"{url}/status",
        data={"status": "resolved", "resolution_type": "advice", "summary": "안내함", "csrf_token": token},
        follow_redirects=True,
    ).data.decode()
    assert '<small id="status">해결</small>' in resolved


def test_the_consultant_writes_the_company_name_and_finds_it_later(client, make_user, make_ticket) -> None:
    make_user("it-kim")
    ticket = make_ticket()
    make_ticket()
    login(client, "it-kim")
    url = f"/console/tickets/{ticket.reference}"
    token = _csrf(client.get(url).data)
    page = client.post(
        f"{url}/company", data={"csrf_token": token, "company": " 한빛정밀 "}, follow_redirects=True
    )
    text = html.unescape(page.data.decode())
    assert 'value="한빛정밀"' in text and "회사명을 '한빛정밀'(으)로 적었습니다." in text
    assert _references(client.get("/console/?q=한빛").data) == {ticket.reference}
