"""The throttle on guessing: failed logins and API tokens counted per client address, in the database.

The count lives in a table (LoginThrottle), not in a process, so every web host sees the same failures, and
each change is one atomic `INSERT … ON CONFLICT DO UPDATE`, so parallel guesses cannot all read the same
count and slip under the limit. Failures are counted in fixed windows (`throttle_minutes`); a key over its
limit waits until its window ends.

Two keys per password guess: the address with the name tried, and the address alone (every name). A lock
is on an address, never on an account alone: someone guessing at "admin" locks themself out, not the admin
working from another address. Names are keyed whether or not they exist, so a lock tells nothing about
which usernames do.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, and_, case, delete, func, literal, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from tickets.db import UTCDateTime
from tickets.models import LoginThrottle
from tickets.ticket_config import LoginConfig

ANY_NAME = ""  # the username of an address's own row: its failures with every name and token
# No window is longer (config checks `logins.throttle_minutes`; the web form counts by the hour), so a row
# whose window started before this counts nothing and may go (forget_stale).
LONGEST_WINDOW = timedelta(days=1)
KEY_LENGTH = 64  # the columns' size; longer names cannot exist (tickets.accounts) and are cut to fit

_TABLE = cast(Table, LoginThrottle.__table__)


class Locked(Exception):
    """Too many failures from this address (for this name): try again in `minutes`."""

    def __init__(self, minutes: int) -> None:
        super().__init__(f"locked for {minutes} more minutes")
        self.minutes = minutes


def _key(value: str) -> str:
    return value[:KEY_LENGTH]


def _window(config: LoginConfig) -> timedelta:
    return timedelta(minutes=config.throttle_minutes)


def _minutes_left(window_started_at: datetime, config: LoginConfig, now: datetime) -> int:
    return max(1, math.ceil((window_started_at + _window(config) - now).total_seconds() / 60))


def _count(session: Session, address: str, username: str, now: datetime, window: timedelta) -> Any:
    """One more failure for the key, atomically; a key whose window ended starts a new one at 1."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    stale = _TABLE.c.window_started_at <= now - window
    statement = (
        insert(_TABLE)
        .values(address=_key(address), username=_key(username), failures=1, window_started_at=now)
        .on_conflict_do_update(
            index_elements=[_TABLE.c.address, _TABLE.c.username],
            set_={
                "failures": case((stale, 1), else_=_TABLE.c.failures + 1),
                "window_started_at": case(
                    (stale, literal(now, UTCDateTime())), else_=_TABLE.c.window_started_at
                ),
            },
        )
        .returning(_TABLE.c.failures, _TABLE.c.window_started_at)
    )
    return session.execute(statement).one()


def count_login_attempt(
    session: Session, address: str, username: str, now: datetime, config: LoginConfig
) -> None:
    """Count a password guess as a failure before it is checked, or raise Locked if it is one too many.

    Counting first is what makes the limit hold under parallel guesses: each guess has its number before
    any password is hashed. A guess that turns out right is taken back (`forgive_login_attempt`).
    """
    for name, limit in ((username, config.failures_per_username), (ANY_NAME, config.failures_per_address)):
        failures, started = _count(session, address, name, now, _window(config))
        if failures > limit:
            raise Locked(_minutes_left(started, config, now))


def forgive_login_attempt(session: Session, address: str, username: str) -> None:
    """A right password: that name's failures from this address are forgotten and this attempt is taken
    back from the address. The address's earlier failures stay: knowing one password must not reset the
    count against the others."""
    session.execute(
        delete(_TABLE).where(_TABLE.c.address == _key(address), _TABLE.c.username == _key(username))
    )
    session.execute(
        update(_TABLE)
        .where(_TABLE.c.address == _key(address), _TABLE.c.username == ANY_NAME, _TABLE.c.failures > 0)
        .values(failures=_TABLE.c.failures - 1)
    )


def check_address(session: Session, address: str, now: datetime, config: LoginConfig) -> None:
    """Raise Locked if this address has used up its failures (checked before an API token is looked at)."""
    row = session.execute(
        select(_TABLE.c.failures, _TABLE.c.window_started_at).where(
            and_(
                _TABLE.c.address == _key(address),
                _TABLE.c.username == ANY_NAME,
                _TABLE.c.window_started_at > now - _window(config),
            )
        )
    ).one_or_none()
    if row is not None and row.failures >= config.failures_per_address:
        raise Locked(_minutes_left(row.window_started_at, config, now))


def count_token_failure(session: Session, address: str, now: datetime, config: LoginConfig) -> None:
    """A wrong API token from this address."""
    _count(session, address, ANY_NAME, now, _window(config))


def _stale(now: datetime) -> Any:
    return _TABLE.c.window_started_at < now - LONGEST_WINDOW


def forget_stale(session: Session, now: datetime) -> int:
    """Delete the rows that count nothing any more (a new failure would start a new window); how many went.

    They hold client addresses and the names tried, and a name tried is now and then a password typed into
    the wrong field: kept no longer than a window can need them (daily, by scheduler.retention)."""
    return session.execute(delete(_TABLE).where(_stale(now))).rowcount  # type: ignore[attr-defined,no-any-return]


def count_stale(session: Session, now: datetime) -> int:
    return session.scalar(select(func.count()).select_from(_TABLE).where(_stale(now))) or 0


def forget_username(session: Session, username: str) -> None:
    """Lift the locks on a name from every address (an admin set a new password for it)."""
    session.execute(delete(_TABLE).where(_TABLE.c.username == _key(username)))


# Wrong one-time codes (tickets.two_step) are counted like passwords, under a key of their own: a right
# password must not forgive wrong codes, or whoever holds the password could guess codes without end.
# Usernames cannot hold "#" (tickets.accounts), so no code key is ever a password key.
CODE_KEY_PREFIX = "#"


def count_code_attempt(
    session: Session, address: str, username: str, now: datetime, config: LoginConfig
) -> None:
    """Count a one-time code as a failure before it is checked, or raise Locked (`count_login_attempt`)."""
    count_login_attempt(session, address, CODE_KEY_PREFIX + username, now, config)


def forgive_code_attempt(session: Session, address: str, username: str) -> None:
    forgive_login_attempt(session, address, CODE_KEY_PREFIX + username)


def forget_code_locks(session: Session, username: str) -> None:
    """Lift the locks on a name's codes from every address (an admin reset its second step)."""
    forget_username(session, CODE_KEY_PREFIX + username)


# Other things counted per key in fixed windows (the web form's SMS codes, tickets.web_requests), under names
# no username can hold ("!" is not allowed in one), so they never lift or add to a login's count.
EVENT_KEY_PREFIX = "!"


def count_event(session: Session, key: str, event: str, now: datetime, window: timedelta) -> int:
    """One more `event` for `key` (an address, or another key such as a hashed number), atomically; how many
    there were in the current window, this one included."""
    failures, _ = _count(session, key, EVENT_KEY_PREFIX + event, now, window)
    return int(failures)
