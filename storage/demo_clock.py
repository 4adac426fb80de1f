"""The demo clock's controls (speed, pause) as `runtime_state` rows the runtime's demo clock polls.

Like every other intent, the TUI changes the demo's clock by writing the
database; the runtime (`enginy run --demo`) reads `demo_speed` (campaign
seconds per real second) and `demo_paused` ('1' or '0').
"""

from __future__ import annotations

import sqlite_utils

from storage.db import transaction


def demo_rows(db: sqlite_utils.Database) -> tuple[tuple[str, str], ...]:
    """The controls' rows as they stand (the runtime compares them to tell a change)."""
    return tuple(db.execute(
        "SELECT key, value FROM runtime_state WHERE key IN ('demo_speed', 'demo_paused') ORDER BY key").fetchall())


def demo_clock(db: sqlite_utils.Database, default_speed: float) -> tuple[float, bool]:
    rows = dict(demo_rows(db))
    return float(rows.get("demo_speed", default_speed)), rows.get("demo_paused") == "1"


def set_demo_clock(db: sqlite_utils.Database, *, speed: float | None = None, paused: bool | None = None) -> None:
    """Set the demo clock's speed and/or pause flag."""
    with transaction(db):
        if speed is not None:
            db.execute("INSERT INTO runtime_state (key, value) VALUES ('demo_speed', ?)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [repr(float(speed))])
        if paused is not None:
            db.execute("INSERT INTO runtime_state (key, value) VALUES ('demo_paused', ?)"
                       " ON CONFLICT (key) DO UPDATE SET value = excluded.value", ["1" if paused else "0"])
