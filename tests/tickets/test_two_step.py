"""Two-step sign-in in the console: the code after the password, who must give one, enrolment, recovery
codes, the throttle, a code's single use, and an admin's reset."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import replace
from typing import Any

import pyotp
import pytest
from sqlalchemy import select

from ivr.config import ConfigError, load_config
from tickets import accounts, two_step
from tickets.access_log import AccessLogEntry
from tickets.db import db
from tickets.models import RecoveryCode, User
from tickets.ticket_config import LoginConfig

OFFICE, CAFE = "198.51.100.20", "203.0.113.9"


def _csrf(client: Any) -> str:
    page = client.get("/console/login").get_data(as_text=True)  # shows the session's token, if it has one
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match, "the login page carries no CSRF token"
    return match.group(1)


def _password(client: Any, username: str, password: str = "hotline1379") -> Any:
    db.session.commit()  # keep the test's rows: a refused request rolls back its own changes
    return client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": _csrf(client)}
    )


def _code(client: Any, code: str, path: str = "/console/login/code") -> Any:
    db.session.commit()
    return client.post(path, data={"code": code, "csrf_token": _csrf(client)})


def _logged_in(client: Any) -> bool:
    response = client.get("/console/me")
    assert response.status_code in (200, 302)
    return response.status_code == 200


def _logins(app: Any, **changes: Any) -> None:
    hotline = app.config["HOTLINE"]
    app.config["HOTLINE"] = replace(hotline, logins=replace(hotline.logins, **changes))


def _enrolled(session: Any, user: User, clock: Any) -> tuple[pyotp.TOTP, list[str]]:
    """The user turned the second step on half a minute ago (so the current code is not used up yet)."""
    totp = pyotp.TOTP(two_step.enrolment_secret(user))
    codes = two_step.confirm_enrolment(session, user, totp.at(clock().timestamp() - 30), clock())
    assert codes is not None
    session.commit()
    return totp, codes


@pytest.fixture
def kim(session: Any, make_user: Any, clock: Any) -> tuple[User, pyotp.TOTP, list[str]]:
    user = make_user("it-kim")
    return (user, *_enrolled(session, user, clock))


def test_a_user_who_turned_it_on_is_logged_in_only_after_the_code(app: Any, kim: Any, clock: Any) -> None:
    _user, totp, _codes = kim
    client = app.test_client()
    response = _password(client, "it-kim")
    assert response.status_code == 302 and response.headers["Location"] == "/console/login/code"
    # Half logged in: every page but the code step sends the browser back to the login page.
    for page in ("/console/", "/console/me", "/supervisor/"):
        assert "/console/login" in client.get(page).headers["Location"], page
    assert client.post("/console/logout", data={"csrf_token": _csrf(client)}).status_code == 401

    wrong = _code(client, "000000" if totp.at(clock()) != "000000" else "111111")
    assert wrong.status_code == 200 and "올바르지 않거나" in wrong.get_data(as_text=True)
    assert not _logged_in(client)
    right = _code(client, totp.at(clock()))
    assert right.status_code == 302 and right.headers["Location"] == "/console/"
    assert _logged_in(client)


def test_the_code_step_keeps_where_the_login_link_pointed(app: Any, kim: Any, clock: Any) -> None:
    _user, totp, _codes = kim
    client = app.test_client()
    db.session.commit()
    login = "/console/login?next=/console/me"
    client.post(login, data={"username": "it-kim", "password": "hotline1379", "csrf_token": _csrf(client)})
    response = _code(client, totp.at(clock()), "/console/login/code?next=/console/me")
    assert response.headers["Location"] == "/console/me"


def test_a_code_is_refused_a_second_time_within_its_window(app: Any, kim: Any, clock: Any) -> None:
    """Someone who saw the code (over a shoulder, in a phished form) cannot use it after its owner."""
    _user, totp, _codes = kim
    code = totp.at(clock())
    first, second = app.test_client(), app.test_client()
    _password(first, "it-kim")
    _password(second, "it-kim")
    assert _code(first, code).status_code == 302
    clock.advance(seconds=10)  # still the same 30-second step
    assert "올바르지 않거나" in _code(second, code).get_data(as_text=True)
    assert not _logged_in(second)
    clock.advance(seconds=30)
    assert _code(second, totp.at(clock())).status_code == 302


def test_a_code_from_a_phone_a_step_off_is_accepted(app: Any, kim: Any, clock: Any) -> None:
    _user, totp, _codes = kim
    client = app.test_client()
    _password(client, "it-kim")
    assert _code(client, totp.at(clock().timestamp() + 30)).status_code == 302  # the phone runs fast
    other = app.test_client()
    _password(other, "it-kim")
    clock.advance(minutes=5)
    assert _code(other, totp.at(clock().timestamp() - 90)).status_code == 200  # three steps late: refused


def test_wrong_codes_are_throttled_and_the_password_does_not_reset_them(
    app: Any, kim: Any, clock: Any
) -> None:
    """Whoever holds the password may try a few codes, not a million: re-entering the password (which
    forgives wrong passwords) does not forgive wrong codes."""
    _user, totp, _codes = kim
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = CAFE
    wrong = "000000" if totp.at(clock()) != "000000" else "111111"
    for attempt in range(LoginConfig().failures_per_username):
        if attempt % 2 == 0:
            assert _password(client, "it-kim").status_code == 302
        assert _code(client, wrong).status_code == 200
    _password(client, "it-kim")
    locked = _code(client, totp.at(clock()))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert "잠겼습니다" in locked.get_data(as_text=True)
    assert not _logged_in(client)
    clock.advance(minutes=LoginConfig().throttle_minutes)
    _password(client, "it-kim")  # the half-done login has expired meanwhile
    assert _code(client, totp.at(clock())).status_code == 302


def test_a_half_done_login_expires(app: Any, kim: Any, clock: Any) -> None:
    _user, totp, _codes = kim
    client = app.test_client()
    _password(client, "it-kim")
    clock.advance(minutes=11)
    response = _code(client, totp.at(clock()))
    assert response.status_code == 302 and response.headers["Location"].startswith("/console/login")
    assert not _logged_in(client)


def test_recovery_codes_are_stored_hashed_and_work_once(app: Any, session: Any, kim: Any) -> None:
    user, _totp, codes = kim
    assert len(codes) == len(set(codes)) == 10
    stored = session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id)).all()
    assert len(stored) == 10
    assert not any(code.replace("-", "") in digest for code in codes for digest in stored)

    client = app.test_client()
    _password(client, "it-kim")
    response = _code(client, codes[3].upper().replace("-", " "))  # as typed from a printout
    assert response.status_code == 302
    assert "남은 복구 코드는 9개" in client.get(response.headers["Location"]).get_data(as_text=True)

    again = app.test_client()
    _password(again, "it-kim")
    assert "올바르지 않거나" in _code(again, codes[3]).get_data(as_text=True)
    assert _code(again, codes[4]).status_code == 302


def test_new_recovery_codes_replace_the_old_and_need_a_current_code(app: Any, kim: Any, clock: Any) -> None:
    _user, totp, old_codes = kim
    client = app.test_client()
    _password(client, "it-kim")
    _code(client, totp.at(clock()))
    clock.advance(seconds=30)
    refused = _code(client, "not-a-code", "/console/me/two-step/recovery-codes")
    assert refused.status_code == 303
    response = _code(client, totp.at(clock()), "/console/me/two-step/recovery-codes")
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    new_codes = re.findall(r"<code>([0-9a-f-]{19})</code>", response.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(old_codes)

    for code, works in ((old_codes[0], False), (new_codes[0], True)):
        other = app.test_client()
        _password(other, "it-kim")
        assert (_code(other, code).status_code == 302) is works


def test_enrolling_from_my_page_then_turning_it_off(app: Any, make_user: Any, clock: Any) -> None:
    make_user("it-kim")
    client = app.test_client()
    assert _password(client, "it-kim").status_code == 302 and _logged_in(client)  # no code asked yet
    assert "꺼짐" in client.get("/console/me").get_data(as_text=True)
    page = client.get("/console/two-step/enrol").get_data(as_text=True)
    assert "<svg" in page
    secret = _shown_secret(page)
    assert _shown_secret(client.get("/console/two-step/enrol").get_data(as_text=True)) == secret  # a reload
    totp = pyotp.TOTP(secret)
    done = _enrol(client, totp.at(clock()), password="hotline1379")
    assert done.status_code == 200 and done.headers["Cache-Control"] == "no-store"
    assert "켜짐 · 남은 복구 코드 10개" in client.get("/console/me").get_data(as_text=True)

    fresh = app.test_client()
    assert _password(fresh, "it-kim").headers["Location"] == "/console/login/code"

    clock.advance(seconds=30)
    assert _code(client, totp.at(clock()), "/console/me/two-step/off").status_code == 303
    assert "꺼짐" in client.get("/console/me").get_data(as_text=True)
    assert _password(app.test_client(), "it-kim").headers["Location"] == "/console/"


def _enrol(client: Any, code: str, *, password: str) -> Any:
    db.session.commit()
    form = {"code": code, "password": password, "csrf_token": _csrf(client)}
    return client.post("/console/two-step/enrol", data=form)


def test_a_logged_in_session_enrols_an_authenticator_only_with_the_password(
    app: Any, make_user: Any, clock: Any
) -> None:
    """A borrowed or stolen session cookie must not put its own authenticator on the account."""
    make_user("it-kim")
    client = app.test_client()
    assert _password(client, "it-kim").status_code == 302 and _logged_in(client)
    totp = pyotp.TOTP(_shown_secret(client.get("/console/two-step/enrol").get_data(as_text=True)))
    for password in ("", "not-the-password"):
        refused = _enrol(client, totp.at(clock()), password=password)
        assert refused.status_code == 200 and "recovery-codes" not in refused.get_data(as_text=True)
        assert "꺼짐" in client.get("/console/me").get_data(as_text=True)
    assert _enrol(client, totp.at(clock()), password="hotline1379").headers["Cache-Control"] == "no-store"
    assert "켜짐" in client.get("/console/me").get_data(as_text=True)


def _shown_secret(page: str) -> str:
    match = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page)
    assert match, "the enrolment page shows no secret to type"
    return match.group(1).replace(" ", "")


def test_config_makes_it_mandatory_for_roles_and_they_enrol_first(
    app: Any, make_user: Any, clock: Any
) -> None:
    make_user("boss", "supervisor")
    _logins(app, two_step_roles=("admin", "supervisor"))
    client = app.test_client()
    response = _password(client, "boss")
    assert response.headers["Location"] == "/console/login/code"
    assert client.get("/console/login/code").headers["Location"] == "/console/two-step/enrol"
    assert "/console/login" in client.get("/supervisor/").headers["Location"]  # not in before enrolling
    page = client.get("/console/two-step/enrol").get_data(as_text=True)
    assert "먼저 등록하세요" in page
    totp = pyotp.TOTP(_shown_secret(page))
    assert "올바르지 않거나" in _code(client, "123", "/console/two-step/enrol").get_data(as_text=True)
    done = _code(client, totp.at(clock()), "/console/two-step/enrol")
    assert done.status_code == 200 and len(re.findall(r"<code>[0-9a-f-]{19}</code>", done.text)) == 10
    assert client.get("/supervisor/").status_code == 200  # in, and landed after the codes page
    assert "2단계 인증 끄기" not in client.get("/console/me").get_data(as_text=True)  # the role must keep it
    clock.advance(seconds=30)
    assert _code(client, totp.at(clock()), "/console/me/two-step/off").status_code == 403


def test_outside_the_office_networks_everyone_needs_a_code(app: Any, make_user: Any) -> None:
    make_user("it-kim")
    _logins(app, two_step_outside_office=True, office_networks=(ipaddress.ip_network("198.51.100.0/24"),))
    at_the_office, at_a_cafe, dual_stack = app.test_client(), app.test_client(), app.test_client()
    at_the_office.environ_base["REMOTE_ADDR"] = OFFICE
    at_a_cafe.environ_base["REMOTE_ADDR"] = CAFE
    dual_stack.environ_base["REMOTE_ADDR"] = f"::ffff:{OFFICE}"
    assert _password(at_the_office, "it-kim").headers["Location"] == "/console/"
    assert _password(dual_stack, "it-kim").headers["Location"] == "/console/"
    assert _password(at_a_cafe, "it-kim").headers["Location"] == "/console/login/code"
    assert not _logged_in(at_a_cafe)


def test_an_admin_reset_ends_the_users_sessions_and_is_logged(
    app: Any, session: Any, kim: Any, make_user: Any, clock: Any
) -> None:
    user, totp, _codes = kim
    make_user("root", "admin", fields=())
    phone_lost = app.test_client()
    _password(phone_lost, "it-kim")
    _code(phone_lost, totp.at(clock()))
    waiting = app.test_client()
    _password(waiting, "it-kim")  # a half-done login ends too
    admin = app.test_client()
    _password(admin, "root")
    assert "켜짐 · 남은 복구 코드 10개" in admin.get(f"/console/admin/users/{user.id}").get_data(as_text=True)

    response = _code(admin, "", f"/console/admin/users/{user.id}/two-step/reset")
    assert response.status_code == 303
    logged = session.scalars(select(AccessLogEntry).where(AccessLogEntry.actor_name == "root")).all()
    assert [(e.action, e.subjects, e.detail["what"]) for e in logged] == [
        ("change", ["it-kim"], "two_step_reset")
    ]
    assert not _logged_in(phone_lost)
    clock.advance(seconds=30)
    assert _code(waiting, totp.at(clock())).headers["Location"].startswith("/console/login")
    assert "꺼짐" in admin.get(f"/console/admin/users/{user.id}").get_data(as_text=True)
    assert _password(app.test_client(), "it-kim").headers["Location"] == "/console/"  # no code asked now


def test_only_admins_reset_a_second_step(app: Any, kim: Any, make_user: Any) -> None:
    user, _totp, _codes = kim
    make_user("boss", "supervisor")
    client = app.test_client()
    _password(client, "boss")
    assert _code(client, "", f"/console/admin/users/{user.id}/two-step/reset").status_code == 403
    db.session.refresh(user)
    assert two_step.is_on(user)


def test_api_tokens_need_no_second_step(app: Any, session: Any, kim: Any) -> None:
    user, _totp, _codes = kim
    token = accounts.issue_token(session, user)
    session.commit()
    response = app.test_client().get("/api/v1/tickets", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "logins, message",
    [
        ({"two_step_roles": ["admin", "boss"]}, "logins.two_step_roles: 'boss' is not a role"),
        ({"office_networks": ["10.1.2.3/16"]}, "logins.office_networks: '10.1.2.3/16' is not a network"),
        ({"office_networks": ["office"]}, "logins.office_networks: 'office' is not a network"),
        ({"two_step_outside_office": "yes"}, "logins.two_step_outside_office: expected bool"),
    ],
)
def test_two_step_config_errors_name_the_key(tmp_config: Any, logins: dict[str, Any], message: str) -> None:
    import yaml

    data = yaml.safe_load(tmp_config.read_text(encoding="utf-8"))
    data["logins"].update(logins)
    tmp_config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config(tmp_config, {"DATABASE_URL": "sqlite://", "SECRET_KEY": "k"})


def test_two_step_config_is_read(tmp_config: Any) -> None:
    text = tmp_config.read_text(encoding="utf-8")
    text = text.replace("two_step_roles: []", "two_step_roles: [admin, supervisor]")
    text = text.replace("two_step_outside_office: false", "two_step_outside_office: true")
    text = text.replace("office_networks: []", "office_networks: [10.20.0.0/16, '2001:db8::/32']")
    tmp_config.write_text(text, encoding="utf-8")
    logins = load_config(tmp_config, {"DATABASE_URL": "sqlite://", "SECRET_KEY": "k"}).logins
    assert logins.two_step_roles == ("admin", "supervisor") and logins.two_step_outside_office
    assert two_step.in_office("10.20.3.4", logins) and two_step.in_office("2001:db8::1", logins)
    assert not two_step.in_office("10.21.0.1", logins) and not two_step.in_office("unknown", logins)


def test_the_last_admin_is_reset_from_the_command_line(
    app: Any, session: Any, make_user: Any, clock: Any
) -> None:
    from ivr.cli import cli

    root = make_user("root", "admin", fields=())
    _enrolled(session, root, clock)
    result = app.test_cli_runner().invoke(cli, ["users", "reset-two-step", "root"])
    assert result.exit_code == 0, result.output
    session.expire_all()
    assert not two_step.is_on(session.get(User, root.id))
    logged = session.scalars(select(AccessLogEntry).where(AccessLogEntry.actor_name == "system")).all()
    # only root's rows: tests that run real threads on the shared database commit rows of their own
    assert [(e.subjects, e.detail["what"]) for e in logged if e.subjects == ["root"]] == [
        (["root"], "two_step_reset")
    ]
    assert app.test_cli_runner().invoke(cli, ["users", "reset-two-step", "nobody"]).exit_code == 1
