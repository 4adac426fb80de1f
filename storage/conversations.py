"""Conversations (one per identity, contact and channel) and the messages we send in them."""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from storage.activity import iso


def conversation_id(db: sqlite_utils.Database, *, identity_id: int, contact_id: int, channel: str,
                    campaign_id: int, inbox_id: int | None, now: datetime) -> int:
    """The conversation of this identity with this contact on this channel, created if none."""
    row = db.execute("SELECT id FROM conversations WHERE identity_id = ? AND contact_id = ? AND channel = ?",
                     [identity_id, contact_id, channel]).fetchone()
    if row:
        return row[0]
    return db.execute(
        "INSERT INTO conversations (contact_id, identity_id, channel, inbox_id, campaign_id, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", [contact_id, identity_id, channel, inbox_id, campaign_id, iso(now), iso(now)]
    ).lastrowid


def has_conversation(db: sqlite_utils.Database, identity_id: int, contact_id: int, channel: str) -> bool:
    return db.execute("SELECT 1 FROM conversations WHERE identity_id = ? AND contact_id = ? AND channel = ?",
                      [identity_id, contact_id, channel]).fetchone() is not None


def add_sent(db: sqlite_utils.Database, conversation: int, *, kind: str, at: datetime, subject: str | None,
             body: str, message_id: str, enrollment_id: int) -> None:
    """Our message in the conversation (once per Message-ID), which moves the conversation up."""
    db.execute(
        "INSERT OR IGNORE INTO messages (conversation_id, direction, kind, at, subject, body, message_id,"
        " enrollment_id) VALUES (?, 'out', ?, ?, ?, ?, ?, ?)",
        [conversation, kind, iso(at), subject, body, message_id, enrollment_id])
    db.execute("UPDATE conversations SET updated_at = ? WHERE id = ?", [iso(at), conversation])
