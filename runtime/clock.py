"""The one clock: maps Trio's clock to aware UTC datetimes.

Nothing else in enginy reads wall time. Real runs anchor Trio's clock to the
wall clock once at start; the demo runs a `MockClock(rate=R)`; tests and
`enginy simulate` use `MockClock(autojump_threshold=0)` with a fixed epoch, so
days of campaign time pass in seconds, deterministically.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import trio


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
        self.epoch = epoch.astimezone(timezone.utc)
        self._anchor = trio.current_time()

    def now(self) -> datetime:
        return self.epoch + timedelta(seconds=trio.current_time() - self._anchor)

    def trio_deadline(self, at: datetime) -> float:
        """The trio.current_time() value at which workspace time reaches `at`."""
        return self._anchor + (at - self.epoch).total_seconds()

    async def sleep_until(self, at: datetime) -> None:
        await trio.sleep_until(max(self.trio_deadline(at), trio.current_time()))
