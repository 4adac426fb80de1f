"""The one clock: maps Trio's clock to aware UTC datetimes.

Nothing else in enginy reads wall time. Real runs anchor Trio's clock to the
wall clock once at start; the demo runs a `MockClock(rate=R)`; tests and
`enginy simulate` use `MockClock(autojump_threshold=0)` with a fixed epoch, so
days of campaign time pass in seconds, deterministically.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable

# Trio is imported where a clock runs, not here: CLI commands read `wall_now` and
# must not pay for loading Trio (and trio.testing, which loads pytest when present).


def wall_now() -> datetime:
    """Wall time as aware UTC. Only for anchoring a real run and for CLI commands."""
    return datetime.now(timezone.utc)


class Clock:
    """Workspace time = `epoch` + (trio.current_time() - trio time at anchoring).

    Must be created inside `trio.run` (it reads the Trio clock to anchor).
    """

    def __init__(self, epoch: datetime) -> None:
        if epoch.tzinfo is None:
            raise ValueError("epoch must be timezone-aware")
        import trio

        self.epoch = epoch.astimezone(timezone.utc)
        self._current_time = trio.current_time  # bound once: now() is the hottest call of a simulation
        self._anchor = self._current_time()
        self._last: tuple[float, datetime] = (self._anchor, self.epoch)

    def now(self) -> datetime:
        """The current workspace time. While Trio's clock stands still (a simulated instant
        serves many steps) the same datetime is handed out again, not rebuilt."""
        t = self._current_time()
        last = self._last
        if t == last[0]:
            return last[1]
        at = self.epoch + timedelta(seconds=t - self._anchor)
        self._last = (t, at)
        return at

    def trio_deadline(self, at: datetime) -> float:
        """The trio.current_time() value at which workspace time reaches `at`."""
        return self._anchor + (at - self.epoch).total_seconds()

    async def sleep_until(self, at: datetime) -> None:
        import trio

        await trio.sleep_until(max(self.trio_deadline(at), self._current_time()))


class _OldestFirst(random.Random):
    """Trio's scheduler generator for simulated runs: batches of ready tasks are run
    oldest task first, never shuffled (see run_simulated)."""

    def shuffle(self, x, *args) -> None:  # noqa: D102 - the one thing it changes
        return None


def run_simulated(main: Callable[[], Awaitable[Any]], seed: int) -> Any:
    """`trio.run(main)` on an autojump MockClock for `enginy simulate` and `enginy forecast`,
    which must give the same run for the same seed, however identities are split
    over processes.

    Trio runs each batch of ready tasks in a random order, and tasks woken at the
    same instant enter a batch in an order that follows memory addresses (Trio's
    tie-break between equal deadlines): one run in two differed. Here every batch
    runs in task creation order instead, through the switches Trio itself uses for
    deterministic runs under Hypothesis (private names of `trio._core._run`,
    restored afterwards). Creation order does not depend on which other identities
    share the process, so a split run orders each identity's tasks the same way."""
    import trio
    import trio.testing

    scheduler = trio._core._run
    saved = scheduler._r, scheduler._ALLOW_DETERMINISTIC_SCHEDULING
    scheduler._r = _OldestFirst(seed)
    scheduler._ALLOW_DETERMINISTIC_SCHEDULING = True
    try:
        return trio.run(main, clock=trio.testing.MockClock(autojump_threshold=0))
    finally:
        scheduler._r, scheduler._ALLOW_DETERMINISTIC_SCHEDULING = saved
