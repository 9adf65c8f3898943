"""Console sessions end when they should: 12 hours after login, and everywhere at once at logout, a password
reset, a role change or deactivation. A copied cookie is replayed to prove the old session is really gone."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from ivr.app import create_app
from ivr.config import ConfigError, load_config
from tickets.db import db


def _csrf(client: Any) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/login").data.decode())
    assert match
    return match.group(1)


def _login(client: Any, username: str, password: str = "hotline1379") -> None:
    db.session.commit()  # keep the test's rows: a refused request rolls back its own changes
    response = client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": _csrf(client)}
    )
    assert response.status_code == 302


def _post(client: Any, url: str, **form: Any) -> Any:
    db.session.commit()
    return client.post(url, data={"csrf_token": _csrf(client), **form})


def _logged_in(client: Any) -> bool:
    response = client.get("/console/me")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _replay(app: Any, cookie: str) -> Any:
    """A new browser holding a copy of an old session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief


@pytest.fixture
def kim(app: Any, make_user: Any) -> Any:
    user = make_user("it-kim")
    client = app.test_client()
    _login(client, "it-kim")
    return user, client


@pytest.fixture
def as_admin(app: Any, make_user: Any) -> Any:
    make_user("root", "admin", fields=())
    client = app.test_client()
    _login(client, "root")
    return client


def test_a_session_ends_twelve_hours_after_login_however_busy(app: Any, kim: Any, clock: Any) -> None:
    _, client = kim
    assert app.permanent_session_lifetime == timedelta(hours=12)  # the cookie's own expiry, not 31 days
    for _ in range(11):
        clock.advance(hours=1)
        assert _logged_in(client)  # a request every hour does not stretch the session
    clock.advance(minutes=59)
    assert _logged_in(client)
    clock.advance(minutes=1)
    response = client.get("/console/")
    assert response.status_code == 302 and "/console/login" in response.headers["Location"]


def test_the_session_lifetime_comes_from_config(tmp_config: Any) -> None:
    text = tmp_config.read_text(encoding="utf-8")
    environ = {"DATABASE_URL": "sqlite://", "SECRET_KEY": "test-secret"}
    tmp_config.write_text(text.replace("session_hours: 12", "session_hours: 8"), encoding="utf-8")
    assert create_app(load_config(tmp_config, environ)).permanent_session_lifetime == timedelta(hours=8)
    tmp_config.write_text(text.replace("session_hours: 12", "session_hour: 8"), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"logins\.session_hour: unknown key"):
        load_config(tmp_config, environ)


def test_an_old_cookie_is_logged_out_after_logout(app: Any, kim: Any) -> None:
    _, client = kim
    cookie = client.get_cookie("session").value
    other_browser = app.test_client()
    _login(other_browser, "it-kim")
    assert _logged_in(_replay(app, cookie))
    assert _post(client, "/console/logout").status_code == 302
    assert not _logged_in(_replay(app, cookie))
    assert not _logged_in(other_browser)  # logging out ends the user's other sessions too


def test_an_old_cookie_is_logged_out_after_a_password_reset(app: Any, kim: Any, as_admin: Any) -> None:
    user, client = kim
    cookie = client.get_cookie("session").value
    assert (
        _post(as_admin, f"/console/admin/users/{user.id}/password", password="brand-new-pass").status_code
        == 303
    )
    assert not _logged_in(client)
    assert not _logged_in(_replay(app, cookie))
    assert _logged_in(as_admin)  # the admin's own session goes on
    fresh = app.test_client()
    _login(fresh, "it-kim", "brand-new-pass")
    assert _logged_in(fresh)


@pytest.mark.parametrize(
    "change", [{"role": "supervisor", "active": "on"}, {"role": "consultant"}], ids=["role", "deactivation"]
)
def test_a_role_change_or_deactivation_ends_the_users_sessions(
    app: Any, kim: Any, as_admin: Any, change: dict[str, str]
) -> None:
    user, client = kim
    cookie = client.get_cookie("session").value
    response = _post(as_admin, f"/console/admin/users/{user.id}", fields="it", **change)
    assert response.status_code == 303
    assert not _logged_in(client)
    assert not _logged_in(_replay(app, cookie))


def test_reactivating_a_user_does_not_bring_old_sessions_back(app: Any, kim: Any, as_admin: Any) -> None:
    user, client = kim
    url = f"/console/admin/users/{user.id}"
    assert _post(as_admin, url, role="consultant", fields="it").status_code == 303  # deactivated
    assert _post(as_admin, url, role="consultant", fields="it", active="on").status_code == 303
    assert not _logged_in(client)


def test_other_changes_leave_the_user_logged_in(app: Any, kim: Any, as_admin: Any) -> None:
    user, client = kim
    response = _post(as_admin, f"/console/admin/users/{user.id}", role="consultant", active="on", fields="it")
    assert response.status_code == 303
    assert _logged_in(client)
