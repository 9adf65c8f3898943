"""Wrong API tokens count against the client address, like wrong passwords: an address that keeps trying
tokens is refused for a while, whatever it sends, while everyone else goes on working."""

from __future__ import annotations

from typing import Any

from tickets import accounts
from tickets.db import db
from tickets.ticket_config import LoginConfig

GUESSER, OFFICE = "203.0.113.9", "198.51.100.20"


def _queue(client: Any, token: str, address: str) -> Any:
    return client.get(
        "/api/v1/queue", headers={"Authorization": f"Bearer {token}"}, environ_base={"REMOTE_ADDR": address}
    )


def test_an_address_guessing_tokens_is_refused_until_its_window_ends(
    client: Any, make_user: Any, session: Any, clock: Any
) -> None:
    token = accounts.issue_token(session, make_user("it-kim"), "laptop")
    db.session.commit()
    limits = LoginConfig()
    for n in range(limits.failures_per_address):
        assert _queue(client, f"h1379_guess{n}", GUESSER).status_code == 401
    refused = _queue(client, token, GUESSER)  # even a real token: the address used up its tries
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) > 0
    assert refused.get_json()["error"]["code"] == "too_many_failures"
    assert _queue(client, token, OFFICE).status_code == 200
    clock.advance(minutes=limits.throttle_minutes)
    assert _queue(client, token, GUESSER).status_code == 200


def test_requests_without_a_token_are_not_counted(client: Any) -> None:
    for _ in range(LoginConfig().failures_per_address + 1):
        assert client.get("/api/v1/queue", environ_base={"REMOTE_ADDR": GUESSER}).status_code == 401
