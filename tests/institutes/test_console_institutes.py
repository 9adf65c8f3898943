"""Admins manage the registry in the console by the CSV import's rules; the demo seeds invented ones."""

from __future__ import annotations

from sqlalchemy import func, select

from tests.institutes.conftest import ROUTING_FIELDS, SUPPORT_TYPES
from tests.tickets.test_console_auth import _csrf, login
from tickets import demo, institutes
from tickets.db import db
from tickets.models import Institute, InstituteKind
from tickets.regions import REGIONS

NEW_INSTITUTE = {
    "key": "console-lab",
    "name_ko": "콘솔시험연구원",
    "name_en": "Console Test Institute",
    "kind": "testing_body",
    "regions": ["daejeon", "sejong"],
    "fields": ["it", "machinery"],
    "support_types": ["equipment", "information"],
    "keywords": "항온항습 챔버, 진동 시험기",
    "contact_name": ["홍길동", "", ""],
    "contact_email": ["hong@example.org", "", ""],
    "contact_phone": ["010-5555-7101", "", ""],
    "active": "on",
}


def _post(client, path: str, data: dict) -> object:
    return client.post(path, data={"csrf_token": _csrf(client.get("/console/me").data), **data})


def test_only_admins_manage_institutes(client, make_user) -> None:
    make_user("it-kim")
    login(client, "it-kim")
    assert client.get("/console/admin/institutes").status_code == 403
    assert _post(client, "/console/admin/institutes/new", NEW_INSTITUTE).status_code == 403


def test_an_admin_adds_searches_edits_and_deactivates_an_institute(client, session, make_user) -> None:
    make_user("admin", role="admin", fields=())
    login(client, "admin")
    assert "연계 기관 관리" in client.get("/console/me").get_data(as_text=True)  # linked in the header
    assert _post(client, "/console/admin/institutes/new", NEW_INSTITUTE).status_code == 303
    saved = institutes.find(session, "console-lab")
    assert saved is not None
    assert institutes.institute_json(saved) == {
        "key": "console-lab",
        "name": {"ko": "콘솔시험연구원", "en": "Console Test Institute"},
        "kind": "testing_body",
        "regions": ["daejeon", "sejong"],
        "fields": ["it", "machinery"],
        "support_types": ["equipment", "information"],
        "keywords": ["항온항습 챔버", "진동 시험기"],
        "active": True,
        "contacts": [{"name": "홍길동", "email": "hong@example.org", "phone": "+821055557101"}],
    }
    listed = client.get("/console/admin/institutes?q=진동").get_data(as_text=True)
    assert 'data-institute="console-lab"' in listed and "시험기관" in listed
    assert 'data-institute="console-lab"' not in client.get("/console/admin/institutes?field=bio").text
    # The same key again is refused, not merged into the first.
    taken = _post(client, "/console/admin/institutes/new", {**NEW_INSTITUTE, "name_ko": "다른 기관"})
    assert taken.status_code == 422 and "taken" in taken.text
    # Editing: a second contact, the first one's number changed; the form shows what was there.
    form = client.get("/console/admin/institutes/console-lab").get_data(as_text=True)
    assert 'value="010-5555-7101"' in form and "바꿀 수 없습니다" in form
    edited = {
        **NEW_INSTITUTE,
        "contact_name": ["홍길동", "김철수", ""],
        "contact_email": ["hong@example.org", "", ""],
        "contact_phone": ["010-5555-7102", "010-5555-7103", ""],
    }
    assert _post(client, "/console/admin/institutes/console-lab", edited).status_code == 303
    db.session.expire_all()
    assert [(c.name, c.phone) for c in institutes.find(session, "console-lab").contacts] == [
        ("홍길동", "+821055557102"),
        ("김철수", "+821055557103"),
    ]
    assert _post(client, "/console/admin/institutes/console-lab/deactivate", {}).status_code == 303
    db.session.expire_all()
    assert institutes.find(session, "console-lab").active is False
    assert "비활성" in client.get("/console/admin/institutes").get_data(as_text=True)


def test_the_console_refuses_what_the_csv_import_refuses_for_the_same_reason(
    client, session, make_user
) -> None:
    make_user("admin", role="admin", fields=())
    login(client, "admin")
    bad = {**NEW_INSTITUTE, "key": "bad-lab", "contact_phone": ["12345", "", ""]}
    refused = _post(client, "/console/admin/institutes/new", bad)
    csv_row = (
        "key,name_ko,kind,fields,support_types,contacts\n"
        "bad-lab,콘솔시험연구원,testing_body,it,equipment,홍길동|hong@example.org|12345\n"
    )
    report = institutes.import_csv(
        session, csv_row.encode(), field_keys=ROUTING_FIELDS, support_type_keys=SUPPORT_TYPES
    )
    (row,) = report.rows
    assert row.outcome == "refused"
    assert refused.status_code == 422 and row.detail in refused.get_data(as_text=True).replace("&#39;", "'")
    assert institutes.find(session, "bad-lab") is None
    assert 'value="콘솔시험연구원"' in refused.get_data(as_text=True)  # the form comes back filled
    no_contact = {**NEW_INSTITUTE, "key": "lonely-lab", "contact_name": [""], "contact_email": [""],
                  "contact_phone": [""]}  # fmt: skip
    assert _post(client, "/console/admin/institutes/new", no_contact).status_code == 422


def test_the_demo_seeds_invented_institutes_covering_every_field_once(session, config) -> None:
    demo.seed(session, config)
    seeded = session.scalars(select(Institute).where(Institute.key.startswith("demo-"))).all()
    assert len(seeded) >= 12
    assert {f for i in seeded for f in i.fields} == set(config.routing.field_keys)
    assert {s for i in seeded for s in i.support_types} == set(config.routing.support_type_keys)
    assert {i.kind for i in seeded} == set(InstituteKind)
    assert {r for i in seeded for r in i.regions} <= set(REGIONS) and all(i.name_en for i in seeded)
    assert all(i.keywords and i.contacts for i in seeded) and any(not i.active for i in seeded)
    contacts = [c for i in seeded for c in i.contacts]
    assert all(c.email and c.email.endswith("@example.org") for c in contacts)  # no real addresses
    assert all(c.phone is None or c.phone.startswith("+82105555") for c in contacts)  # no real numbers
    # Idempotent, and an admin's edit survives the next seed.
    seeded[0].name_ko = "관리자가 바꾼 이름"
    session.flush()
    demo.seed(session, config)
    assert session.scalar(select(func.count(Institute.id))) == len(seeded)
    assert session.get(Institute, seeded[0].id).name_ko == "관리자가 바꾼 이름"
