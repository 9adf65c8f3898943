"""The institute registry: the CSV import as Excel writes it, the CLI, and GET /api/v1/institutes."""

from __future__ import annotations

import json

from sqlalchemy import select

from ivr.cli import cli
from tests.institutes.conftest import api
from tickets import accounts, institutes
from tickets.db import db
from tickets.models import Institute

HEADER = "key,name_ko,name_en,kind,regions,fields,support_types,keywords,contacts,active\n"
KITECH = (
    "kitech-test,한국생산기술시험원,Test Institute of Production,연구기관,대전;충남,machinery;chemistry,"
    "equipment;rnd,3D 프린터;인장시험기,홍길동|hong@example.org|010-4000-0001,1\n"
)
TECHNO = "daegu-tp,대구테크노파크,,technopark,daegu,it,advice,,김영희|kim@example.org|053-123-4567,yes\n"


def _import(session, app, text: str, encoding: str = "utf-8-sig", dry_run: bool = False):
    routing = app.config["HOTLINE"].routing
    report = institutes.import_csv(
        session,
        text.encode(encoding),
        field_keys=routing.field_keys,
        support_type_keys=routing.support_type_keys,
    )
    return {r.key: (r.outcome, r.detail) for r in report.rows}


def test_the_import_takes_excel_utf8_with_bom_and_cp949_and_is_idempotent(app, session) -> None:
    first = _import(session, app, HEADER + KITECH + TECHNO, "utf-8-sig")
    assert first == {"kitech-test": ("added", ""), "daegu-tp": ("added", "")}
    kitech = institutes.find(session, "kitech-test")
    assert kitech is not None and kitech.kind == "research_institute"
    assert kitech.regions == ["daejeon", "chungnam"] and kitech.contacts[0].phone == "+821040000001"
    # The same file again, saved by Korean Excel in CP949: nothing changes.
    again = _import(session, app, HEADER + KITECH + TECHNO, "cp949")
    assert again == {"kitech-test": ("unchanged", ""), "daegu-tp": ("unchanged", "")}
    # UTF-8 without BOM, one name changed: only that is reported.
    changed = _import(session, app, HEADER + TECHNO.replace("대구테크노파크", "대구 테크노파크"), "utf-8")
    assert changed == {"daegu-tp": ("changed", "name_ko")}
    assert len(session.scalars(select(Institute)).all()) == 2


def test_a_bad_row_is_refused_with_its_reason_and_the_others_are_saved(app, session) -> None:
    bad_field = "bad-1,나쁜기관,,technopark,seoul,rocketry,advice,,a|a@example.org|,1\n"
    no_contact = "bad-2,연락처없음,,university,seoul,it,advice,,,1\n"
    bad_kind = "bad-3,종류틀림,,castle,seoul,it,advice,,a|a@example.org|,1\n"
    report = _import(session, app, HEADER + bad_field + TECHNO + no_contact + bad_kind + TECHNO)
    assert report["daegu-tp"][0] == "refused" and "line 3" in report["daegu-tp"][1]  # the duplicate key
    assert "rocketry" in report["bad-1"][1]
    assert "contact" in report["bad-2"][1]
    assert "castle" in report["bad-3"][1]
    assert [i.key for i in institutes.list_institutes(session)] == ["daegu-tp"]


def test_cli_import_dry_run_changes_nothing_then_the_import_saves(app, session, tmp_path) -> None:
    path = tmp_path / "institutes.csv"
    path.write_bytes((HEADER + KITECH).encode("cp949"))
    runner = app.test_cli_runner()
    dry = runner.invoke(cli, ["institutes", "import", str(path), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    assert json.loads(dry.output)["rows"][0]["outcome"] == "added"
    assert institutes.find(db.session(), "kitech-test") is None
    saved = runner.invoke(cli, ["institutes", "import", str(path)])
    assert saved.exit_code == 0 and "1 added" in saved.output
    listed = runner.invoke(cli, ["institutes", "list", "--field", "machinery", "--json"])
    data = json.loads(listed.output)["institutes"]
    assert [i["key"] for i in data] == ["kitech-test"]
    assert set(data[0]) >= {"key", "name", "kind", "regions", "fields", "support_types", "active", "contacts"}
    assert runner.invoke(cli, ["institutes", "list", "--field", "bio", "--json"]).output.count("kitech") == 0


def test_api_lists_institutes_filtered_by_field_support_type_and_words(
    client, session, make_user, make_institute
) -> None:
    token = accounts.issue_token(session, make_user("it-kim"))
    make_institute("etri-test", fields="it", support_types="rnd;transfer", keywords="5G;반도체 설계")
    make_institute("ktl-test", fields="it;electronics", support_types="equipment", kind="시험기관")
    make_institute("old-test", fields="it", support_types="equipment", active="no")
    everything = api(client, token, "GET", "/institutes").get_json()["institutes"]
    assert [i["key"] for i in everything] == ["etri-test", "ktl-test", "old-test"]
    assert everything[1]["kind"] == "testing_body" and everything[2]["active"] is False
    equipment = api(client, token, "GET", "/institutes?field=it&support_type=equipment").get_json()
    assert [i["key"] for i in equipment["institutes"]] == ["ktl-test", "old-test"]
    words = api(client, token, "GET", "/institutes?q=반도체").get_json()["institutes"]
    assert [i["key"] for i in words] == ["etri-test"]
    assert api(client, None, "GET", "/institutes").status_code == 401
