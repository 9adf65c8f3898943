"""Admins manage users in the console; consultants and supervisors set their own availability.

Every action is checked by what it changes for people: who can log in, who routing picks, which API
tokens still work. Anything but an admin gets 403 on the admin pages.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from tests.tickets.conftest import NOW
from tickets import accounts
from tickets.db import db
from tickets.models import User

TODAY = date(2026, 11, 27)  # NOW in Seoul: the day routing looks at in these tests


def _csrf(client: Any) -> str:
    page = client.get("/console/login").data.decode()
    match = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert match
    return match.group(1)


def _login(client: Any, username: str, password: str = "hotline1379") -> Any:
    db.session.commit()  # keep the test's rows: a refused request rolls back its own changes
    return client.post(
        "/console/login", data={"username": username, "password": password, "csrf_token": _csrf(client)}
    )


def _post(client: Any, url: str, **form: Any) -> Any:
    db.session.commit()
    return client.post(url, data={"csrf_token": _csrf(client), **form})


def _fresh(user: User) -> User:
    db.session.expire_all()
    fresh = db.session.get(User, user.id)
    assert fresh is not None
    return fresh


@pytest.fixture
def admin(make_user: Any) -> User:
    return make_user("root", "admin", fields=())


@pytest.fixture
def as_admin(app: Any, admin: User) -> Any:
    client = app.test_client()
    assert _login(client, "root").status_code == 302
    return client


@pytest.mark.parametrize("role", ["consultant", "supervisor"])
def test_only_admins_reach_user_management(client: Any, make_user: Any, role: str) -> None:
    other = make_user("it-lee")
    make_user("someone", role)
    assert client.get("/console/admin/users").status_code == 302  # not logged in: to the login page
    assert _login(client, "someone").status_code == 302
    assert client.get("/console/admin/users").status_code == 403
    assert client.get(f"/console/admin/users/{other.id}").status_code == 403
    assert "사용자 관리" not in client.get("/console/me").data.decode()  # no link to a page they cannot use
    for url, form in [
        ("/console/admin/users", {"username": "x1", "role": "admin", "password": "12345678"}),
        (f"/console/admin/users/{other.id}", {"role": "admin", "active": "on"}),
        (f"/console/admin/users/{other.id}/availability", {}),
        (f"/console/admin/users/{other.id}/password", {"password": "new-password-1"}),
        (f"/console/admin/users/{other.id}/revoke-tokens", {}),
    ]:
        assert _post(client, url, **form).status_code == 403, url
    assert db.session.scalar(select(User).where(User.username == "x1")) is None
    assert _fresh(other).on_duty and _fresh(other).role == "consultant"


def test_the_list_shows_role_fields_phone_and_availability(as_admin: Any, make_user: Any) -> None:
    make_user("it-kim", phone="010-5555-0101")
    make_user("bio-park", fields=("bio",), on_duty=False)
    make_user("it-lee", away_from=TODAY, away_until=TODAY + timedelta(days=2))
    page = as_admin.get("/console/admin/users").data.decode()
    kim = page[page.index('data-username="it-kim"') :].split("</tr>")[0]
    assert "전문위원" in kim and "010-5555-0101" in kim and "근무 중" in kim
    park = page[page.index('data-username="bio-park"') :].split("</tr>")[0]
    assert "근무 외" in park
    lee = page[page.index('data-username="it-lee"') :].split("</tr>")[0]
    assert "부재 2026-11-27 ~ 2026-11-29" in lee


def test_an_admin_adds_a_consultant_who_logs_in_and_gets_tickets(
    app: Any, as_admin: Any, make_ticket: Any
) -> None:
    response = _post(
        as_admin, "/console/admin/users", username="it-new", display_name="신입 위원", role="consultant",
        fields=["it", "bio"], phone="010-5555-0199", password="first-pass-1",
    )  # fmt: skip
    assert response.status_code == 303
    assert "계정을 만들었습니다" in as_admin.get(response.location).data.decode()
    user = db.session.scalar(select(User).where(User.username == "it-new"))
    assert user is not None
    assert (user.display_name, user.role, user.fields, user.phone) == (
        "신입 위원", "consultant", ["bio", "it"], "+821055550199",
    )  # fmt: skip
    assert _login(app.test_client(), "it-new", "first-pass-1").status_code == 302
    assert make_ticket("it").assignee == user


@pytest.mark.parametrize(
    "change, message",
    [
        ({"username": "root"}, "이미 있는 아이디"),
        ({"username": "kim lee"}, "아이디는"),
        ({"fields": ["it", "space"]}, "알 수 없는 분야"),
        ({"password": "short"}, "8자 이상"),
        ({"phone": "12345"}, "전화번호가 올바르지 않습니다"),
        ({"role": "owner"}, "역할을"),
    ],
    ids=["taken", "bad username", "unknown field", "short password", "bad phone", "bad role"],
)
def test_adding_checks_what_the_cli_checks(as_admin: Any, change: dict[str, Any], message: str) -> None:
    form = {"username": "it-new", "role": "consultant", "fields": ["it"], "password": "first-pass-1"}
    response = _post(as_admin, "/console/admin/users", **{**form, **change})
    assert response.status_code == 422
    page = response.data.decode()
    assert message in page
    assert f'value="{change.get("username", "it-new")}"' in page  # the form comes back filled
    assert db.session.scalar(select(User).where(User.username == "it-new")) is None


def test_a_form_without_the_csrf_token_changes_nothing(as_admin: Any) -> None:
    db.session.commit()
    response = as_admin.post("/console/admin/users", data={"username": "it-new", "role": "consultant"})
    assert response.status_code == 400
    assert db.session.scalar(select(User).where(User.username == "it-new")) is None


def test_an_admin_edits_fields_phone_role_and_active(app: Any, as_admin: Any, make_user: Any) -> None:
    kim = make_user("it-kim", phone="010-5555-0101")
    response = _post(
        as_admin, f"/console/admin/users/{kim.id}", display_name="김 위원", role="supervisor",
        fields=["bio", "it"], phone="02-1234-5678", active="on",
    )  # fmt: skip
    assert response.status_code == 303
    kim = _fresh(kim)
    assert (kim.display_name, kim.role, kim.fields, kim.phone, kim.active) == (
        "김 위원", "supervisor", ["bio", "it"], "+82212345678", True,
    )  # fmt: skip
    # an empty phone clears it; an unchecked box deactivates: the account can no longer log in
    _post(as_admin, f"/console/admin/users/{kim.id}", role="supervisor", fields=["it"], phone="")
    kim = _fresh(kim)
    assert (kim.phone, kim.active) == (None, False)
    assert _login(app.test_client(), "it-kim").status_code == 200  # the login page again, with an error


def test_a_refused_edit_changes_nothing_and_says_why(as_admin: Any, admin: User, make_user: Any) -> None:
    kim = make_user("it-kim", phone="010-5555-0101")
    response = _post(
        as_admin,
        f"/console/admin/users/{kim.id}",
        role="consultant",
        fields=["bio"],
        phone="999",
        active="on",
    )
    assert "전화번호가 올바르지 않습니다" in as_admin.get(response.location).data.decode()
    assert (_fresh(kim).fields, _fresh(kim).phone) == (["it"], "+821055550101")
    # an admin cannot lock themself out of user management
    for form in ({"role": "consultant", "active": "on"}, {"role": "admin"}):
        response = _post(as_admin, f"/console/admin/users/{admin.id}", **form)
        assert "자기 계정" in as_admin.get(response.location).data.decode()
        assert (_fresh(admin).role, _fresh(admin).active) == ("admin", True)


def test_away_and_off_duty_set_by_an_admin_take_people_out_of_routing(
    as_admin: Any, make_user: Any, make_ticket: Any
) -> None:
    kim, lee = make_user("it-kim"), make_user("it-lee")
    url = f"/console/admin/users/{kim.id}/availability"
    _post(
        as_admin,
        url,
        on_duty="on",
        away_from=TODAY.isoformat(),
        away_until=(TODAY + timedelta(1)).isoformat(),
    )
    assert (_fresh(kim).away_from, _fresh(kim).away_until) == (TODAY, TODAY + timedelta(1))
    assert {make_ticket("it", now=NOW).assignee.username for _ in range(3)} == {"it-lee"}
    _post(as_admin, url)  # no box ticked, no dates: off duty
    kim = _fresh(kim)
    assert (kim.on_duty, kim.away_from, kim.away_until) == (False, None, None)
    assert make_ticket("it", now=NOW).assignee == lee
    _post(as_admin, url, on_duty="on")
    assert make_ticket("it", now=NOW).assignee.username == "it-kim"  # back, and the least loaded
    response = _post(as_admin, url, on_duty="on", away_from="2026-12-05", away_until="2026-12-01")
    assert "부재 시작일이 종료일보다 늦습니다" in as_admin.get(response.location).data.decode()
    response = _post(as_admin, url, on_duty="on", away_from="next friday")
    assert "날짜 형식" in as_admin.get(response.location).data.decode()
    assert (_fresh(kim).on_duty, _fresh(kim).away_from) == (True, None)


def test_a_password_reset_works_at_once_and_ends_a_lockout(app: Any, as_admin: Any, make_user: Any) -> None:
    kim = make_user("it-kim")
    for _ in range(5):
        assert _login(app.test_client(), "it-kim", "forgotten-pass").status_code == 200
    assert _login(app.test_client(), "it-kim", "hotline1379").status_code == 429  # locked from here
    url = f"/console/admin/users/{kim.id}/password"
    response = _post(as_admin, url, password="short")
    assert "8자 이상" in as_admin.get(response.location).data.decode()
    assert _post(as_admin, url, password="brand-new-pass").status_code == 303
    assert _login(app.test_client(), "it-kim", "hotline1379").status_code == 200  # the old one: refused
    assert _login(app.test_client(), "it-kim", "brand-new-pass").status_code == 302


def test_revoking_tokens_shuts_the_api_out(app: Any, as_admin: Any, make_user: Any, session: Any) -> None:
    kim = make_user("it-kim")
    token = accounts.issue_token(session, kim, "laptop")
    db.session.commit()
    api = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert api.get("/api/v1/queue", headers=headers).status_code == 200
    assert 'id="token-count">1<' in as_admin.get(f"/console/admin/users/{kim.id}").data.decode()
    response = _post(as_admin, f"/console/admin/users/{kim.id}/revoke-tokens")
    assert "1개를 폐기" in as_admin.get(response.location).data.decode()
    assert api.get("/api/v1/queue", headers=headers).status_code == 401


@pytest.mark.parametrize("role", ["consultant", "supervisor"])
def test_people_set_their_own_availability(client: Any, make_user: Any, make_ticket: Any, role: str) -> None:
    me = make_user("it-kim", role)
    make_user("it-lee")
    assert _login(client, "it-kim").status_code == 302
    page = client.get("/console/me").data.decode()
    assert "내 근무 상태" in page and 'name="on_duty" checked' in page
    # a slow afternoon: away for today only
    response = _post(
        client, "/console/me", on_duty="on", away_from=TODAY.isoformat(), away_until=TODAY.isoformat()
    )
    assert "저장했습니다" in client.get(response.location).data.decode()
    me = _fresh(me)
    assert (me.on_duty, me.away_from, me.away_until) == (True, TODAY, TODAY)
    if role == "consultant":
        assert {make_ticket("it", now=NOW).assignee.username for _ in range(2)} == {"it-lee"}
        assert make_ticket("it", now=NOW + timedelta(days=1)).assignee.username == "it-kim"  # back tomorrow
    response = _post(client, "/console/me", away_from="2026-12-05", away_until="2026-12-01")
    assert "부재 시작일이 종료일보다 늦습니다" in client.get(response.location).data.decode()
    assert (_fresh(me).on_duty, _fresh(me).away_until) == (True, TODAY)


def test_deactivating_a_consultant_returns_their_open_tickets_to_the_pool(
    as_admin: Any, make_user: Any, make_ticket: Any
) -> None:
    kim = make_user("it-kim")
    bio = make_user("bio-park", fields=("bio",))
    mine, theirs = make_ticket("it"), make_ticket("bio")
    assert (mine.assignee_id, theirs.assignee_id) == (kim.id, bio.id)
    _post(as_admin, f"/console/admin/users/{kim.id}", role="consultant", fields=["it"], phone="")
    db.session.expire_all()
    assert (mine.status, mine.assignee_id) == ("new", None)
    assert mine.events[-1].type == "released" and mine.events[-1].detail["reason"] == "assignee_unavailable"
    assert (theirs.status, theirs.assignee_id) == ("assigned", bio.id)  # someone else's: untouched
    # taking a field away hands back that field's tickets only
    _post(as_admin, f"/console/admin/users/{bio.id}", role="consultant", fields=["it"], active="on")
    db.session.expire_all()
    assert (theirs.status, theirs.assignee_id) == ("new", None)
