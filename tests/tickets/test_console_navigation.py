"""Everyone finds their way: `/` sends each person home, the header links only pages their role opens, and a
refusal or a missing page answers in Korean in the console's style (the API keeps its JSON errors)."""

from __future__ import annotations

from tests.tickets.test_console_auth import login


def test_the_root_sends_each_person_to_their_home_page(client, make_user) -> None:
    assert client.get("/").location.endswith("/console/login")
    make_user("it-kim")
    make_user("boss", "supervisor", fields=("it",))
    login(client, "it-kim")
    assert client.get("/").location.endswith("/console/")
    client.delete_cookie("session")
    login(client, "boss")
    assert client.get("/").location.endswith("/supervisor/")


def test_an_admin_sees_no_link_to_the_queue_and_a_korean_refusal(client, make_user) -> None:
    make_user("root", "admin", fields=())
    login(client, "root")
    users_page = client.get("/console/admin/users").data.decode()
    assert "내 대기열" not in users_page and "사용자 관리" in users_page and "로그아웃" in users_page
    refused = client.get("/console/")
    page = refused.data.decode()
    assert refused.status_code == 403 and "권한이 없습니다" in page and "Forbidden" not in page
    assert "<title>권한이 없습니다" in page and "로그아웃" in page  # the console's own header


def test_a_missing_ticket_is_a_korean_page_but_the_api_stays_json(client, make_user) -> None:
    make_user("it-kim")
    login(client, "it-kim")
    missing = client.get("/console/tickets/0000-0000")
    assert missing.status_code == 404 and "찾을 수 없습니다" in missing.data.decode()
    machine = client.get("/api/v1/no-such-thing")  # the API is read by programs: no console page
    assert machine.status_code == 404 and "찾을 수 없습니다" not in machine.data.decode()
