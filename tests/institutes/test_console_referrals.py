"""The consultant's "진단 및 기관 연계" section of the console's ticket page, and what it leaves in the access
log (as do the institute's private page and its recording)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from scheduler.referral_followup import FollowUpSettings, follow_up_due_referrals
from tests.tickets.test_console_auth import _csrf, login
from tickets.access_log import AccessLogEntry
from tickets.db import db
from tickets.models import OutboxMessage, Referral, Ticket

RECORDING_SID = "RE" + "2" * 32


@pytest.fixture
def ticket(make_user, make_ticket) -> Ticket:
    make_user("it-kim")
    # A Daejeon landline (042): institutes in Daejeon are suggested first.
    made = make_ticket(callback_number="+82421234567", support_type="equipment")
    made.recording_sid = RECORDING_SID
    return made


def _page(client, ticket: Ticket) -> str:
    return client.get(f"/console/tickets/{ticket.reference}").get_data(as_text=True)


def _post(client, path: str, **data):
    token = _csrf(client.get("/console/").data)
    return client.post(path, data={"csrf_token": token, **data})


def _log(session, action: str) -> list[AccessLogEntry]:
    return list(
        session.scalars(
            select(AccessLogEntry).where(AccessLogEntry.action == action).order_by(AccessLogEntry.id)
        )
    )


def _referred_by_kim(client, session, ticket: Ticket, institute: str) -> Referral:
    """it-kim logs in and refers the ticket to `institute` (already made) from the ticket page."""
    db.session.commit()
    login(client, "it-kim")
    _post(client, f"/console/tickets/{ticket.reference}/referrals", institute=institute)
    return session.scalars(select(Referral).where(Referral.ticket_id == ticket.id)).one()


def _answer_token(session, referral: Referral) -> str:
    email = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"referral:{referral.id}:referral:email"))
    ).one()
    return re.search(r"/institute/r/([\w-]+)", email.payload["text"]).group(1)


def test_a_consultant_diagnoses_sees_why_institutes_are_suggested_and_refers(
    client, session, ticket, make_institute, make_ticket
) -> None:
    make_institute("near-lab", name_ko="대전근처연구원", regions="daejeon", support_types="advice;equipment")
    make_institute("far-lab", name_ko="서울먼연구원", regions="seoul", support_types="advice")
    make_institute("info-only", name_ko="정보만기관", regions="daejeon", support_types="information")
    db.session.commit()
    login(client, "it-kim")
    page = _page(client, ticket)
    assert "진단 및 기관 연계" in page and "아직 진단이 없습니다" in page
    assert "대전, 유선번호 지역번호 기준" in page  # where the company is, and how the page knows

    recorded = _post(
        client,
        f"/console/tickets/{ticket.reference}/diagnosis",
        summary="도금 공정 불량 원인 자문",
        needs="advice",
    )
    assert recorded.status_code == 303
    page = _page(client, ticket)
    assert "진단을 기록했습니다" in page and "도금 공정 불량 원인 자문" in page
    suggested = re.findall(
        r'<tr data-institute="([\w-]+)">', page.split('id="suggestions"')[1].split("</table>")[0]
    )
    assert suggested == ["near-lab", "far-lab"]  # advice is needed now; the company's region first
    near_row = page.split('data-institute="near-lab">')[1].split("</tr>")[0]
    assert "기업과 같은 지역" in near_row and "0건" in near_row
    assert "기업과 같은 지역" not in page.split('data-institute="far-lab">')[1].split("</tr>")[0]

    referred = _post(
        client,
        f"/console/tickets/{ticket.reference}/referrals",
        institute="near-lab",
        contact="",
        note="급함",
    )
    assert referred.status_code == 303
    page = _page(client, ticket)
    assert "대전근처연구원에 연계 요청을 보냈습니다" in page
    row = page.split('id="referral-list"')[1].split("</table>")[0]
    assert "대전근처연구원" in row and "응답 대기" in row and "메모: 급함" in row
    (referral,) = session.scalars(select(Referral).where(Referral.ticket_id == ticket.id)).all()
    assert (referral.institute.key, referral.note, referral.by.username) == ("near-lab", "급함", "it-kim")
    # Referring there again is refused in Korean, and changes nothing.
    again = _post(client, f"/console/tickets/{ticket.reference}/referrals", institute="near-lab")
    assert again.status_code == 303 and "이 기관에 진행 중인 연계가 있습니다" in _page(client, ticket)
    assert len(session.scalars(select(Referral)).all()) == 1
    # Both changes are in the access log as inputs by the consultant.
    inputs = [(e.actor_name, e.subjects, e.detail.get("what")) for e in _log(session, "input")]
    assert inputs == [
        ("it-kim", [ticket.reference], "diagnosis"),
        ("it-kim", [ticket.reference], "referral"),
    ]
    refer_form = _page(client, ticket).split('id="refer-form"')[1].split("</form>")[0]
    assert 'value="near-lab"' not in refer_form  # not offered while its referral is open ...
    referral.status = "declined"
    db.session.commit()
    refer_form = _page(client, ticket).split('id="refer-form"')[1].split("</form>")[0]
    assert 'value="near-lab"' in refer_form  # ... but once it declined, it may be asked again


def test_only_the_holder_or_a_supervisor_refers_and_a_closed_ticket_is_not_referred(
    client, session, ticket, make_institute, make_user
) -> None:
    make_institute("lab-a")
    make_user("it-lee")
    db.session.commit()
    login(client, "it-lee")
    assert 'id="refer-form"' not in _page(client, ticket)  # not theirs: no form
    refused = _post(client, f"/console/tickets/{ticket.reference}/referrals", institute="lab-a")
    assert refused.status_code == 403
    ticket.status = "closed"
    db.session.commit()
    login(client, "it-kim")
    closed = _post(client, f"/console/tickets/{ticket.reference}/referrals", institute="lab-a")
    assert closed.status_code == 303 and "다시 열어야" in _page(client, ticket)
    assert session.scalars(select(Referral)).all() == []


def test_revoking_asks_first_then_the_link_and_its_reminders_stop(
    client, session, ticket, make_institute, config, clock
) -> None:
    make_institute("lab-r", name_ko="취소연구원")
    referral = _referred_by_kim(client, session, ticket, "lab-r")
    token = _answer_token(session, referral)
    revoke_path = f"/console/tickets/{ticket.reference}/referrals/{referral.id}/revoke"
    assert f'action="{revoke_path}"' in _page(client, ticket)
    confirm = client.get(revoke_path).get_data(as_text=True)
    assert "되돌릴 수 없습니다" in confirm and "취소연구원" in confirm
    assert client.get(f"/institute/r/{token}").status_code == 200  # asking changed nothing
    assert _post(client, revoke_path).status_code == 303
    page = _page(client, ticket)
    assert "링크를 취소했습니다" in page and "링크 취소됨" in page and f'action="{revoke_path}"' not in page
    assert client.get(f"/institute/r/{token}").status_code == 410
    (change,) = [e for e in _log(session, "change") if e.detail.get("what") == "referral_revoke"]
    assert (change.actor_name, change.detail["referral"]) == ("it-kim", referral.id)
    # Two working days on, the sweep's reminder must not hand the institute a working link again.
    clock.advance(days=5)
    follow_up_due_referrals(session, FollowUpSettings.from_config(config), clock.at)
    reminders = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"referral:{referral.id}:reminder"))
    ).all()
    assert reminders == []


def test_after_revoking_a_new_link_goes_to_the_contact_chosen_and_only_that_link_works(
    client, session, ticket, make_institute, config, clock
) -> None:
    make_institute("lab-n", contacts="담당 갑|wrong@example.org|;담당 을|right@example.org|")
    referral = _referred_by_kim(client, session, ticket, "lab-n")
    old_token = _answer_token(session, referral)
    base = f"/console/tickets/{ticket.reference}/referrals/{referral.id}"
    new_link_path = f"{base}/new-link"
    assert f'action="{new_link_path}"' not in _page(client, ticket)  # the first link still works
    working = _post(client, new_link_path, contact="담당 을")
    assert working.status_code == 303 and "먼저 링크를 취소하세요" in _page(client, ticket)

    _post(client, f"{base}/revoke")
    page = _page(client, ticket)
    assert f'action="{new_link_path}"' in page and "새 링크 보내기" in page
    clock.advance(hours=2)
    assert _post(client, new_link_path, contact="담당 을").status_code == 303
    assert "담당 을님께 새 링크를 보냈습니다" in _page(client, ticket)
    (message,) = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"referral:{referral.id}:new-link"))
    ).all()
    assert message.recipient == "right@example.org"
    assert "앞서 보낸 링크는 취소되었습니다" in message.payload["text"]
    new_token = re.search(r"/institute/r/([\w-]+)", message.payload["text"]).group(1)
    assert client.get(f"/institute/r/{old_token}").status_code == 410
    assert client.get(f"/institute/r/{new_token}").status_code == 200
    (change,) = [e for e in _log(session, "change") if e.detail.get("what") == "referral_new_link"]
    assert (change.actor_name, change.detail["referral"]) == ("it-kim", referral.id)
    assert f'action="{new_link_path}"' not in _page(client, ticket)  # one working link at a time

    # The sweep's reminder is due again, now that a link works: it goes to the new contact. The referral
    # kept its dates, so it still expires when the first link would have.
    clock.advance(days=5)
    follow_up_due_referrals(session, FollowUpSettings.from_config(config), clock.at)
    reminders = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"referral:{referral.id}:reminder"))
    ).all()
    assert [r.recipient for r in reminders] == ["right@example.org"]
    clock.advance(days=config.referrals.link_valid_days - 5)
    follow_up_due_referrals(session, FollowUpSettings.from_config(config), clock.at)
    assert session.get(Referral, referral.id).status == "expired"
    assert client.get(f"/institute/r/{new_token}").status_code == 410


def test_a_contact_with_only_a_landline_gets_no_link_and_the_consultant_is_told(
    client, session, ticket, make_institute
) -> None:
    make_institute("lab-l", name_ko="유선연구원", contacts="담당 병||02-2345-6789;담당 정|jung@example.org|")
    referral = _referred_by_kim(client, session, ticket, "lab-l")
    page = _page(client, ticket)
    assert "담당 병님은 이메일도 휴대전화 번호도 없어 링크를 보내지 못했습니다" in page
    assert "연계 요청을 보냈습니다" not in page
    assert session.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith("referral:"))).all() == []
    # The way on: revoke, and send a new link to the contact with an address.
    base = f"/console/tickets/{ticket.reference}/referrals/{referral.id}"
    _post(client, f"{base}/revoke")
    _post(client, f"{base}/new-link", contact="담당 정")
    assert "담당 정님께 새 링크를 보냈습니다" in _page(client, ticket)
    (sent,) = session.scalars(select(OutboxMessage).where(OutboxMessage.key.startswith("referral:"))).all()
    assert sent.recipient == "jung@example.org"


def test_the_resolve_form_offers_referred_once_an_institute_accepted(
    client, session, ticket, make_institute
) -> None:
    make_institute("lab-ok", contacts="홍길동|hong@example.org|")
    db.session.commit()
    login(client, "it-kim")
    _post(client, f"/console/tickets/{ticket.reference}/status", status="in_progress")
    assert 'value="referred"' not in _page(client, ticket)
    _post(client, f"/console/tickets/{ticket.reference}/referrals", institute="lab-ok")
    token = _answer_token(session, session.scalars(select(Referral)).one())
    institute_csrf = _csrf(client.get(f"/institute/r/{token}").data)
    client.post(
        f"/institute/r/{token}/accept",
        data={"person": "박담당", "expected_at": "2026-12-10", "csrf_token": institute_csrf},
    )
    page = _page(client, ticket)
    assert 'value="referred"' in page and "기관 수락" in page  # the history says it in Korean
    _post(
        client, f"/console/tickets/{ticket.reference}/status", status="resolved",
        resolution_type="referred", summary="시험기관 연계",
    )  # fmt: skip
    assert "기관 연계 — 시험기관 연계" in _page(client, ticket)


def test_the_institutes_views_plays_and_answers_are_in_the_access_log_without_the_token(
    client, session, ticket, make_institute, clock
) -> None:
    make_institute("lab-log")
    db.session.commit()
    login(client, "it-kim")
    _post(client, f"/console/tickets/{ticket.reference}/referrals", institute="lab-log")
    referral = session.scalars(select(Referral)).one()
    token = _answer_token(session, referral)
    before = session.scalar(select(AccessLogEntry.id).order_by(AccessLogEntry.id.desc()).limit(1))
    client.get(f"/institute/r/{token}")
    assert client.get(f"/institute/r/{token}/recording").status_code == 200
    csrf = _csrf(client.get(f"/institute/r/{token}").data)
    client.post(f"/institute/r/{token}/decline", data={"reason": "장비 점검 중", "csrf_token": csrf})
    client.get(f"/institute/r/{token}x")  # a tampered link shows nothing, so logs no access
    rows = session.scalars(
        select(AccessLogEntry).where(AccessLogEntry.id > before).order_by(AccessLogEntry.id)
    ).all()
    assert [(r.actor_name, r.actor_id, r.action, r.detail["page"]) for r in rows] == [
        ("institute:lab-log", None, "view", "answer"),
        ("institute:lab-log", None, "play", "recording"),
        ("institute:lab-log", None, "view", "answer"),
        ("institute:lab-log", None, "change", "decline"),
    ]
    assert all(r.subjects == [ticket.reference] and r.detail["referral"] == referral.id for r in rows)
    assert token not in str([r.content() for r in rows])
    # The used link shows nothing more, so it logs nothing more.
    clock.advance(minutes=1)
    assert client.get(f"/institute/r/{token}").status_code == 409
    assert (
        session.scalar(select(AccessLogEntry.id).order_by(AccessLogEntry.id.desc()).limit(1)) == rows[-1].id
    )
