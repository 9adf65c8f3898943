"""Diagnosis, suggestions and referrals through the API, and the institute's private page."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.institutes.conftest import api
from tickets import accounts
from tickets.models import OutboxMessage, Ticket

RECORDING_SID = "RE" + "1" * 32


@pytest.fixture
def kim(session, make_user):
    user = make_user("it-kim", phone="010-5555-0101")
    return user, accounts.issue_token(session, user)


@pytest.fixture
def ticket(make_ticket, kim) -> Ticket:
    # A landline in Daejeon (042): institutes in Daejeon come first.
    made = make_ticket(callback_number="+82421234567", support_type="equipment")
    made.recording_sid = RECORDING_SID
    assert made.assignee == kim[0]
    return made


def _outbox(session, prefix: str) -> list[OutboxMessage]:
    return list(session.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith(prefix))))


def _token(session, referral_id: int) -> str:
    email = _outbox(session, f"referral:{referral_id}:referral:email")[0]
    return re.search(r"/institute/r/([\w-]+)", email.payload["text"]).group(1)


def _refer(client, kim, ticket, institute: str, **body):
    return api(
        client, kim[1], "POST", f"/tickets/{ticket.reference}/referrals", {"institute": institute, **body}
    )


def test_suggestions_put_the_companys_region_first_then_the_least_busy(
    client, session, kim, ticket, make_institute, make_ticket
) -> None:
    make_institute("busy-daejeon", regions="daejeon", support_types="equipment")
    make_institute("quiet-seoul", regions="seoul", support_types="equipment")
    make_institute("busy-seoul", regions="seoul", support_types="equipment")
    make_institute("advice-only", regions="daejeon", support_types="advice")
    make_institute("bio-lab", fields="bio", regions="daejeon", support_types="equipment")
    other = make_ticket(callback_number="+821011112222")
    for institute in ("busy-daejeon", "busy-seoul"):
        assert _refer(client, kim, other, institute).status_code == 201
    ref = ticket.reference
    keys = [
        i["key"] for i in api(client, kim[1], "GET", f"/tickets/{ref}/suggestions").get_json()["institutes"]
    ]
    assert keys == ["busy-daejeon", "quiet-seoul", "busy-seoul"]
    # The diagnosis says what is needed: advice now, not equipment.
    made = api(
        client,
        kim[1],
        "POST",
        f"/tickets/{ref}/diagnosis",
        {"summary": "공정 자문 필요", "needs": ["advice"]},
    )
    assert made.status_code == 201 and made.get_json()["diagnosis"]["needs"] == ["advice"]
    keys = [
        i["key"] for i in api(client, kim[1], "GET", f"/tickets/{ref}/suggestions").get_json()["institutes"]
    ]
    assert keys == ["advice-only"]
    shown = api(client, kim[1], "GET", f"/tickets/{ref}").get_json()
    assert shown["diagnosis"]["summary"] == "공정 자문 필요"


def test_a_referral_writes_the_institutes_messages_with_a_private_link(
    client, session, kim, ticket, make_institute
) -> None:
    make_institute(
        "kitech-x", contacts="홍길동|hong@example.org|010-4000-0001; 김철수|kim@example.org|042-610-1111"
    )
    api(
        client,
        kim[1],
        "POST",
        f"/tickets/{ticket.reference}/diagnosis",
        {"summary": "인장시험 성적서 필요", "needs": ["equipment"]},
    )
    made = _refer(client, kim, ticket, "kitech-x", note="급합니다")
    assert made.status_code == 201
    referral = made.get_json()
    assert (
        referral["institute"] == "kitech-x"
        and referral["status"] == "sent"
        and referral["note"] == "급합니다"
    )
    email, sms = (_outbox(session, f"referral:{referral['id']}:referral:{c}")[0] for c in ("email", "sms"))
    assert email.recipient == "hong@example.org" and sms.recipient == "+821040000001"
    text = email.payload["text"]
    assert "인장시험 성적서 필요" in text and "042-123-4567" in text and ticket.reference in text
    token = _token(session, referral["id"])
    assert f"/institute/r/{token}/recording" in text
    assert token not in str(session.scalars(select(OutboxMessage.key)).all())
    from tickets.models import ReferralLink

    assert session.scalar(select(ReferralLink.token_hash)) != token  # only its hash is kept
    shown = api(client, kim[1], "GET", f"/tickets/{ticket.reference}").get_json()
    assert shown["referrals"][0]["status"] == "sent" and shown["events"][-1]["type"] == "referred"
    # Another contact by name; one with a landline gets e-mail only.
    assert (
        _refer(client, kim, ticket, "kitech-x", contact="김철수").status_code == 409
    )  # already referred there


def test_bad_referrals_are_refused(client, session, kim, ticket, make_institute, make_user) -> None:
    make_institute("kitech-y")
    make_institute("retired", active="no")
    assert _refer(client, kim, ticket, "no-such").status_code == 422
    assert _refer(client, kim, ticket, "retired").status_code == 422
    assert _refer(client, kim, ticket, "kitech-y", contact="nobody").status_code == 422
    other = make_user("it-lee")
    assert api(client, accounts.issue_token(session, other), "POST", f"/tickets/{ticket.reference}/referrals",
               {"institute": "kitech-y"}).status_code == 403  # fmt: skip
    ticket.status = "closed"
    session.flush()
    closed = _refer(client, kim, ticket, "kitech-y")
    assert closed.status_code == 409 and closed.get_json()["error"]["code"] == "ticket_closed"


def test_the_institute_accepts_the_company_hears_once_and_the_ticket_resolves_as_referred(
    client, session, kim, ticket, make_institute, clock, caplog
) -> None:
    make_institute("kitech-z", contacts="홍길동|hong@example.org|042-610-1111")
    ref = ticket.reference
    api(client, kim[1], "POST", f"/tickets/{ref}/status", {"status": "in_progress"})
    early = api(client, kim[1], "POST", f"/tickets/{ref}/status",
                {"status": "resolved", "summary": "기관 연계", "resolution_type": "referred"})  # fmt: skip
    assert early.status_code == 422 and early.get_json()["error"]["code"] == "referral_not_accepted"
    referral = _refer(client, kim, ticket, "kitech-z").get_json()
    token = _token(session, referral["id"])
    assert not _outbox(session, f"referral:{referral['id']}:referral:sms")  # a landline takes no SMS

    page = client.get(f"/institute/r/{token}")
    assert page.status_code == 200 and "기술지원 연계 요청" in page.text and ref in page.text
    assert "042-123-4567" in page.text and page.headers["Referrer-Policy"] == "no-referrer"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    no_csrf = client.post(
        f"/institute/r/{token}/accept", data={"person": "박담당", "expected_at": "2026-12-04"}
    )
    assert no_csrf.status_code == 400
    clock.advance(hours=3)
    accepted = client.post(
        f"/institute/r/{token}/accept",
        data={"person": "박담당", "expected_at": "2026-12-04", "csrf_token": csrf},
    )
    assert accepted.status_code == 303
    sms = _outbox(session, f"referral-accepted:{referral['id']}")
    assert sms == []  # the company left a landline: no SMS, and the history says why
    shown = api(client, kim[1], "GET", f"/tickets/{ref}").get_json()["referrals"][0]
    assert shown["status"] == "accepted" and shown["expected_at"] == "2026-12-04"
    assert shown["answered_at"] == (NOW + timedelta(hours=3)).isoformat()
    # Accepting again changes nothing, says so, and logs a warning.
    with caplog.at_level(logging.WARNING):
        again = client.post(
            f"/institute/r/{token}/accept",
            data={"person": "누군가", "expected_at": "2026-12-30", "csrf_token": csrf},
        )
    assert again.status_code == 409 and "이미 처리된" in again.text
    assert "refused to accept" in caplog.text
    done = api(client, kim[1], "POST", f"/tickets/{ref}/status",
               {"status": "resolved", "summary": "기관 연계", "resolution_type": "referred"})  # fmt: skip
    assert done.status_code == 200 and done.get_json()["status"] == "resolved"
    # The outcome comes later, through the same link.
    clock.advance(days=6)
    reported = client.post(
        f"/institute/r/{token}/outcome", data={"outcome": "시험 완료, 성적서 발급", "csrf_token": csrf}
    )
    assert reported.status_code == 200 and "보고했습니다" in reported.text
    final = api(client, kim[1], "GET", f"/tickets/{ref}").get_json()
    assert (
        final["referrals"][0]["status"] == "completed"
        and final["referrals"][0]["outcome"] == "시험 완료, 성적서 발급"
    )
    assert [e["type"] for e in final["events"] if e["type"].startswith(("referral", "company"))] == [
        "referral_accepted", "company_sms_skipped", "referral_completed",
    ]  # fmt: skip
    assert (
        client.get(f"/institute/r/{token}").status_code == 409
    )  # used: says so, shows nothing of the ticket


def test_the_company_gets_one_sms_naming_the_institute(
    client, session, kim, make_ticket, make_institute
) -> None:
    ticket = make_ticket(callback_number="+821033334444")
    make_institute("ktl-z", name_ko="한국시험연구원", contacts="이담당|lee@example.org|02-123-4567")
    referral = _refer(client, kim, ticket, "ktl-z").get_json()
    token = _token(session, referral["id"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/institute/r/{token}").text).group(1)
    client.post(
        f"/institute/r/{token}/accept",
        data={"person": "박담당", "expected_at": "2026-12-04", "csrf_token": csrf},
    )
    sms = _outbox(session, "referral-accepted:")
    assert [m.recipient for m in sms] == ["+821033334444"]
    assert "한국시험연구원" in sms[0].payload["text"] and "02-123-4567" in sms[0].payload["text"]


def test_a_tampered_expired_or_revoked_link_changes_nothing(
    client, session, kim, ticket, make_institute, clock, caplog
) -> None:
    make_institute("kitech-w")
    make_institute("kitech-v")
    first = _refer(client, kim, ticket, "kitech-w").get_json()
    second = _refer(client, kim, ticket, "kitech-v").get_json()
    token, other = _token(session, first["id"]), _token(session, second["id"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/institute/r/{token}").text).group(1)
    with caplog.at_level(logging.WARNING):
        tampered = client.post(
            f"/institute/r/{token[:-2]}xx/decline", data={"reason": "x", "csrf_token": csrf}
        )
    assert tampered.status_code == 404 and "유효하지 않은" in tampered.text and "refused" in caplog.text
    assert client.get(f"/institute/r/{token[:-2]}xx/recording").status_code == 404
    assert client.get(f"/institute/r/{token}/recording").status_code == 200  # open: plays through the proxy
    # One referral's page never shows another: the other token shows its own institute only.
    assert "kitech-v" not in client.get(f"/institute/r/{token}").text
    revoked = api(client, kim[1], "POST", f"/tickets/{ticket.reference}/referrals/{second['id']}/revoke")
    assert revoked.get_json()["links_revoked"] == 1
    assert (
        client.post(f"/institute/r/{other}/decline", data={"reason": "x", "csrf_token": csrf}).status_code
        == 410
    )
    assert client.get(f"/institute/r/{other}/recording").status_code == 404
    clock.advance(days=15)
    expired = client.post(f"/institute/r/{token}/decline", data={"reason": "바쁨", "csrf_token": csrf})
    assert expired.status_code == 410 and "기한이 지났습니다" in expired.text
    statuses = [
        r["status"]
        for r in api(client, kim[1], "GET", f"/tickets/{ticket.reference}").get_json()["referrals"]
    ]
    assert statuses == ["sent", "sent"]


def test_a_new_link_only_after_revoking_and_only_while_the_referral_has_time(
    client, session, kim, ticket, make_institute, clock
) -> None:
    make_institute("kitech-n", contacts="담당 갑|a@example.org|;담당 을|b@example.org|")
    referral = _refer(client, kim, ticket, "kitech-n", contact="담당 을").get_json()
    path = f"/tickets/{ticket.reference}/referrals/{referral['id']}"
    early = api(client, kim[1], "POST", f"{path}/new-link")
    assert (early.status_code, early.get_json()["error"]["code"]) == (409, "link_works")
    api(client, kim[1], "POST", f"{path}/revoke")
    unknown = api(client, kim[1], "POST", f"{path}/new-link", {"contact": "누구"})
    assert (unknown.status_code, unknown.get_json()["error"]["code"]) == (422, "invalid_contact")
    assert api(client, kim[1], "POST", f"{path}/new-link").status_code == 201
    (sent,) = _outbox(session, f"referral:{referral['id']}:new-link")
    assert sent.recipient == "b@example.org"  # no contact named: the referral's own
    api(client, kim[1], "POST", f"{path}/revoke")
    clock.advance(days=15)  # past the link's 14 days, before the sweep marks the referral expired
    late = api(client, kim[1], "POST", f"{path}/new-link")
    assert (late.status_code, late.get_json()["error"]["code"]) == (409, "link_expired")
    assert len(_outbox(session, f"referral:{referral['id']}:new-link")) == 1


def test_decline_is_recorded_with_its_reason(client, session, kim, ticket, make_institute) -> None:
    make_institute("kitech-d")
    referral = _refer(client, kim, ticket, "kitech-d").get_json()
    token = _token(session, referral["id"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/institute/r/{token}").text).group(1)
    assert (
        client.post(
            f"/institute/r/{token}/decline", data={"reason": "장비 고장", "csrf_token": csrf}
        ).status_code
        == 200
    )
    shown = api(client, kim[1], "GET", f"/tickets/{ticket.reference}").get_json()
    assert shown["referrals"][0]["status"] == "declined"
    assert shown["events"][-1]["detail"]["reason"] == "장비 고장"


def test_an_institute_that_declined_may_be_asked_again_once_at_a_time(
    client, session, kim, ticket, make_institute
) -> None:
    make_institute("kitech-a")
    first = _refer(client, kim, ticket, "kitech-a").get_json()
    busy = _refer(client, kim, ticket, "kitech-a")
    assert (busy.status_code, busy.get_json()["error"]["code"]) == (409, "already_referred")
    token = _token(session, first["id"])
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get(f"/institute/r/{token}").text).group(1)
    client.post(
        f"/institute/r/{token}/decline", data={"reason": "이번 달 장비 예약 마감", "csrf_token": csrf}
    )
    # A week later the equipment is free: the consultant asks the same institute again.
    again = _refer(client, kim, ticket, "kitech-a", note="다음 달 일정으로 다시 부탁드립니다")
    assert again.status_code == 201 and again.get_json()["id"] != first["id"]
    assert _token(session, again.get_json()["id"]) != token  # a message and a link of its own
    statuses = [
        r["status"]
        for r in api(client, kim[1], "GET", f"/tickets/{ticket.reference}").get_json()["referrals"]
    ]
    assert statuses == ["declined", "sent"]
    assert _refer(client, kim, ticket, "kitech-a").status_code == 409  # one open referral at a time
