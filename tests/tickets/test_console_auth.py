"""Console login: hashed passwords, CSRF on every form, the throttle on guessing, roles, the cookie."""

from __future__ import annotations

import re

import pytest

from tickets import auth
from tickets.db import db
from tickets.ticket_config import LoginConfig

GUESSER, OFFICE = "203.0.113.9", "198.51.100.20"


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, "the form carries no CSRF token"
    return match.group(1).decode()


def login(client, username: str, password: str = "hotline1379"):
    db.session.commit()  # keep the test's rows: a refused request rolls back its own changes
    token = _csrf(client.get("/console/login").data)
    return client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": token}
    )


def test_login_then_the_queue_and_a_secure_cookie(client, make_user, app) -> None:
    user = make_user("it-kim")
    assert user.password_hash and "hotline1379" not in user.password_hash
    assert client.get("/console/").status_code == 302  # to the login page
    response = login(client, "it-kim")
    assert response.status_code == 302 and response.headers["Location"].endswith("/console/")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "내 대기열" in client.get("/console/").get_data(as_text=True)


def test_the_cookie_is_secure_behind_https(make_user) -> None:
    from ivr.app import create_app
    from tests.conftest import test_config

    app = create_app(test_config(PUBLIC_BASE_URL="https://hotline.example", TWILIO_AUTH_TOKEN="t"))
    assert app.config["SESSION_COOKIE_SECURE"] is True


def test_forms_without_the_csrf_token_are_refused(client, make_user, make_ticket) -> None:
    make_user("it-kim")
    ticket = make_ticket()
    db.session.commit()
    assert (
        client.post("/console/login", data={"username": "it-kim", "password": "hotline1379"}).status_code
        == 400
    )
    login(client, "it-kim")
    note = f"/console/tickets/{ticket.reference}/notes"
    assert client.post(note, data={"text": "hi"}).status_code == 400
    assert client.post(note, data={"text": "hi", "csrf_token": "forged"}).status_code == 400
    token = _csrf(client.get(f"/console/tickets/{ticket.reference}").data)
    assert client.post(note, data={"text": "hi", "csrf_token": token}).status_code == 303


def test_five_wrong_passwords_lock_the_name_from_that_address_only(session, make_user, clock) -> None:
    """Someone guessing at it-kim's password locks themself out, not it-kim working from elsewhere."""
    user = make_user("it-kim")
    limits = LoginConfig()
    for _ in range(limits.failures_per_username):
        with pytest.raises(auth.LoginError, match="올바르지 않습니다"):
            auth.authenticate(session, "it-kim", "wrong-password", clock(), address=GUESSER)
    clock.advance(minutes=5)
    with pytest.raises(auth.LoginLocked, match="10분 후"):
        auth.authenticate(session, "it-kim", "hotline1379", clock(), address=GUESSER)
    assert auth.authenticate(session, "it-kim", "hotline1379", clock(), address=OFFICE) is user
    clock.advance(minutes=limits.throttle_minutes)
    assert auth.authenticate(session, "it-kim", "hotline1379", clock(), address=GUESSER) is user


def test_a_lock_does_not_tell_which_names_exist(session, make_user, clock) -> None:
    make_user("it-kim")
    messages = {}
    for name, address in (("it-kim", "10.0.0.1"), ("nobody", "10.0.0.2")):
        for _ in range(LoginConfig().failures_per_username):
            with pytest.raises(auth.LoginError) as wrong:
                auth.authenticate(session, name, "wrong-password", clock(), address=address)
            assert not isinstance(wrong.value, auth.LoginLocked)
        with pytest.raises(auth.LoginLocked) as locked:
            auth.authenticate(session, name, "wrong-password", clock(), address=address)
        messages[name] = (str(wrong.value), str(locked.value))
    assert messages["it-kim"] == messages["nobody"]


def test_an_address_trying_many_names_is_locked_for_all_of_them(client, make_user) -> None:
    make_user("it-kim")
    client.environ_base["REMOTE_ADDR"] = GUESSER
    for n in range(LoginConfig().failures_per_address):
        assert login(client, f"guess-{n}", "wrong-password").status_code == 200
    response = login(client, "it-kim")  # the right password, but from an address that used up its tries
    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0
    assert "잠겼습니다" in response.get_data(as_text=True)
    client.environ_base["REMOTE_ADDR"] = OFFICE
    assert login(client, "it-kim").status_code == 302


def test_logging_in_rightly_does_not_reset_the_address_count(session, make_user, clock) -> None:
    """An attacker holding one account cannot log into it between guesses to keep guessing others."""
    make_user("it-kim")
    limits = LoginConfig()
    for n in range(limits.failures_per_address):
        if n % 4 == 0:
            auth.authenticate(session, "it-kim", "hotline1379", clock(), address=GUESSER)
        with pytest.raises(auth.LoginError):
            auth.authenticate(session, f"admin-{n}", "guess", clock(), address=GUESSER)
    with pytest.raises(auth.LoginLocked):
        auth.authenticate(session, "it-kim", "hotline1379", clock(), address=GUESSER)


def test_roles_and_fields_in_the_console(client, make_user, make_ticket) -> None:
    make_user("it-kim")
    make_user("bio-park", fields=("bio",))
    make_user("root", role="admin", fields=())
    ticket = make_ticket()
    db.session.commit()
    login(client, "root")
    assert client.get("/console/").status_code == 403
    client.post("/console/logout", data={"csrf_token": _csrf(client.get("/console/login").data)})
    login(client, "bio-park")
    assert client.get(f"/console/tickets/{ticket.reference}").status_code == 404


def test_a_login_link_never_sends_people_off_site(client, make_user) -> None:
    make_user("it-kim")
    db.session.commit()
    token = _csrf(client.get("/console/login").data)
    response = client.post(
        "/console/login?next=//evil.example/",
        data={"username": "it-kim", "password": "hotline1379", "csrf_token": token},
    )
    assert response.headers["Location"] == "/console/"


@pytest.mark.parametrize("role", ["supervisor", "admin"])
def test_supervisors_land_on_the_dashboard_and_see_its_link(client, make_user, role: str) -> None:
    make_user("boss", role=role, fields=("it",))
    response = login(client, "boss")
    assert response.status_code == 302 and response.headers["Location"] == "/supervisor/"
    assert client.get("/supervisor/").status_code == 200
    header = client.get("/console/login").get_data(as_text=True)
    assert '<a href="/supervisor/" data-home="supervisor.dashboard">감독 대시보드</a>' in header


def test_a_supervisor_following_a_link_still_lands_where_it_pointed(client, make_user, make_ticket) -> None:
    make_user("boss", role="supervisor", fields=("it",))
    ticket = make_ticket()
    db.session.commit()
    token = _csrf(client.get("/console/login").data)
    response = client.post(
        f"/console/login?next=/console/tickets/{ticket.reference}",
        data={"username": "boss", "password": "hotline1379", "csrf_token": token},
    )
    assert response.headers["Location"] == f"/console/tickets/{ticket.reference}"
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'data-home="supervisor.dashboard"' in page


def test_consultants_land_on_their_queue_without_the_dashboard_link(client, make_user) -> None:
    make_user("it-kim")
    response = login(client, "it-kim")
    assert response.headers["Location"] == "/console/"
    assert "data-home" not in client.get("/console/").get_data(as_text=True)


@pytest.mark.parametrize("proxies", [0, 1])
def test_the_address_behind_a_proxy(make_user, connection, tmp_config, proxies: int) -> None:
    """With `proxies_in_front: 1` the client's address comes from the proxy's X-Forwarded-For, so one
    guesser behind it does not lock everyone out; with 0 the header is the client's word and ignored."""
    from ivr.app import create_app
    from ivr.config import load_config

    make_user("it-kim")
    db.session.commit()  # into the test's transaction, which the app below joins
    text = tmp_config.read_text(encoding="utf-8")
    tmp_config.write_text(
        text.replace("proxies_in_front: 0", f"proxies_in_front: {proxies}"), encoding="utf-8"
    )
    app = create_app(load_config(tmp_config, {"DATABASE_URL": "sqlite://", "SECRET_KEY": "test-secret"}))
    db.of(app).bind_sessions(connection, join_transaction_mode="create_savepoint")  # as the `app` fixture
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    guesser, office = app.test_client(), app.test_client()
    guesser.environ_base.update(proxy, HTTP_X_FORWARDED_FOR=GUESSER)
    office.environ_base.update(proxy, HTTP_X_FORWARDED_FOR=OFFICE)
    with app.app_context():
        for _ in range(LoginConfig().failures_per_username):
            login(guesser, "it-kim", "wrong-password")
        assert login(guesser, "it-kim").status_code == 429
        assert login(office, "it-kim").status_code == (302 if proxies else 429)
