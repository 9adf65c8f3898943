"""The center's working time: Monday to Friday, 09:00–18:00 Asia/Seoul, without Korean public holidays
(from the `holidays` package, substitute days included) and without the extra closed days of config.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

# The years for which the `holidays` package knows Korea's public holidays. Outside them it answers "no
# holiday" without a word, which would give wrong deadlines: such a year is refused instead.
HOLIDAY_YEARS = range(holidays.KR.start_year, holidays.KR.end_year + 1)


class HolidaysUnknown(ValueError):
    """A date in a year whose Korean public holidays the installed `holidays` package does not know."""


def holidays_known(year: int) -> bool:
    return year in HOLIDAY_YEARS


# A bound on the day-by-day walks: a calendar with no working day at all must fail, not loop for ever.
MAX_DAYS = 3660


@dataclass(frozen=True)
class BusinessHours:
    start: time = time(9, 0)
    end: time = time(18, 0)
    timezone: str = "Asia/Seoul"
    closed_days: frozenset[date] = field(default_factory=frozenset)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _public_holidays(self) -> holidays.HolidayBase:
        # Years are filled in on lookup, so one object serves any date.
        return holidays.country_holidays("KR")

    @property
    def day_seconds(self) -> float:
        return (datetime.combine(date.min, self.end) - datetime.combine(date.min, self.start)).total_seconds()

    def is_working_day(self, day: date) -> bool:
        if not holidays_known(day.year):
            raise HolidaysUnknown(
                f"Korean public holidays of {day.year} are unknown to the installed `holidays` package "
                f"(it covers {HOLIDAY_YEARS.start}–{HOLIDAY_YEARS.stop - 1}): upgrade it"
            )
        return day.weekday() < 5 and day not in self._public_holidays and day not in self.closed_days

    def holiday_name(self, day: date) -> str | None:
        return self._public_holidays.get(day)

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.start, tzinfo=self.zone),
            datetime.combine(day, self.end, tzinfo=self.zone),
        )

    def add(self, moment: datetime, seconds: float) -> datetime:
        """The instant `seconds` of working time after `moment` (UTC). Landing on closing time stays there."""
        remaining = timedelta(seconds=seconds)
        current = moment.astimezone(self.zone)
        if remaining <= timedelta(0):
            return moment.astimezone(UTC)
        for _ in range(MAX_DAYS):
            day = current.date()
            if self.is_working_day(day):
                opens, closes = self._window(day)
                current = max(current, opens)
                if current < closes:
                    available = closes - current
                    if remaining <= available:
                        return (current + remaining).astimezone(UTC)
                    remaining -= available
            current = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        raise ValueError(f"no working time within {MAX_DAYS} days of {moment.isoformat()}")

    def back(self, moment: datetime, seconds: float) -> datetime:
        """The instant `seconds` of working time before `moment` (UTC): "one working day ago"."""
        remaining = timedelta(seconds=seconds)
        current = moment.astimezone(self.zone)
        if remaining <= timedelta(0):
            return moment.astimezone(UTC)
        for _ in range(MAX_DAYS):
            day = current.date()
            if self.is_working_day(day):
                opens, closes = self._window(day)
                current = min(current, closes)
                if current > opens:
                    available = current - opens
                    if remaining <= available:
                        return (current - remaining).astimezone(UTC)
                    remaining -= available
            current = datetime.combine(day, time(0), tzinfo=self.zone) - timedelta(microseconds=1)
        raise ValueError(f"no working time within {MAX_DAYS} days before {moment.isoformat()}")

    def between(self, begin: datetime, end: datetime) -> float:
        """Seconds of working time from `begin` to `end` (0 when end is not after begin)."""
        if end <= begin:
            return 0.0
        total = 0.0
        local_end = end.astimezone(self.zone)
        day = begin.astimezone(self.zone).date()
        while day <= local_end.date():
            if self.is_working_day(day):
                opens, closes = self._window(day)
                lo, hi = max(opens, begin), min(closes, end)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += timedelta(days=1)
        return total

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.zone).date()
