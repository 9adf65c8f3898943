"""Issue 15's "done when", in one test: from the call to the dashboard counting the company as connected
within three days."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

from sqlalchemy import select

from tests.institutes.conftest import api
from tests.ivr.conftest import place_call, tickets_of  # noqa: F401  (fixture)
from tickets import accounts, auth
from tickets.models import OutboxMessage


def test_a_call_is_referred_accepted_resolved_reported_and_counted(
    client,
    session,
    make_user,
    make_institute,
    place_call,  # noqa: F811
    clock,
) -> None:
    kim = make_user("machinery-kim", fields=("machinery",), phone="010-5555-0201")
    boss = make_user("boss", role="supervisor", fields=("machinery",))
    token = accounts.issue_token(session, kim)
    make_institute(
        "kitech-e2e", name_ko="한국생산기술연구원(시험)", fields="machinery", regions="chungnam",
        support_types="equipment;rnd", contacts="홍길동|hong@example.org|010-4000-0001",
    )  # fmt: skip
    make_institute("far-away", fields="bio", support_types="equipment")
    session.flush()
    session.commit()

    # 1. a call files a ticket (machinery, equipment, this mobile number as the callback)
    result = place_call("field=2,support_type=1,callback=1,message=record", from_number="+821077778888")
    (ticket,) = tickets_of(session, result)
    ref = ticket.reference
    # 2. the consultant claims it (released first: routing gave it to the one consultant on duty)
    api(client, token, "POST", f"/tickets/{ref}/release")
    assert api(client, token, "POST", f"/tickets/{ref}/claim").get_json()["assignee"] == "machinery-kim"
    clock.advance(hours=2)
    called = api(client, token, "POST", f"/tickets/{ref}/attempts", {"outcome": "reached", "duration": 600})
    assert called.get_json()["ticket"]["status"] == "in_progress"
    diagnosis = {"summary": "금속 부품 인장강도 시험 성적서 필요", "needs": ["equipment"]}
    assert api(client, token, "POST", f"/tickets/{ref}/diagnosis", diagnosis).status_code == 201
    # 3. refers it to a suggested institute
    suggested = api(client, token, "GET", f"/tickets/{ref}/suggestions").get_json()["institutes"]
    assert [i["key"] for i in suggested] == ["kitech-e2e"]
    referral = api(client, token, "POST", f"/tickets/{ref}/referrals", {"institute": "kitech-e2e"}).get_json()
    email = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith(f"referral:{referral['id']}:referral:email"))
    ).one()
    link = re.search(r"/institute/r/[\w-]+", email.payload["text"]).group(0)
    # 4. the institute accepts through its link, the next day
    clock.advance(days=1)
    page = client.get(link)
    assert "금속 부품 인장강도" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    accepted = client.post(
        f"{link}/accept", data={"person": "박시험", "expected_at": "2026-12-11", "csrf_token": csrf}
    )
    assert accepted.status_code == 303
    # 5. the company gets its SMS
    (sms,) = session.scalars(
        select(OutboxMessage).where(OutboxMessage.key.startswith("referral-accepted:"))
    ).all()
    assert sms.recipient == "+821077778888" and "박시험" in sms.payload["text"]
    # 6. the ticket resolves as `referred`
    resolution = {"status": "resolved", "summary": "시험기관 연계", "resolution_type": "referred"}
    resolved = api(client, token, "POST", f"/tickets/{ref}/status", resolution)
    assert resolved.get_json()["status"] == "resolved"
    # 7. the outcome is reported later
    clock.advance(days=10)
    assert (
        client.post(f"{link}/outcome", data={"outcome": "성적서 발급 완료", "csrf_token": csrf}).status_code
        == 200
    )
    shown = api(client, token, "GET", f"/tickets/{ref}").get_json()
    assert shown["resolution_type"] == "referred"
    assert shown["referrals"][0]["status"] == "completed"
    # 8. the dashboard counts it as connected within 3 days
    with client.session_transaction() as browser:
        browser.update(auth.session_for(boss, clock.at))
    day = (clock.at + timedelta(hours=9)).date()
    page = client.get(f"/supervisor/referrals?first={day - timedelta(days=30)}&last={day}")
    assert page.status_code == 200
    assert re.search(r'id="in-time">1 \(100.0%\)', page.text)
    exported = client.get(f"/supervisor/export/referrals.csv?first={day - timedelta(days=30)}&last={day}")
    rows = list(csv.reader(io.StringIO(exported.text.lstrip("\ufeff"))))
    assert ["연계 접수 건수", "1"] in rows and ["3일 내 연계 비율(%)", "100.0"] in rows
    assert ["kitech-e2e", "한국생산기술연구원(시험)", "1", "1", "0", "0", "100.0", "0.0"] in rows
