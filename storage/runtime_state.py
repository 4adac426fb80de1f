"""The runtime's small key/value facts that must survive a restart (table `runtime_state`, m010).

The workspace clock position, the sandbox feed's and the LinkedIn watchers'
cursors, the demo clock's controls: each is one text value under its key.
Writes join the caller's transaction, so a cursor moves in the same commit
as the event it records.
"""

from __future__ import annotations

import sqlite_utils


def get_state(db: sqlite_utils.Database, key: str) -> str | None:
    row = db.execute("SELECT value FROM runtime_state WHERE key = ?", [key]).fetchone()
    return row[0] if row else None


def set_state(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT INTO runtime_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE"
               " SET value = excluded.value", [key, value])
