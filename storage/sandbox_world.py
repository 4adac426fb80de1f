"""The sandbox world's own record: its deliveries and withdrawals, in an SQLite file of its own.

The world (runtime/sandbox/world.py) is the stand-in for remote servers, so it
keeps its memory apart from the workspace: a file with its own connection,
committed at each write (autocommit) — what a real server would remember if
the runtime were killed right after the call.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator, NamedTuple

_SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    seq INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    identity_id INTEGER NOT NULL,
    channel TEXT NOT NULL,
    action TEXT NOT NULL,
    lead TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS withdrawals (
    key TEXT PRIMARY KEY,
    at TEXT NOT NULL
);
"""

class DeliveryRow(NamedTuple):
    """A recorded delivery (its fields in the order of the world's `Delivery`)."""

    key: str
    identity_id: int
    channel: str
    action: str
    lead: str
    at: str
    seq: int


def open_record(path: Path | str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.executescript(_SCHEMA)
    return conn


def deliveries(conn: sqlite3.Connection) -> Iterator[DeliveryRow]:
    """Every recorded delivery, oldest first."""
    return (DeliveryRow(*r) for r in conn.execute(
        "SELECT key, identity_id, channel, action, lead, at, seq FROM deliveries ORDER BY seq"))


def withdrawals(conn: sqlite3.Connection) -> list[tuple[str, str]]:
    """(key, at) of every withdrawn invitation."""
    return conn.execute("SELECT key, at FROM withdrawals").fetchall()


def add_delivery(conn: sqlite3.Connection, *, seq: int, key: str, identity_id: int, channel: str, action: str,
                 lead: str, at: str) -> None:
    conn.execute("INSERT INTO deliveries (seq, key, identity_id, channel, action, lead, at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                 [seq, key, identity_id, channel, action, lead, at])


def add_withdrawal(conn: sqlite3.Connection, key: str, at: str) -> None:
    conn.execute("INSERT OR IGNORE INTO withdrawals (key, at) VALUES (?, ?)", [key, at])
