"""One catalogue of names (tickets.labels): a status, the general pool and the SMS brand read the same
wherever a person meets them."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from callflows.prompts import confirmation_sms
from tests.conftest import NOW
from tickets import auth, clock, queue
from tickets.db import db
from tickets.labels import GENERAL_NAME, SMS_PREFIX, STATUS_NAMES
from tickets.ticket_config import GENERAL_FIELD


def _log_in(client: Any, user: Any) -> None:
    db.session.commit()  # keep the test's rows: a request rolls back only its own changes
    with client.session_transaction() as cookie:
        cookie.update(auth.session_for(user, clock.now()))


def _export(client: Any) -> str:
    first, last = (NOW - timedelta(days=1)).date(), (NOW + timedelta(days=1)).date()
    response = client.get(f"/supervisor/export/tickets.csv?first={first}&last={last}&reason=test")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_pool_ticket_has_one_status_name_on_the_console_and_in_the_dashboards_export(
    client, make_user, make_ticket
) -> None:
    boss = make_user("boss", role="supervisor", fields=())
    ticket = make_ticket(GENERAL_FIELD)
    assert ticket.status == "new" and ticket.assignee is None
    _log_in(client, boss)
    page = client.get(f"/console/tickets/{ticket.reference}").get_data(as_text=True)
    assert f'<small id="status">{STATUS_NAMES["new"]}</small>' in page
    exported = next(line for line in _export(client).splitlines() if ticket.reference in line)
    assert f",{STATUS_NAMES['new']}," in exported


def test_the_general_pool_has_one_name_for_the_caller_the_console_and_the_dashboard(
    client, config, make_user, make_ticket
) -> None:
    boss = make_user("boss", role="supervisor", fields=())
    ticket = make_ticket(GENERAL_FIELD)
    _log_in(client, boss)
    page = client.get(f"/console/tickets/{ticket.reference}").get_data(as_text=True)
    exported = next(line for line in _export(client).splitlines() if ticket.reference in line)
    sms = confirmation_sms(config.flow, "ko", ticket.reference, GENERAL_FIELD)
    for shown in (page, exported, sms):
        assert GENERAL_NAME in shown
    assert "일반 상담" not in sms and "분류 필요" not in page


def test_every_sms_a_company_receives_carries_the_one_brand(config, make_ticket) -> None:
    for language in ("ko", "en"):
        ticket = make_ticket(language=language)
        texts = (
            confirmation_sms(config.flow, language, ticket.reference, "it"),
            queue.unreached_sms_text(ticket, 3, "1379"),
        )
        for text in texts:
            assert text.startswith(SMS_PREFIX[language] + " "), text
