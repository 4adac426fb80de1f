"""The workspace's one timeline: where the runtime's clock last stood (`runtime_state` row `clock_position`).

The runtime saves its clock's position every heartbeat; a workspace's time is
the later of the wall time and that position, so after a run at `--speed 3600`
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


def workspace_time(db: sqlite_utils.Database, wall: datetime) -> datetime:
    """The workspace's time now: `wall` (the clock's wall_now()), or the runtime's position when it is ahead."""
    last = clock_position(db)
    return max(wall, last) if last else wall
