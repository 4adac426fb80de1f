"""The workspace's one timeline: where the runtime's clock last stood (`runtime_state` row `clock_position`).

The runtime saves its clock's position every heartbeat; a workspace's time is
the latest of the wall time, that position and the newest recorded action, so after a run at `--speed 3600`
(or the demo) time never runs backwards — for the runtime starting again
(runtime/service.py) and for the TUI showing "now" (tui/app.py) alike.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from storage.activity import iso
from storage.runtime_state import get_state, set_state

CLOCK_KEY = "clock_position"


def clock_position(db: sqlite_utils.Database) -> datetime | None:
    value = get_state(db, CLOCK_KEY)
    return datetime.fromisoformat(value) if value else None


def save_position(db: sqlite_utils.Database, at: datetime) -> None:
    """Where the runtime's clock stands (saved every heartbeat and when it stops)."""
    set_state(db, CLOCK_KEY, iso(at))


def latest_recorded(db: sqlite_utils.Database) -> datetime | None:
    """The time of the newest action in the ledger or the activity log.

    The position is saved once a heartbeat, so a kill -9 at `--speed 3600` loses up
    to an hour of it; the records written since are the truth. Rows are appended in
    time order, so the last row of each (by rowid) is enough — no scan."""
    times = [r[0] for table in ("action_ledger", "activity")
             for r in db.execute(f"SELECT at FROM {table} ORDER BY id DESC LIMIT 1")]
    return max(map(datetime.fromisoformat, times)) if times else None


def workspace_time(db: sqlite_utils.Database, wall: datetime) -> datetime:
    """The workspace's time now: `wall` (the clock's wall_now()), unless the runtime's saved position or
    the newest recorded action is ahead of it — time never runs backwards, whatever ended the last run."""
    return max([wall, *(t for t in (clock_position(db), latest_recorded(db)) if t is not None)])
