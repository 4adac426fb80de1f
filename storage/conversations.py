"""Conversations (one per identity, contact and channel), their messages, tags and unread mark.

Every write here runs inside the caller's transaction (the runtime's, when a
message is sent or received) or its own (a person tagging or marking read).
A conversation's tags decide whether its lead counts as Positive
(sequences/conversation_tags.py): `set_tags` keeps the lead's Positive
milestone in step, through `storage.activity.set_positive`, so the Overview
and the tags never disagree.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlite_utils

from sequences.conversation_tags import is_positive, merged
from storage.activity import SYSTEM, iso, set_positive
from storage.db import joined_transaction


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
             body: str, message_id: str, enrollment_id: int, in_reply_to: str | None = None) -> None:
    """Our message in the conversation (once per Message-ID), which moves the conversation up."""
    db.execute(
        "INSERT OR IGNORE INTO messages (conversation_id, direction, kind, at, subject, body, message_id,"
        " in_reply_to, enrollment_id) VALUES (?, 'out', ?, ?, ?, ?, ?, ?, ?)",
        [conversation, kind, iso(at), subject, body, message_id, in_reply_to, enrollment_id])
    db.execute("UPDATE conversations SET updated_at = max(updated_at, ?) WHERE id = ?", [iso(at), conversation])


def add_received(db: sqlite_utils.Database, conversation: int, *, kind: str, at: datetime, body: str,
                 enrollment_id: int, subject: str | None = None, message_id: str | None = None,
                 in_reply_to: str | None = None) -> None:
    """The lead's message (a reply, or an out-of-office notice): the conversation moves up, unread.

    Once per Message-ID when the message has one (a re-fetched email is not a second message)."""
    db.execute(
        "INSERT OR IGNORE INTO messages (conversation_id, direction, kind, at, subject, body, message_id, in_reply_to,"
        " enrollment_id) VALUES (?, 'in', ?, ?, ?, ?, ?, ?, ?)",
        [conversation, kind, iso(at), subject, body, message_id, in_reply_to, enrollment_id])
    db.execute("UPDATE conversations SET updated_at = max(updated_at, ?), unread = 1 WHERE id = ?",
               [iso(at), conversation])


def tags_of(db: sqlite_utils.Database, conversation: int) -> list[str] | None:
    row = db.execute("SELECT tags FROM conversations WHERE id = ?", [conversation]).fetchone()
    return msgspec.json.decode(row[0]) if row else None


def set_tags(db: sqlite_utils.Database, conversation: int, *, add: list[str] = (), remove: list[str] = (),
             now: datetime, actor: str = SYSTEM, by: str = "rules") -> list[str]:
    """Add and remove tags (standard or custom) and keep the lead's Positive milestone in step.

    The lead is the conversation's contact in the conversation's campaign; the bit
    moves (and the activity log says so) only when the conversation turns positive
    or stops being so. Raises LookupError for an unknown conversation, TagError
    for a tag that cannot be stored. Returns the tags now on the conversation."""
    with joined_transaction(db):
        row = db.execute("SELECT cv.tags, cv.channel, e.id, cv.tag_times FROM conversations cv LEFT JOIN enrollments e"
                         " ON e.campaign_id = cv.campaign_id AND e.contact_id = cv.contact_id WHERE cv.id = ?",
                         [conversation]).fetchone()
        if row is None:
            raise LookupError(f"no conversation {conversation}")
        before = msgspec.json.decode(row[0])
        after = merged(before, list(add), list(remove))
        if after != before:
            # when each tag came (the Overview counts tags added in a period); a tag kept keeps its time
            times = msgspec.json.decode(row[3])
            times = {tag: times.get(tag, iso(now)) for tag in after}
            db.execute("UPDATE conversations SET tags = ?, tag_times = ? WHERE id = ?",
                       [msgspec.json.encode(after).decode(), msgspec.json.encode(times).decode(), conversation])
        if row[2] is not None and is_positive(after) != is_positive(before):
            set_positive(db, enrollment_id=row[2], channel=row[1], positive=is_positive(after), now=now, actor=actor,
                         detail={"by": by, "conversation": conversation})
            db.execute("UPDATE messages SET positive = ? WHERE conversation_id = ? AND direction = 'in'",
                       [int(is_positive(after)), conversation])
        return after


def set_unread(db: sqlite_utils.Database, conversations: list[int], unread: bool) -> int:
    """Mark conversations read or unread (the user's mark); returns how many changed."""
    with joined_transaction(db):
        marks = ",".join("?" * len(conversations))
        return db.execute(f"UPDATE conversations SET unread = ? WHERE id IN ({marks}) AND unread != ?",
                          [int(unread), *conversations, int(unread)]).rowcount
