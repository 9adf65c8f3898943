"""One code, sent twice at the same moment (a double click, or an attacker racing its owner): exactly one
login gets in, on SQLite and PostgreSQL. The same for a recovery code. These tests commit, from real threads
with sessions of their own, so they delete what they made."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pyotp
import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from tickets import accounts, auth, two_step
from tickets.models import LoginThrottle, RecoveryCode, User
from tickets.ticket_config import LoginConfig

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
RACERS = 6


@pytest.fixture
def enrolled(engine: Engine) -> Iterator[tuple[str, pyotp.TOTP, list[str]]]:
    """A user of this test's own with the second step on since half a minute ago; removed afterwards."""
    name = f"race-{uuid.uuid4().hex[:8]}"
    with Session(engine) as session, session.begin():
        user = accounts.add_user(session, name, "consultant", password="hotline1379")
        totp = pyotp.TOTP(two_step.enrolment_secret(user))
        codes = two_step.confirm_enrolment(session, user, totp.at(NOW.timestamp() - 30), NOW)
        assert codes is not None
    yield name, totp, codes
    with Session(engine) as session, session.begin():
        user_id = session.scalar(select(User.id).where(User.username == name))
        session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
        session.execute(delete(User).where(User.id == user_id))
        session.execute(delete(LoginThrottle).where(LoginThrottle.address.startswith(name)))


def _send_at_once(engine: Engine, username: str, code: str) -> Counter[str]:
    """One thread per racer, each from an address of its own (the throttle is not what is tested)."""
    start = threading.Barrier(RACERS)
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def send(n: int) -> None:
        try:
            with Session(engine) as session:
                user = session.scalar(select(User).where(User.username == username))
                assert user is not None
                session.commit()
                start.wait(timeout=30)
                auth.check_code(session, user, code, NOW, address=f"{username}-{n}", config=LoginConfig())
            outcome = "in"
        except auth.LoginError:
            outcome = "refused"
        except BaseException as error:  # noqa: BLE001 - reported by the test
            outcome = repr(error)
        with lock:
            outcomes[outcome] += 1

    threads = [threading.Thread(target=send, args=(n,)) for n in range(RACERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes


def test_a_code_sent_twice_at_once_lets_one_login_in(engine: Engine, enrolled) -> None:  # type: ignore[no-untyped-def]
    username, totp, _codes = enrolled
    assert _send_at_once(engine, username, totp.at(NOW)) == Counter({"in": 1, "refused": RACERS - 1})


def test_a_recovery_code_sent_twice_at_once_lets_one_login_in(engine: Engine, enrolled) -> None:  # type: ignore[no-untyped-def]
    username, _totp, codes = enrolled
    assert _send_at_once(engine, username, codes[0]) == Counter({"in": 1, "refused": RACERS - 1})
