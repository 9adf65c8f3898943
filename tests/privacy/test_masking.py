"""Numbers masked as 010-****-5678 in lists; in full only on the ticket, to who works it, while it is open."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from sqlalchemy import update
from sqlalchemy.orm import Session

from tests.conftest import NOW
from tests.tickets.test_console_auth import login
from tickets import accounts
from tickets.db import db
from tickets.models import OutboxMessage, Ticket, User
from tickets.outbox import add_message_once

NUMBER = "+821012345678"


def api(client: Any, session: Session, user: User, path: str) -> Any:
    token = accounts.issue_token(session, user)
    db.session.commit()
    response = client.get(f"/api/v1{path}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.get_data(as_text=True)
    return response


def test_api_lists_mask_numbers_and_the_ticket_shows_them_only_to_who_works_it_while_open(
    client: Any, session: Session, make_user: Callable[..., User], make_ticket: Callable[..., Ticket]
) -> None:
    kim, park = make_user("it-kim"), make_user("it-park")
    ticket = make_ticket(callback_number=NUMBER)
    ticket.assignee_id, ticket.status = kim.id, "assigned"
    reference = ticket.reference
    for path in ("/queue", "/tickets"):
        listed = api(client, session, kim, path)
        assert NUMBER not in listed.get_data(as_text=True)
        [row] = [t for t in listed.get_json()["tickets"] if t["reference"] == reference]
        assert row["callback_number"] == "010-****-5678" and row["caller_number"] == "010-****-5678"
    assert api(client, session, kim, f"/tickets/{reference}").get_json()["callback_number"] == NUMBER
    # Another consultant of the field sees the ticket, but it is not theirs to work.
    assert NUMBER not in api(client, session, park, f"/tickets/{reference}").get_data(as_text=True)
    session.get_one(Ticket, ticket.id).status = "closed"
    assert NUMBER not in api(client, session, kim, f"/tickets/{reference}").get_data(as_text=True)


def test_the_console_ticket_page_masks_numbers_once_the_ticket_is_finished(
    client: Any, session: Session, make_user: Callable[..., User], make_ticket: Callable[..., Ticket]
) -> None:
    kim = make_user("it-kim")
    ticket = make_ticket(callback_number=NUMBER)
    ticket.assignee_id, ticket.status = kim.id, "assigned"
    reference, ticket_id = ticket.reference, ticket.id
    login(client, "it-kim")
    assert "010-1234-5678" in client.get(f"/console/tickets/{reference}").get_data(as_text=True)
    session.get_one(Ticket, ticket_id).status = "resolved"
    db.session.commit()
    page = client.get(f"/console/tickets/{reference}").get_data(as_text=True)
    assert "010-****-5678" in page and "1234" not in page.split('id="callback-number"')[1][:80]


def test_dead_sms_on_the_dashboard_show_the_recipient_masked(
    app: Flask, client: Any, session: Session, make_user: Callable[..., User]
) -> None:
    make_user("sup-han", role="supervisor", fields=("it",))
    add_message_once(session, key="k", channel="sms", recipient=NUMBER, payload={"body": "x"}, now=NOW)
    session.execute(
        update(OutboxMessage).values(status="dead", last_error=f"The To number {NUMBER} is invalid")
    )
    login(client, "sup-han")
    for path in ("/supervisor/", "/supervisor/live.json?fragments=1"):
        text = client.get(path).get_data(as_text=True)
        assert "010-****-5678" in text and "1234" not in text
