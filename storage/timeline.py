"""The workspace's one timeline: where the runtime's clock last stood (`runtime_state` row `clock_position`).

The runtime saves its clock's position every heartbeat; a workspace's time is
the later of the wall time and that position, so after a run at `--speed 3600`
(or the demo) time never runs backwards — for the runtime starting again
(runtime/service.py) and for the TUI showing "now" (tui/app.py) alike.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

CLOCK_KEY = "clock_position"


def clock_position(db: sqlite_utils.Database) -> datetime | None:
    r = db.execute("SELECT value FROM runtime_state WHERE key = ?", [CLOCK_KEY]).fetchone()
    return datetime.fromisoformat(r[0]) if r else None


def workspace_time(db: sqlite_utils.Database, wall: datetime) -> datetime:
    """The workspace's time now: `wall` (the clock's wall_now()), or the runtime's position when it is ahead."""
    last = clock_position(db)
    return max(wall, last) if last else wall
