"""The ticket page as a consultant reads it: numbers as dialled in Korea, history in Korean, no media URLs."""

from __future__ import annotations

from tests.tickets.test_console_auth import login
from tickets import events
from tickets.db import db

# a recording URL as Twilio posts it (the proxy plays it by the SID at its end)
TWILIO_RECORDING = "https://api.twilio.com/2010-04-01/Accounts/AC" + "0" * 32 + "/Recordings/RE" + "1" * 32


def test_the_ticket_page_reads_like_a_korean_desk_not_a_log(client, make_user, make_ticket, session) -> None:
    make_user("it-kim")
    ticket = make_ticket(callback_number="+821098765432")
    ticket.recording_url = TWILIO_RECORDING
    events.record(session, ticket, "recording_added", url=ticket.recording_url, duration=31)
    db.session.commit()
    login(client, "it-kim")
    page = client.get(f"/console/tickets/{ticket.reference}").data.decode()
    assert "010-9876-5432" in page and "+821098765432" not in page
    assert "api.twilio.com" not in page  # the recording plays through the app's proxy only
    assert "고객 녹음이 추가되었습니다 (31초)." in page and "duration:" not in page
    assert "접수" in page and ">created<" not in page and ">assigned<" not in page


def test_a_repeat_calls_message_plays_on_the_ticket_page(client, make_user, make_ticket, session) -> None:
    make_user("it-kim")
    ticket = make_ticket(callback_number="+821098765432")
    ticket.recording_url = TWILIO_RECORDING
    extra = events.record(
        session, ticket, "recording_added", url=ticket.recording_url[:-1] + "2", duration=41, extra=True,
        call_sid="CA2",
    )  # fmt: skip
    db.session.commit()
    login(client, "it-kim")
    page = client.get(f"/console/tickets/{ticket.reference}").data.decode()
    assert f"/console/tickets/{ticket.reference}/recordings/{extra.id}" in page
    assert "추가 녹음" in page and "41초, 재전화" in page


def test_a_recording_that_cannot_play_says_why_in_korean(
    client, app, make_user, make_ticket, monkeypatch
) -> None:
    from tickets.telephony import TelephonyError

    make_user("it-kim")
    ticket = make_ticket()
    ticket.recording_sid, ticket.recording_url = "RE" + "1" * 32, TWILIO_RECORDING
    login(client, "it-kim")
    page = client.get(f"/console/tickets/{ticket.reference}").data.decode()
    assert "Twilio 계정이 설정되지 않아" in page  # the log gateway plays silence: the page says so
    assert "녹음 내려받기" in page

    def unreachable(sid: str) -> tuple[bytes, str]:
        raise TelephonyError("connection refused")

    monkeypatch.setattr(app.extensions["telephony"], "fetch_recording", unreachable)
    answer = client.get(f"/console/tickets/{ticket.reference}/recording")
    assert answer.status_code == 502 and "Twilio에 연결하지 못해" in answer.data.decode()


def test_a_refused_action_is_explained_in_korean(client, make_user, make_ticket) -> None:
    from tests.tickets.test_console_auth import _csrf

    make_user("it-kim")  # no phone number on the account
    ticket = make_ticket()
    login(client, "it-kim")
    url = f"/console/tickets/{ticket.reference}"
    token = _csrf(client.get(url).data)
    page = client.post(f"{url}/callback", data={"csrf_token": token}, follow_redirects=True).data.decode()
    assert "내 계정에 전화번호가 없어" in page and "ask an admin" not in page
    page = client.post(f"{url}/attempts", data={"csrf_token": token, "outcome": ""}, follow_redirects=True)
    assert "통화 결과를 골라 주세요" in page.data.decode()


def test_the_callers_earlier_tickets_are_linked(client, make_user, make_ticket) -> None:
    from datetime import timedelta

    from tests.conftest import NOW

    make_user("it-kim")
    before = make_ticket(callback_number="+821098765432", now=NOW - timedelta(days=30))
    stranger = make_ticket(callback_number="+821011112222")
    ticket = make_ticket(callback_number="+821098765432")
    login(client, "it-kim")
    page = client.get(f"/console/tickets/{ticket.reference}").data.decode()
    section = page[page.index('id="same-caller"') : page.index('id="notes-panel"')]
    assert f"/console/tickets/{before.reference}" in section and stranger.reference not in section
