"""The single `runtime_lease` row: which process runs the workspace, its heartbeat, a stop request.

runtime/service.py decides when a lease may be taken (stale, dead holder);
these functions only read and write the row. Times are wall time (ISO text).
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta

import msgspec
import sqlite_utils

from storage.activity import iso
from storage.db import write_blocker

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


#: A heartbeat older than this (it beats every second) means the runtime is stuck on something.
HEARTBEAT_LATE = timedelta(seconds=4)


def process_alive(pid: int) -> bool:
    """A process of this host with this pid exists (signal 0 checks without sending anything)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def runtime_waiting(db: sqlite_utils.Database, wall: datetime) -> Holder | None:
    """The holder of a runtime that is alive but has not beaten for a while: it waits for
    something (a database locked by another program, a full disk). None otherwise."""
    h = holder(db)
    if h is None or datetime.fromisoformat(h.heartbeat_at) >= wall - HEARTBEAT_LATE:
        return None
    if h.host == socket.gethostname() and not process_alive(h.pid):
        return None
    return h


def why_runtime_waits(db: sqlite_utils.Database, wall: datetime, db_path: str) -> str | None:
    """What the app and the monitor say of a runtime that is alive but not beating: what keeps the
    database from being written, or that it does not answer. None when it beats (or none runs)."""
    h = runtime_waiting(db, wall)
    if h is None:
        return None
    blocker = write_blocker(db_path)
    if blocker:
        return f"the runtime is waiting for the database: {blocker}"
    return f"the runtime (pid {h.pid}) has not answered since {h.heartbeat_at[11:19]} UTC"


def runtime_alive(db: sqlite_utils.Database, wall: datetime) -> bool:
    """A runtime holds the workspace: its heartbeat is fresher than LEASE_STALE at wall time `wall`."""
    h = holder(db)
    return h is not None and datetime.fromisoformat(h.heartbeat_at) >= wall - LEASE_STALE
