"""One-time share links (spec identities.md, "Share Identity Link"): made, looked up, used once, revoked.

A link is `/s/ID/SECRET`: the id finds the row, and the secret's SHA-256 is
compared with the stored one in constant time (`hmac.compare_digest`), so
neither a wrong secret nor a guessed id says anything by its timing. Only the
hash is stored. `use_link` runs inside the transaction that saves the
connection, so a link connects exactly one account even when two submissions
race: the second finds it used and its whole transaction rolls back.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta
from typing import Any, Callable

import sqlite_utils

from sequences.limits import SHARE_LINK_HOURS
from storage.activity import iso
from storage.db import transaction
from storage.secret_purges import request as request_purge, share_link_secret_name

LOCAL_BASE_URL = "http://127.0.0.1:8025"
"""Where `enginy tracking serve` listens by default: the link's address when no public one is configured."""
ROUTE = re.compile(r"^/s/(\d{1,12})/([A-Za-z0-9_-]{20,100})$")
"""The path of a link, as `link_url` writes it: /s/ID/SECRET."""


class LinkRefused(Exception):
    """The link cannot be used; `reason` is unknown, used, revoked or expired."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def link_url(base_url: str, link_id: int, secret: str) -> str:
    """The one spelling of a share link."""
    return f"{(base_url or LOCAL_BASE_URL).rstrip('/')}/s/{link_id}/{secret}"


def make_link(db: sqlite_utils.Database, identity_id: int, *, base_url: str, now: datetime,
              hours: int = SHARE_LINK_HOURS, ca_file: str | None = None, gateway_url: str | None = None,
              keep_key: Callable[[str], object] | None = None) -> tuple[dict[str, Any], str]:
    """A new link for the identity: its row (without the secret) and its address, the only place the
    random secret (`secrets.token_urlsafe`) is ever written — the database keeps its hash. With
    `gateway_url` its page also connects LinkedIn; `keep_key(name)` stores the gateway's API key under
    the link's secret name in the same transaction. The keys of links expired since are forgotten."""
    secret = secrets.token_urlsafe(32)
    with transaction(db):
        link_id = db.execute(
            "INSERT INTO share_links (identity_id, token_hash, created_at, expires_at, ca_file, gateway_url)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            [identity_id, secret_hash(secret), iso(now), iso(now + timedelta(hours=hours)), ca_file,
             gateway_url]).lastrowid
        if gateway_url and keep_key is not None:
            keep_key(share_link_secret_name(link_id))
        expired = [r[0] for r in db.execute("SELECT id FROM share_links WHERE gateway_url IS NOT NULL"
                                            " AND used_at IS NULL AND revoked_at IS NULL AND expires_at <= ?",
                                            [iso(now)])]
        request_purge(db, [share_link_secret_name(i) for i in expired], now)
    return get_link(db, link_id), link_url(base_url, link_id, secret)


def get_link(db: sqlite_utils.Database, link_id: int) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM share_links WHERE id = ?", [link_id]))
    if not rows:
        raise LinkRefused("unknown")
    return rows[0]


def open_link(db: sqlite_utils.Database, link_id: int, secret: str, now: datetime) -> dict[str, Any]:
    """The link if `secret` is its own and it can still be used; else LinkRefused saying why."""
    try:
        row = get_link(db, link_id)
    except LinkRefused:
        secret_hash(secret)  # the same work as a known id: an unknown one is not told apart by its timing
        raise
    if not hmac.compare_digest(row["token_hash"], secret_hash(secret)):
        raise LinkRefused("unknown")
    if row["used_at"]:
        raise LinkRefused("used")
    if row["revoked_at"]:
        raise LinkRefused("revoked")
    if datetime.fromisoformat(row["expires_at"]) <= now:
        raise LinkRefused("expired")
    return row


def use_link(db: sqlite_utils.Database, link_id: int, secret: str, now: datetime, used_for: str) -> dict[str, Any]:
    """Mark the link used (what it connected: `used_for`); call inside the transaction that saves the
    connection. Raises LinkRefused when it is no longer usable, which rolls that transaction back."""
    with transaction(db):
        row = open_link(db, link_id, secret, now)
        db.execute("UPDATE share_links SET used_at = ?, used_for = ?, linkedin_pending = NULL"
                   " WHERE id = ? AND used_at IS NULL", [iso(now), used_for, link_id])
        if row["gateway_url"]:
            request_purge(db, [share_link_secret_name(link_id)], now)
    return row


def set_linkedin_pending(db: sqlite_utils.Database, link_id: int, account_id: str | None) -> None:
    """The gateway account that waits for the owner's two-step code on this link's page (None: none)."""
    with transaction(db):
        db.execute("UPDATE share_links SET linkedin_pending = ? WHERE id = ?", [account_id, link_id])


def live_links(db: sqlite_utils.Database, now: datetime, identity_id: int | None = None) -> list[dict[str, Any]]:
    """Links not used, revoked or expired yet (optionally one identity's), newest first, without hashes."""
    where = "" if identity_id is None else " AND l.identity_id = ?"
    return list(db.query(
        "SELECT l.id, l.identity_id, i.name AS identity, l.created_at, l.expires_at FROM share_links l"
        " JOIN identities i ON i.id = l.identity_id WHERE l.used_at IS NULL AND l.revoked_at IS NULL"
        f" AND l.expires_at > ?{where} ORDER BY l.id DESC", [iso(now)] + ([identity_id] if identity_id else [])))


def revoke_links(db: sqlite_utils.Database, identity_id: int, now: datetime) -> int:
    """Cancel every live link of the identity (their gateway keys are forgotten); returns how many."""
    with transaction(db):
        ids = [r["id"] for r in live_links(db, now, identity_id)]
        db.conn.executemany("UPDATE share_links SET revoked_at = ? WHERE id = ?", [(iso(now), i) for i in ids])
        request_purge(db, [share_link_secret_name(i) for i in ids], now)
        return len(ids)
