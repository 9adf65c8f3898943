"""The access log (접속기록): every view, play, change and download leaves its row, and the rows cannot be
changed or removed unnoticed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete, select, text, update
from sqlalchemy.exc import DBAPIError

from ivr.cli import cli
from tests.spreadsheet import rows_as_shown
from tests.tickets.test_console_auth import login
from tickets import access_chain, access_log
from tickets.access_log import AccessLogEntry, AppendOnlyError
from tickets.db import db

TWILIO_RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Recordings/RE" + "1" * 32
BROWSER = {"User-Agent": "Mozilla/5.0 (test)"}


def _rows(session: Any) -> list[AccessLogEntry]:
    return list(session.scalars(select(AccessLogEntry).order_by(AccessLogEntry.id)))


def _last(session: Any) -> AccessLogEntry:
    return _rows(session)[-1]


def test_a_ticket_page_view_leaves_who_when_where_and_whose(client, make_user, make_ticket, session) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket(callback_number="+821098765432")
    login(client, "it-kim")
    page = client.get(
        f"/console/tickets/{ticket.reference}", headers=BROWSER, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    assert page.status_code == 200
    row = _last(session)
    assert (row.actor_id, row.actor_name, row.action) == (kim.id, "it-kim", "view")
    assert row.subjects == [ticket.reference]
    assert row.address == "10.1.2.3" and row.user_agent == "Mozilla/5.0 (test)"
    assert row.at.tzinfo is not None


def test_the_ticket_json_and_a_recording_play_each_leave_their_row(
    client, make_user, make_ticket, session
) -> None:
    kim = make_user("it-kim")
    token = _token(session, kim)
    ticket = make_ticket()
    ticket.recording_url = TWILIO_RECORDING
    db.session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/tickets/{ticket.reference}", headers=auth).status_code == 200
    viewed = _last(session)
    assert (viewed.action, viewed.subjects, viewed.actor_name) == ("view", [ticket.reference], "it-kim")
    played = client.get(f"/api/v1/tickets/{ticket.reference}/recording", headers=auth)
    assert played.status_code == 200 and played.mimetype.startswith("audio/")
    row = _last(session)
    assert (row.action, row.subjects, row.actor_name) == ("play", [ticket.reference], "it-kim")


def _token(session: Any, user: Any) -> str:
    from tickets import accounts

    return accounts.issue_token(session, user)


def test_a_change_is_logged_and_a_refused_one_is_not(client, make_user, make_ticket, session) -> None:
    make_user("it-kim")
    ticket = make_ticket()
    login(client, "it-kim")
    before = len(_rows(session))
    token = _csrf(client.get(f"/console/tickets/{ticket.reference}").data)
    client.post(f"/console/tickets/{ticket.reference}/notes", data={"text": "회신 예정", "csrf_token": token})
    rows = _rows(session)[before:]
    assert [(r.action, r.detail.get("what")) for r in rows] == [("view", None), ("input", "note")]


def _csrf(page: bytes) -> str:
    import re

    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1).decode()


def _supervisor(client: Any, make_user: Any) -> None:
    make_user("boss", role="supervisor", fields=())
    login(client, "boss")


def test_an_export_asks_for_a_reason_then_logs_it_with_masked_numbers(
    client, make_user, make_ticket, session
) -> None:
    ticket = make_ticket(callback_number="+821098765432")
    _supervisor(client, make_user)
    before = len(_rows(session))
    asked = client.get("/supervisor/export/tickets.csv?first=2026-11-27&last=2026-11-27")
    assert asked.status_code == 400 and 'name="reason"' in asked.get_data(as_text=True)
    assert not asked.get_data(as_text=True).startswith("\ufeff") and len(_rows(session)) == before
    got = client.get("/supervisor/export/tickets.csv?first=2026-11-27&last=2026-11-27&reason=월간 보고")
    lines = rows_as_shown(got.get_data())
    assert ticket.reference in {line[0] for line in lines}
    row = _last(session)
    assert (row.action, row.reason, row.actor_name) == ("download", "월간 보고", "boss")
    assert ticket.reference in row.subjects and "010-****-5432" in row.subjects
    assert not any("9876" in s for s in row.subjects)


def test_rows_cannot_be_changed_or_removed_through_the_app(make_user, session) -> None:
    entry = access_log.record(session, actor=None, action="view", subjects=["1234-5678"])
    entry.reason = "rewritten"
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    entry = access_log.record(session, actor=None, action="view", subjects=["1234-5678"])
    session.delete(entry)
    with pytest.raises(AppendOnlyError):
        session.flush()
    session.rollback()
    with pytest.raises(AppendOnlyError):
        session.execute(update(AccessLogEntry).values(reason="x"))
    with pytest.raises(AppendOnlyError):
        session.execute(delete(AccessLogEntry))


def test_postgresql_refuses_an_ordinary_delete_or_update(session) -> None:
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("the trigger is PostgreSQL's")
    access_log.record(session, actor=None, action="view", subjects=["1234-5678"])
    for statement in ("DELETE FROM access_log", "UPDATE access_log SET reason = 'x'", "TRUNCATE access_log"):
        with pytest.raises(DBAPIError, match="append-only"), session.begin_nested():
            session.execute(text(statement))


def _tamper(session: Any, entry_id: int) -> None:
    """An attacker with database access rewrites a row (on PostgreSQL a superuser, trigger switched off)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE access_log DISABLE TRIGGER access_log_append_only"))
    session.execute(text("UPDATE access_log SET actor_name = 'nobody' WHERE id = :id"), {"id": entry_id})
    if postgres:
        session.execute(text("ALTER TABLE access_log ENABLE TRIGGER access_log_append_only"))
    session.expire_all()


def test_audit_verify_names_the_first_tampered_row(app, session) -> None:
    entries = [
        access_log.record(session, actor=None, action="view", subjects=[f"0000-000{i}"]) for i in range(4)
    ]
    db.session.commit()
    runner = app.test_cli_runner()
    intact = runner.invoke(cli, ["audit", "verify"])
    assert intact.exit_code == 0, intact.output
    _tamper(session, entries[2].id)
    broken = runner.invoke(cli, ["audit", "verify"])
    assert broken.exit_code == 1
    assert f"broken at row {entries[2].id}" in broken.output


def test_audit_list_finds_rows_by_number_and_user(app, make_user, make_ticket, session) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket(callback_number="+821055550001")
    other = make_ticket(callback_number="+821055550002")
    access_log.record(session, actor=kim, action="view", subjects=[ticket.reference])
    access_log.record(session, actor=kim, action="view", subjects=[other.reference])
    db.session.commit()
    import json

    out = app.test_cli_runner().invoke(cli, ["audit", "list", "--subject", "010-5555-0001", "--json"])
    assert out.exit_code == 0, out.output
    assert [r["subjects"] for r in json.loads(out.output)] == [[ticket.reference]]
    out = app.test_cli_runner().invoke(cli, ["audit", "list", "--user", "nobody", "--json"])
    assert json.loads(out.output) == []


def test_a_purge_goes_through_its_checkpoint_and_the_chain_still_verifies(session, clock) -> None:
    from datetime import timedelta

    old_ids = [
        access_log.record(session, actor=None, action="view", subjects=["0000-0001"]).id for _ in range(3)
    ]
    clock.advance(days=800)
    kept = access_log.record(session, actor=None, action="view", subjects=["0000-0002"])
    kept_id, cutoff = kept.id, kept.at - timedelta(days=1)
    assert access_chain.purge(session, cutoff, kept.at.date()) == old_ids[-1]
    assert access_chain.purge(session, cutoff, kept.at.date()) == 0  # once a day
    session.expire_all()
    assert session.scalars(select(AccessLogEntry.id)).all() == [kept_id]
    assert access_chain.verify(session).intact
