"""The one clock. Everything that needs "now" asks `clock.now()`; nothing else reads the wall clock.

It is process-wide on purpose: views, services, jobs, column defaults and the CLI must agree on the time,
and a test or a demo that moves it moves it for all of them (`frozen`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


def system_time() -> datetime:
    return datetime.now(UTC)


_source: Callable[[], datetime] = system_time


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    return _source()


def set_source(source: Callable[[], datetime]) -> Callable[[], datetime]:
    """Replace the clock's source; returns the previous one so the caller can put it back."""
    global _source
    previous, _source = _source, source
    return previous


class FrozenClock:
    """A clock that stands still until moved: for tests and reproducible demos."""

    def __init__(self, at: datetime) -> None:
        if at.tzinfo is None:
            raise ValueError(f"naive datetime {at!r}: the clock keeps timezone-aware time")
        self.at = at.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.at

    def move_to(self, at: datetime) -> None:
        self.at = at.astimezone(UTC)

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


@contextmanager
def frozen(at: datetime) -> Iterator[FrozenClock]:
    """Stop the clock at `at` for the duration of the block."""
    clock = FrozenClock(at)
    previous = set_source(clock)
    try:
        yield clock
    finally:
        set_source(previous)
