"""The registry of partner institutes: what each offers, whom to write to, and the CSV import that fills it.

About 60 institutes: every list reads them all and filters here, which is simpler than JSON queries that
differ between SQLite and PostgreSQL, and fast enough by far. An institute is named by its `key`
everywhere outside this module.

The CSV (one row per institute, as Excel writes it: UTF-8 with or without BOM, or CP949):

    key,name_ko,name_en,kind,regions,fields,support_types,keywords,contacts,active

Lists are separated by `;`. `contacts` holds `name|email|phone` entries, e.g.
`홍길동|hong@example.org|010-1234-5678; 김영희|kim@example.org|`. `kind` is a key or its Korean
name (연구기관, 대학, 테크노파크, 시험기관, 기타), regions likewise (daejeon or 대전). `active` is 1/0,
yes/no, y/n or empty (yes).
The import is idempotent on the key: a row adds the institute, changes it, leaves it as it is or is refused
with the reason; institutes missing from the file are left alone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import phonenumbers
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tickets.models import Institute, InstituteContact, InstituteKind, Referral, ReferralStatus
from tickets.regions import REGIONS, region_key

KIND_NAMES = {
    InstituteKind.RESEARCH_INSTITUTE: "연구기관",
    InstituteKind.UNIVERSITY: "대학",
    InstituteKind.TECHNOPARK: "테크노파크",
    InstituteKind.TESTING_BODY: "시험기관",
    InstituteKind.OTHER: "기타",
}
_KIND_BY_NAME = {name: kind.value for kind, name in KIND_NAMES.items()} | {"연구원": "research_institute"}
CSV_COLUMNS = (
    "key", "name_ko", "name_en", "kind", "regions", "fields", "support_types", "keywords", "contacts",
    "active",
)  # fmt: skip
REQUIRED_COLUMNS = ("key", "name_ko", "kind", "fields", "support_types", "contacts")
MAX_KEY = 64


class InvalidInstitute(ValueError):
    """Why an institute's data cannot be taken, worded for the person who wrote it."""


@dataclass(frozen=True)
class ContactData:
    name: str
    email: str | None
    phone: str | None  # E.164


@dataclass(frozen=True)
class InstituteData:
    """An institute as a row or a form gives it, checked against config's fields and support types."""

    key: str
    name_ko: str
    name_en: str | None
    kind: str
    regions: tuple[str, ...]
    fields: tuple[str, ...]
    support_types: tuple[str, ...]
    keywords: tuple[str, ...] = ()
    contacts: tuple[ContactData, ...] = ()
    active: bool = True


def institute_json(institute: Institute) -> dict[str, Any]:
    """What the CLI and the API print of an institute."""
    return {
        "key": institute.key,
        "name": {"ko": institute.name_ko, "en": institute.name_en},
        "kind": institute.kind,
        "regions": list(institute.regions),
        "fields": list(institute.fields),
        "support_types": list(institute.support_types),
        "keywords": list(institute.keywords),
        "active": institute.active,
        "contacts": [{"name": c.name, "email": c.email, "phone": c.phone} for c in institute.contacts],
    }


def find(session: Session, key: str) -> Institute | None:
    return session.scalar(select(Institute).where(Institute.key == key.strip()))


def list_institutes(
    session: Session,
    *,
    field: str | None = None,
    support_type: str | None = None,
    q: str | None = None,
    active_only: bool = False,
) -> list[Institute]:
    """Institutes by key, optionally only those serving `field`, offering `support_type` and matching `q`
    (a word in the key, either name or the keywords, case-insensitive)."""
    chosen = []
    needle = (q or "").strip().casefold()
    for institute in session.scalars(select(Institute).order_by(Institute.key)):
        if active_only and not institute.active:
            continue
        if field and field not in institute.fields:
            continue
        if support_type and support_type not in institute.support_types:
            continue
        if needle:
            words = [institute.key, institute.name_ko, institute.name_en or "", *institute.keywords]
            if not any(needle in word.casefold() for word in words):
                continue
        chosen.append(institute)
    return chosen


def open_referral_counts(session: Session) -> dict[int, int]:
    """Referrals waiting on each institute (sent or accepted), by institute id."""
    rows = session.execute(
        select(Referral.institute_id, func.count())
        .where(Referral.status.in_([ReferralStatus.SENT, ReferralStatus.ACCEPTED]))
        .group_by(Referral.institute_id)
    )
    return {institute_id: count for institute_id, count in rows}


# --- checking what people wrote ---------------------------------------------------------------------------


def _list(text: str | None) -> list[str]:
    return [part.strip() for part in (text or "").split(";") if part.strip()]


def _known(values: Iterable[str], known: Sequence[str], what: str) -> tuple[str, ...]:
    values = list(dict.fromkeys(values))
    unknown = [v for v in values if v not in known]
    if unknown:
        raise InvalidInstitute(f"unknown {what} {', '.join(map(repr, unknown))} (known: {', '.join(known)})")
    return tuple(values)


def phone_e164(raw: str) -> str:
    try:
        number = phonenumbers.parse(raw, "KR")
    except phonenumbers.NumberParseException:
        raise InvalidInstitute(f"{raw!r} is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidInstitute(f"{raw!r} is not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_contacts(text: str | None) -> tuple[ContactData, ...]:
    """`name|email|phone; …` (email or phone may be empty, not both)."""
    contacts = []
    for entry in _list(text):
        parts = [p.strip() for p in entry.split("|")]
        if len(parts) > 3 or not parts[0]:
            raise InvalidInstitute(f"contact {entry!r}: write name|email|phone")
        name, email, phone = (parts + ["", ""])[:3]
        if email and ("@" not in email or " " in email):
            raise InvalidInstitute(f"contact {name}: {email!r} is not an e-mail address")
        if not email and not phone:
            raise InvalidInstitute(f"contact {name}: give an e-mail address or a phone number")
        contacts.append(ContactData(name, email or None, phone_e164(phone) if phone else None))
    return tuple(contacts)


def _active(text: str | None) -> bool:
    value = (text or "").strip().lower()
    if value in ("", "1", "yes", "y", "true", "예", "o"):
        return True
    if value in ("0", "no", "n", "false", "아니오", "x"):
        return False
    raise InvalidInstitute(f"active: {text!r} is neither yes nor no")


def parse_row(
    row: dict[str, str | None], *, field_keys: Sequence[str], support_type_keys: Sequence[str]
) -> InstituteData:
    """An institute from a CSV row or a console form (the CSV's column names), or InvalidInstitute."""
    key = (row.get("key") or "").strip()
    if not key or len(key) > MAX_KEY or any(c.isspace() for c in key):
        raise InvalidInstitute(f"key: {key!r} must be 1–{MAX_KEY} characters without spaces")
    name_ko = (row.get("name_ko") or "").strip()
    if not name_ko:
        raise InvalidInstitute("name_ko: the Korean name is required")
    raw_kind = (row.get("kind") or "").strip()
    kind = raw_kind.lower() if raw_kind.lower() in set(InstituteKind) else _KIND_BY_NAME.get(raw_kind)
    if kind is None:
        raise InvalidInstitute(f"kind: {raw_kind!r} is not one of {', '.join(InstituteKind)}")
    regions = []
    for raw in _list(row.get("regions")):
        region = region_key(raw)
        if region is None:
            raise InvalidInstitute(f"regions: unknown region {raw!r} (known: {', '.join(REGIONS)})")
        regions.append(region)
    fields = _known(_list(row.get("fields")), field_keys, "field")
    support_types = _known(_list(row.get("support_types")), support_type_keys, "support type")
    if not fields or not support_types:
        raise InvalidInstitute("fields and support_types: an institute serves at least one of each")
    contacts = parse_contacts(row.get("contacts"))
    if not contacts:
        raise InvalidInstitute("contacts: at least one contact is needed to send referrals to")
    return InstituteData(
        key=key,
        name_ko=name_ko,
        name_en=(row.get("name_en") or "").strip() or None,
        kind=kind,
        regions=tuple(dict.fromkeys(regions)),
        fields=fields,
        support_types=support_types,
        keywords=tuple(dict.fromkeys(_list(row.get("keywords")))),
        contacts=contacts,
        active=_active(row.get("active")),
    )


# --- writing ----------------------------------------------------------------------------------------------


def _current(institute: Institute) -> dict[str, Any]:
    return {
        "name_ko": institute.name_ko,
        "name_en": institute.name_en,
        "kind": institute.kind,
        "regions": tuple(institute.regions),
        "fields": tuple(institute.fields),
        "support_types": tuple(institute.support_types),
        "keywords": tuple(institute.keywords),
        "contacts": tuple(ContactData(c.name, c.email, c.phone) for c in institute.contacts),
        "active": institute.active,
    }


def save(session: Session, data: InstituteData) -> tuple[str, list[str]]:
    """Add or update the institute of `data.key`: ("added" | "changed" | "unchanged", changed columns).

    Contacts are matched by name, so a referral's contact keeps its row when an e-mail address changes."""
    institute = find(session, data.key)
    wanted = {name: getattr(data, name) for name in _current_keys()}
    if institute is None:
        institute = Institute(key=data.key)
        session.add(institute)
        outcome, changed = "added", []
    else:
        before = _current(institute)
        changed = [name for name, value in wanted.items() if before[name] != value]
        if not changed:
            return "unchanged", []
        outcome = "changed"
    for name in ("name_ko", "name_en", "kind", "active"):
        setattr(institute, name, wanted[name])
    for name in ("regions", "fields", "support_types", "keywords"):
        setattr(institute, name, list(wanted[name]))
    existing = {c.name: c for c in institute.contacts}
    institute.contacts = [
        _contact(existing.get(contact.name), contact, position)
        for position, contact in enumerate(data.contacts)
    ]
    session.flush()
    return outcome, changed


def _current_keys() -> tuple[str, ...]:
    return (
        "name_ko",
        "name_en",
        "kind",
        "regions",
        "fields",
        "support_types",
        "keywords",
        "contacts",
        "active",
    )


def _contact(row: InstituteContact | None, data: ContactData, position: int) -> InstituteContact:
    row = row or InstituteContact(name=data.name)
    row.email, row.phone, row.position = data.email, data.phone, position
    return row


# --- the CSV import ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowResult:
    line: int  # the file's line number, as a spreadsheet numbers rows (the header is 1)
    key: str
    outcome: str  # added, changed, unchanged, refused
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "key": self.key, "outcome": self.outcome, "detail": self.detail}


@dataclass
class ImportReport:
    rows: list[RowResult] = field(default_factory=list)

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)


def decode(raw: bytes) -> str:
    """The text of a CSV as Excel saves it: UTF-8 (a BOM or not) or, failing that, CP949 (Korean Windows)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp949")
    except UnicodeDecodeError:
        raise InvalidInstitute("the file is neither UTF-8 nor CP949 text") from None


def import_csv(
    session: Session, raw: bytes, *, field_keys: Sequence[str], support_type_keys: Sequence[str]
) -> ImportReport:
    """Every row of the file, each added, changed, left unchanged or refused with its reason. Flushes; the
    caller commits (or rolls back, for a dry run)."""
    reader = csv.DictReader(io.StringIO(decode(raw), newline=""))
    header = [name.strip() for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise InvalidInstitute(f"the header lacks {', '.join(missing)} (columns: {', '.join(CSV_COLUMNS)})")
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if unknown:
        raise InvalidInstitute(f"unknown columns {', '.join(unknown)} (columns: {', '.join(CSV_COLUMNS)})")
    reader.fieldnames = header
    report = ImportReport()
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        key = (row.get("key") or "").strip()
        if not any((value or "").strip() for value in row.values() if isinstance(value, str)):
            continue  # a blank line Excel left at the end
        if key in seen:
            report.rows.append(RowResult(line, key, "refused", f"the key is on line {seen[key]} already"))
            continue
        seen[key] = line
        try:
            data = parse_row(row, field_keys=field_keys, support_type_keys=support_type_keys)
        except InvalidInstitute as error:
            report.rows.append(RowResult(line, key, "refused", str(error)))
            continue
        outcome, changed = save(session, data)
        report.rows.append(RowResult(line, key, outcome, ", ".join(changed)))
    return report
