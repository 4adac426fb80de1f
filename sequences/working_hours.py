"""An identity's working hours as a calendar of UTC windows, DST-correct.

The spec: working hours are per identity (time zone, days, start/end) and
apply to every LinkedIn and email action. Windows are computed from local
wall-clock times with `zoneinfo`, so 09:00 stays 09:00 across a DST change
(the UTC instant moves, the local hour does not). Daily and monthly caps reset
at local midnight / the local first of the month, also computed here.

Pure: no clock reads; every function takes the instant it reasons about.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache
from typing import Iterator
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
UTC = timezone.utc
ONE_DAY = timedelta(days=1)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The UTC instant of local wall time `at` on `day`. A time inside a
    spring-forward gap maps to the instant just after the gap (fold=0 rule)."""
    naive = datetime.combine(day, at)
    aware = naive.replace(tzinfo=tz)
    utc = aware.astimezone(UTC)
    # A non-existent local time round-trips to a different wall time; use the
    # first real instant after the gap instead of one before it.
    back = utc.astimezone(tz).replace(tzinfo=None)
    if back < naive:
        utc = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    return utc


@dataclass(frozen=True)
class WorkingHours:
    """Days (0=Monday) and a daily [start, end) span in `tz`. `end <= start`
    means the span crosses midnight (it belongs to the day it starts on)."""

    tz: ZoneInfo
    days: frozenset[int]
    start: time
    end: time
    # local day -> its UTC window. The limiter asks for the same few days at every pick,
    # and the zoneinfo conversions were a tenth of a simulation's time.
    _by_day: dict[date, tuple[datetime, datetime]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def parse(cls, tz: str, days: str | list[str], start: str, end: str) -> "WorkingHours":
        """From the identities table's text columns (`working_days` 'mon,tue,…')."""
        names = days.split(",") if isinstance(days, str) else list(days)
        idx = frozenset(WEEKDAYS.index(d.strip().lower()[:3]) for d in names if d.strip())
        return cls(ZoneInfo(tz), idx, time.fromisoformat(start), time.fromisoformat(end))

    @classmethod
    def of_identity(cls, row: dict) -> "WorkingHours":
        return cls.parse(row["timezone"], row["working_days"], row["work_start"], row["work_end"])

    # -- windows ---------------------------------------------------------

    def window_on(self, day: date) -> tuple[datetime, datetime] | None:
        """The UTC window that starts on local `day`, or None on a day off."""
        if day.weekday() not in self.days:
            return None
        w = self._by_day.get(day)
        if w is None:
            begin = _local(day, self.start, self.tz)
            end_day = day if self.end > self.start else day + ONE_DAY
            w = self._by_day[day] = (begin, _local(end_day, self.end, self.tz))
        return w

    def _first_ending_after(self, since: datetime) -> tuple[datetime, datetime]:
        """The first window that ends after `since` (the head of `windows(since)`)."""
        day = since.astimezone(self.tz).date() - ONE_DAY
        while True:
            w = self.window_on(day)
            if w is not None and w[1] > since:
                return w
            day += ONE_DAY

    def windows(self, since: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Every window that ends after `since`, in order (endless; none without days)."""
        if not self.days:
            return
        w = self._first_ending_after(since)
        while True:
            yield w
            w = self._first_ending_after(w[1])

    def current_window(self, at: datetime) -> tuple[datetime, datetime] | None:
        """The window containing `at`, or None when `at` is outside working hours."""
        if not self.days:
            return None
        w = self._first_ending_after(at)
        return w if w[0] <= at else None

    def is_open(self, at: datetime) -> bool:
        return self.current_window(at) is not None

    def next_open(self, at: datetime) -> datetime:
        """`at` itself when inside working hours, else the next window's start."""
        if not self.days:
            raise ValueError("no working days configured")
        begin, _ = self._first_ending_after(at)
        return max(begin, at)

    def next_openings(self, at: datetime, count: int) -> list[tuple[datetime, datetime]]:
        """The next `count` windows that start after `at` (what the identity's settings show the
        user, so a time zone or hours change can be checked before the runtime acts on it)."""
        out: list[tuple[datetime, datetime]] = []
        for w in self.windows(at):
            if len(out) == count:
                break
            if w[0] > at:
                out.append(w)
        return out

    def windows_between(self, since: datetime, until: datetime) -> list[tuple[datetime, datetime]]:
        """Windows overlapping [since, until), clipped to it."""
        out = []
        if not self.days:
            return out
        for begin, end in self.windows(since):
            if begin >= until:
                break
            out.append((max(begin, since), min(end, until)))
        return out

    # -- calendar periods for caps ---------------------------------------

    def day_start(self, at: datetime) -> datetime:
        """Local midnight (as UTC) of the local day containing `at`."""
        return _day_start(self.tz, at.astimezone(self.tz).date())

    def next_day_start(self, at: datetime) -> datetime:
        return _day_start(self.tz, at.astimezone(self.tz).date() + ONE_DAY)

    def month_start(self, at: datetime) -> datetime:
        return _day_start(self.tz, at.astimezone(self.tz).date().replace(day=1))

    def next_month_start(self, at: datetime) -> datetime:
        d = at.astimezone(self.tz).date().replace(day=1)
        return _day_start(self.tz, (d + timedelta(days=32)).replace(day=1))

    def local_day(self, at: datetime) -> date:
        return at.astimezone(self.tz).date()


@lru_cache(maxsize=65536)
def _day_start(tz: ZoneInfo, day: date) -> datetime:
    return _local(day, time(0, 0), tz)
