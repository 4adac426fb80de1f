"""Secrets to forget: the names of secrets whose owner was disconnected or deleted.

The secret store (runtime/secrets.py) is the runtime's and the CLI's; the app
cannot reach it, and a process can die between its commit and the keyring
call. So the transaction that disconnects an inbox or deletes an identity also
writes the names of the secrets that go with it here, and whoever holds the
store next (the CLI right after its own change, the runtime on its heartbeat)
forgets them: `due` → delete from the store → `done`. A name whose owner is in
use again by then (the inbox reconnected with a new password, an id reused by
a new identity) is dropped without touching the secret.

The names are defined here, once: `inbox-<id>`, `linkedin-<id>`, `share-link-<id>`.
"""

from __future__ import annotations

import re
from datetime import datetime

import sqlite_utils

from storage.activity import iso
from storage.db import joined_transaction

_OWNER = re.compile(r"^(inbox|linkedin)-(\d+)$")


def inbox_secret_name(inbox_id: int) -> str:
    """The name of an inbox's password."""
    return f"inbox-{int(inbox_id)}"


def linkedin_secret_name(identity_id: int) -> str:
    """The name of an identity's LinkedIn gateway API key."""
    return f"linkedin-{int(identity_id)}"


def share_link_secret_name(link_id: int) -> str:
    """The name of the gateway API key a share link's page logs in to LinkedIn with (storage/share_links.py)."""
    return f"share-link-{int(link_id)}"


def request(db: sqlite_utils.Database, names: list[str], now: datetime) -> None:
    """Ask for these secrets to be forgotten; call inside the transaction that makes them unneeded."""
    with joined_transaction(db):
        for name in names:
            db.execute("INSERT INTO secret_purges (name, requested_at) VALUES (?, ?)"
                       " ON CONFLICT (name) DO UPDATE SET requested_at = excluded.requested_at", [name, iso(now)])


def _in_use(db: sqlite_utils.Database, name: str) -> bool:
    match = _OWNER.match(name)
    if match is None:
        return False
    kind, owner = match[1], int(match[2])
    if kind == "inbox":
        sql = "SELECT 1 FROM inboxes WHERE id = ? AND connected = 1"
    else:
        sql = "SELECT 1 FROM identities WHERE id = ? AND linkedin_driver = 'gateway' AND linkedin_connected = 1"
    return db.execute(sql, [owner]).fetchone() is not None


def due(db: sqlite_utils.Database) -> list[str]:
    """The requested names to forget now; requests whose owner is in use again are dropped."""
    names = [r[0] for r in db.execute("SELECT name FROM secret_purges ORDER BY name").fetchall()]
    live = [n for n in names if _in_use(db, n)]
    if live:
        done(db, live)
    return [n for n in names if n not in live]


def done(db: sqlite_utils.Database, names: list[str]) -> None:
    """These secrets are gone from the store."""
    with joined_transaction(db):
        for name in names:
            db.execute("DELETE FROM secret_purges WHERE name = ?", [name])


def pending_count(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT COUNT(*) FROM secret_purges").fetchone()[0]
