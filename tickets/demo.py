"""Demo data for trying the hotline on a laptop: two consultants per field, a supervisor, an admin, tickets,
and invented partner institutes (tickets.demo_institutes).

Idempotent: what exists already is left alone, so `hotline demo seed` can run at every start.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from tickets import accounts, clock
from tickets.demo_institutes import seed_institutes
from tickets.intake import open_ticket
from tickets.models import Call, User
from tickets.ticket_config import GENERAL_FIELD

DEMO_PASSWORD = "hotline1379"
SURNAMES = ("kim", "lee", "park", "choi", "jung", "kang", "cho", "yoon", "jang", "lim", "han", "oh")
KOREAN_SURNAMES = {
    "kim": "김",
    "lee": "이",
    "park": "박",
    "choi": "최",
    "jung": "정",
    "kang": "강",
    "cho": "조",
    "yoon": "윤",
    "jang": "장",
    "lim": "임",
    "han": "한",
    "oh": "오",
}
# (field, support type, callback number, hours ago): a morning's worth of calls.
DEMO_CALLS = (
    ("it", "advice", "+821020001001", 2),
    ("machinery", "equipment", "+821020001002", 30),
    ("electronics", "rnd", "+82212345678", 50),
    ("bio", "information", "+821020001004", 5),
    ("chemistry", "transfer", "+821020001005", 66),
    ("energy", "staffing", "+821020001006", 1),
    (GENERAL_FIELD, "other", "+821020001007", 3),
)


class Config(Protocol):
    @property
    def routing(self) -> Any: ...

    @property
    def flow(self) -> Any: ...


def seed(session: Session, config: Config) -> list[tuple[str, str, str]]:
    """Create what is missing; return every demo login as (username, role, password)."""
    logins: list[tuple[str, str, str]] = []
    people: list[tuple[str, str, str, list[str], str]] = [
        ("admin", "admin", "관리자", [], "+821055550001"),
        ("supervisor", "supervisor", "김감독", [*config.routing.field_keys, GENERAL_FIELD], "+821055550002"),
    ]
    surnames = iter(SURNAMES)
    for index, field_key in enumerate(config.routing.field_keys):
        option = config.flow.field_by_key(field_key)
        for seat in (1, 2):
            surname = next(surnames)
            people.append(
                (
                    f"{field_key}-{surname}",
                    "consultant",
                    f"{KOREAN_SURNAMES[surname]} 전문위원 ({option.name('ko') if option else field_key})",
                    [field_key],
                    f"+82105555{index + 1:02d}{seat:02d}",
                )
            )
    for username, role, display_name, fields, phone in people:
        if session.scalar(select(User.id).where(User.username == username)) is None:
            accounts.add_user(
                session,
                username,
                role,
                display_name=display_name,
                fields=fields,
                phone=phone,
                password=DEMO_PASSWORD,
            )
        logins.append((username, role, DEMO_PASSWORD))

    seed_institutes(
        session, field_keys=config.routing.field_keys, support_type_keys=config.routing.support_type_keys
    )
    now = clock.now()
    for number, (field_key, support_type, callback, hours_ago) in enumerate(DEMO_CALLS, start=1):
        if field_key != GENERAL_FIELD and field_key not in config.routing.field_keys:
            continue
        call_sid = f"CAdemo{number:026d}"
        if session.scalar(select(Call.id).where(Call.call_sid == call_sid)) is not None:
            continue
        started = now - timedelta(hours=hours_ago)
        call = Call(
            call_sid=call_sid,
            from_number=callback,
            to_number=config.flow.hotline_number,
            step=None,
            status="completed",
            flow_completed=True,
            started_at=started,
            updated_at=started,
            ended_at=started,
        )
        session.add(call)
        open_ticket(
            session,
            now=started,
            field=field_key,
            support_type=support_type,
            language="ko",
            caller_number=callback,
            callback_number=callback,
            call=call,
        )
    session.flush()
    return logins
