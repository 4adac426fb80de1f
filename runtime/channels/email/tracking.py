"""Opens, clicks and one-click unsubscribes coming back through `enginy tracking serve`.

Tokens are random and were committed with the message before it was sent
(`wiring.py`); a click goes only to a link stored for that token (never
an open redirect). An unsubscribe blocklists the contact and stops every
campaign for it at once — the same effect as an unsubscribe email.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlite_utils

from runtime.channels.email import store as mail_store
from storage.activity import iso, record
from storage.activity_kinds import Kind

# The smallest transparent GIF.
PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def _token_row(db: sqlite_utils.Database, token: str) -> dict | None:
    rows = list(db.query("SELECT t.*, o.campaign_id, o.identity_id FROM mail_tracking t"
                         " LEFT JOIN outbox o ON o.key = t.outbox_key WHERE t.token = ?", [token]))
    return rows[0] if rows else None


def record_event(db: sqlite_utils.Database, token: str, kind: str, now: datetime,
                 link_index: int | None = None) -> tuple[bool, str | None]:
    """Record one event; returns (known token, redirect URL for a click)."""
    row = _token_row(db, token)
    if row is None:
        return False, None
    url = None
    if kind == "click":
        links = msgspec.json.decode(row["links"] or "[]")
        if link_index is None or not 0 <= link_index < len(links):
            return False, None
        url = links[link_index]
    with db.conn:
        db.conn.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO mail_tracking_events (token, kind, link_index, at, applied_at) VALUES (?, ?, ?, ?, ?)",
                   [token, kind, link_index, iso(now), iso(now)])
        detail = {"token": token} | ({"url": url} if url else {})
        if kind in ("open", "click") and row["enrollment_id"] is not None:
            record(db, kind=Kind.EMAIL_OPENED if kind == "open" else Kind.EMAIL_CLICKED, now=now,
                   enrollment_id=row["enrollment_id"], identity_id=row["identity_id"], channel="email", detail=detail)
        if kind == "unsubscribe":
            email = None
            if row["contact_id"] is not None:
                r = db.execute("SELECT email FROM contacts WHERE id = ?", [row["contact_id"]]).fetchone()
                email = r[0] if r else None
            mail_store.block_contact(db, contact_id=row["contact_id"], address=email or "",
                                     reason=f"one-click unsubscribe {iso(now)}", now=now)
            mail_store._stop_campaigns(db, row["contact_id"], now)
    return True, url
