"""Two-step sign-in in a real browser, at a desktop and a phone size: enrolling from the QR code page (with
the secret typed from the page's text, as someone who cannot scan would), keeping the recovery codes, then
signing in with a code; and a supervisor whom the config makes enrol right after the password."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pyotp
import pytest
from playwright.sync_api import expect

from tests.live import ARTIFACTS, SIZES, LiveServer, browser_page, fits_the_width, live_server  # noqa: F401  (fixtures)


def _csp_refusals(page: Any) -> list[str]:
    refused: list[str] = []
    page.on("console", lambda m: refused.append(m.text) if "Security Policy" in m.text else None)
    return refused


def _password(page: Any, server: LiveServer, username: str) -> None:
    page.goto(f"{server.url}/console/login")
    page.get_by_label("아이디").fill(username)
    page.get_by_label("비밀번호").fill("hotline1379")
    page.get_by_role("button", name="로그인").click()


def _enrol_from_the_page(page: Any, size: str, clock: Any, name: str) -> tuple[pyotp.TOTP, list[str]]:
    """Check the QR code is shown whole, type the code for the secret shown as text, keep the codes."""
    qr = page.locator("figure.qr svg")
    box = qr.bounding_box()
    assert box is not None and box["width"] >= 150 and box["x"] + box["width"] <= SIZES[size]["width"]
    assert fits_the_width(page)
    page.screenshot(path=str(ARTIFACTS / f"two-step-{name}-{size}.png"), full_page=True)
    totp = pyotp.TOTP(page.locator("#totp-secret").inner_text().replace(" ", ""))
    if page.get_by_label("비밀번호").count():  # logged in: the password is asked again
        page.get_by_label("비밀번호").fill("hotline1379")
    page.get_by_label("인증 코드").fill(totp.at(clock()))
    page.get_by_role("button", name="등록").click()
    expect(page.locator("#recovery-codes code")).to_have_count(10)  # waits for the page after the POST
    codes = page.locator("#recovery-codes code").all_inner_texts()
    assert "한 번만 보입니다" in page.content()
    page.get_by_role("link", name="적어 두었습니다. 계속").click()
    return totp, codes


@pytest.mark.browser
@pytest.mark.parametrize("size", list(SIZES))
def test_a_consultant_turns_on_two_step_sign_in_and_signs_in_with_a_code(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
    clock: Any,
    size: str,
) -> None:
    page = browser_page
    page.set_viewport_size(SIZES[size])
    refused = _csp_refusals(page)
    _password(page, live_server, "it-kim")
    assert page.url == f"{live_server.url}/console/"  # no code asked before it is turned on

    page.get_by_role("link", name="내 근무 상태").click()
    page.get_by_role("link", name="2단계 인증 켜기").click()
    totp, codes = _enrol_from_the_page(page, size, clock, "enrol")
    assert page.url == f"{live_server.url}/console/"
    page.get_by_role("link", name="내 근무 상태").click()
    assert page.locator("#two-step-state").inner_text() == "켜짐 · 남은 복구 코드 10개"

    page.get_by_role("button", name="로그아웃").click()
    _password(page, live_server, "it-kim")
    assert page.url == f"{live_server.url}/console/login/code"
    page.get_by_label("인증 코드").fill(totp.at(clock()))  # the code just used to enrol
    page.get_by_role("button", name="확인").click()
    assert "올바르지 않거나 이미 사용되었습니다" in page.get_by_role("alert").inner_text()
    clock.advance(seconds=30)
    page.get_by_label("인증 코드").fill(totp.at(clock()))
    page.get_by_role("button", name="확인").click()
    expect(page).to_have_url(f"{live_server.url}/console/")

    page.get_by_role("button", name="로그아웃").click()
    _password(page, live_server, "it-kim")
    page.get_by_label("인증 코드").fill(codes[0])  # the phone is lost
    page.get_by_role("button", name="확인").click()
    assert "남은 복구 코드는 9개" in page.get_by_role("status").inner_text()
    assert refused == []


@pytest.mark.browser
@pytest.mark.parametrize("size", list(SIZES))
def test_a_supervisor_must_enrol_before_getting_in_and_an_admin_resets_it(
    live_server: LiveServer,  # noqa: F811
    browser_page: Any,  # noqa: F811
    clock: Any,
    size: str,
) -> None:
    app = live_server.app
    hotline = app.config["HOTLINE"]
    app.config["HOTLINE"] = replace(hotline, logins=replace(hotline.logins, two_step_roles=("supervisor",)))
    page = browser_page
    page.set_viewport_size(SIZES[size])
    refused = _csp_refusals(page)

    _password(page, live_server, "supervisor")
    assert page.url == f"{live_server.url}/console/two-step/enrol"
    assert "먼저 등록하세요" in page.content()
    page.goto(f"{live_server.url}/supervisor/")
    assert page.url.startswith(f"{live_server.url}/console/login")  # nothing else before the code
    page.goto(f"{live_server.url}/console/two-step/enrol")
    _enrol_from_the_page(page, size, clock, "must-enrol")
    assert page.url == f"{live_server.url}/supervisor/"
    page.goto(f"{live_server.url}/console/me")
    assert page.locator("#two-step-state").inner_text() == "켜짐 · 남은 복구 코드 10개"
    assert page.get_by_role("button", name="2단계 인증 끄기").count() == 0  # the role must keep it

    # The supervisor lost the phone and the codes: an admin resets, and the old session is over.
    supervisor_session = page.context.cookies()
    page.context.clear_cookies()
    _password(page, live_server, "admin")
    page.goto(f"{live_server.url}/console/admin/users")
    page.get_by_role("link", name="supervisor", exact=True).click()
    page.get_by_role("button", name="2단계 인증 초기화").click()
    assert "모든 로그인을 끝냈습니다" in page.get_by_role("status").inner_text()
    assert page.locator("#two-step-state").inner_text() == "꺼짐"
    page.context.clear_cookies()
    page.context.add_cookies(supervisor_session)
    page.goto(f"{live_server.url}/supervisor/")
    assert page.url.startswith(f"{live_server.url}/console/login")
    _password(page, live_server, "supervisor")
    assert page.url == f"{live_server.url}/console/two-step/enrol"  # enrols again, with a new secret
    assert refused == []
