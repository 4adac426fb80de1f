"""The single `runtime_lease` row: which process runs the workspace, its heartbeat, a stop request.

runtime/service.py decides when a lease may be taken (stale, dead holder);
these functions only read and write the row. Times are wall time (ISO text).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import sqlite_utils

from storage.activity import iso

#: A lease whose heartbeat (wall time) is older than this is stale: its holder died.
LEASE_STALE = timedelta(seconds=15)


class Holder(msgspec.Struct, frozen=True):
    """Who holds the lease (what `enginy stop` and the refusal message show)."""

    pid: int
    host: str
    started_at: str
    heartbeat_at: str


def holder(db: sqlite_utils.Database) -> Holder | None:
    r = db.execute("SELECT pid, host, started_at, heartbeat_at FROM runtime_lease WHERE id = 1").fetchone()
    return Holder(*r) if r else None


def take(db: sqlite_utils.Database, *, pid: int, host: str, now: datetime) -> None:
    """Replace any lease row by ours (inside the caller's transaction, after it judged the holder)."""
    db.execute("DELETE FROM runtime_lease WHERE id = 1")
    db.execute("INSERT INTO runtime_lease (id, holder, pid, host, started_at, heartbeat_at, stop_requested)"
               " VALUES (1, ?, ?, ?, ?, ?, 0)", [f"{host}:{pid}", pid, host, iso(now), iso(now)])


def drop(db: sqlite_utils.Database, pid: int) -> None:
    """Delete the lease if `pid` holds it."""
    db.execute("DELETE FROM runtime_lease WHERE id = 1 AND pid = ?", [pid])


def ask_to_stop(db: sqlite_utils.Database) -> None:
    db.execute("UPDATE runtime_lease SET stop_requested = 1 WHERE id = 1")


def beat(db: sqlite_utils.Database, now: datetime) -> None:
    db.execute("UPDATE runtime_lease SET heartbeat_at = ? WHERE id = 1", [iso(now)])


def stop_requested(db: sqlite_utils.Database) -> bool:
    """True when a stop was asked for, or the lease row is gone (someone took the workspace)."""
    r = db.execute("SELECT stop_requested FROM runtime_lease WHERE id = 1").fetchone()
    return r is None or bool(r[0])


def runtime_alive(db: sqlite_utils.Database, wall: datetime) -> bool:
    """A runtime holds the workspace: its heartbeat is fresher than LEASE_STALE at wall time `wall`."""
    h = holder(db)
    return h is not None and datetime.fromisoformat(h.heartbeat_at) >= wall - LEASE_STALE
