"""The email channel's tables (m020): watch positions, inbound mail, tracking tokens.

The watcher records each fetched message in the same transaction that
advances the folder's last UID (`add_inbound` + `set_watch_state` inside the
caller's transaction); effects are applied later from the `applied_at IS
NULL` rows, each marked applied (`mark_applied`) in the transaction that
applies it. The two steps make a crash lose nothing and apply nothing twice.

Matching a message to our mail is the channel's policy
(runtime/channels/email/store.py); the look-ups it needs are here.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlite_utils

from storage.activity import iso
from storage.db import transaction
from storage.records import MailInbound, MailWatch, SentEmail, TrackedEmail, UnappliedMail


# ------------------------------------------------------------------ inboxes the channel serves
# ------------------------------------------------------------------ watch state
def watch_state(db: sqlite_utils.Database, inbox_id: int, folder: str) -> MailWatch | None:
    row = next(db.query("SELECT * FROM mail_watch WHERE inbox_id = ? AND folder = ?", [inbox_id, folder]), None)
    return MailWatch.from_row(row) if row else None


def set_watch_state(db: sqlite_utils.Database, inbox_id: int, folder: str, *, uidvalidity: int, last_uid: int,
                    now: datetime) -> None:
    """Move the folder's position (inside the caller's transaction, with what it recorded)."""
    db.execute(
        "INSERT INTO mail_watch (inbox_id, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (inbox_id, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
        " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        [inbox_id, folder, uidvalidity, last_uid, iso(now)])


# ------------------------------------------------------------------ matching look-ups
def sent_email_by_message_id(db: sqlite_utils.Database, message_id: str) -> SentEmail | None:
    """Our email with this Message-ID (given with its angle brackets), if we sent it."""
    r = db.execute(
        "SELECT o.id, o.key, o.enrollment_id, e.contact_id FROM outbox o LEFT JOIN enrollments e ON e.id = o.enrollment_id"
        " WHERE o.message_id = ? AND o.channel = 'email'", [message_id]).fetchone()
    return SentEmail(outbox_id=r[0], key=r[1], enrollment_id=r[2], contact_id=r[3]) if r else None


def recent_emails_to(db: sqlite_utils.Database, address: str, inbox_id: int, limit: int = 20) -> list[SentEmail]:
    """The latest emails sent (or maybe sent) from this inbox to the contact with this address, newest first."""
    rows = db.execute(
        "SELECT o.id, o.key, o.enrollment_id, e.contact_id, o.payload FROM outbox o"
        " JOIN enrollments e ON e.id = o.enrollment_id JOIN contacts k ON k.id = e.contact_id"
        " WHERE lower(k.email) = ? AND o.channel = 'email' AND o.inbox_id = ? AND o.state IN ('sent', 'unknown', 'sending')"
        " ORDER BY o.id DESC LIMIT ?", [address.lower(), inbox_id, limit]).fetchall()
    return [SentEmail(outbox_id=r[0], key=r[1], enrollment_id=r[2], contact_id=r[3],
                      subject=str(msgspec.json.decode(r[4] or "{}").get("subject", ""))) for r in rows]


# ------------------------------------------------------------------ inbound mail
def add_inbound(db: sqlite_utils.Database, mail: MailInbound) -> int | None:
    """Store one classified message (inside the caller's transaction). None if the inbox already has it."""
    row = mail.to_row()
    columns = ", ".join(row)
    cur = db.execute(f"INSERT OR IGNORE INTO mail_inbound ({columns}) VALUES ({', '.join('?' * len(row))})",
                     list(row.values()))
    return cur.lastrowid if cur.rowcount else None


def unapplied(db: sqlite_utils.Database, limit: int = 100) -> list[UnappliedMail]:
    """Recorded messages whose effect is not applied yet, oldest first."""
    return [UnappliedMail.from_row(r) for r in db.query(
        "SELECT i.*, o.key AS outbox_key FROM mail_inbound i LEFT JOIN outbox o ON o.id = i.outbox_id"
        " WHERE i.applied_at IS NULL ORDER BY i.id LIMIT ?", [limit])]


def is_unapplied(db: sqlite_utils.Database, mail_id: int) -> bool:
    """Asked inside the applying transaction: another process may have applied it meanwhile."""
    r = db.execute("SELECT applied_at FROM mail_inbound WHERE id = ?", [mail_id]).fetchone()
    return r is not None and r[0] is None


def mark_applied(db: sqlite_utils.Database, mail_id: int, *, effect: str, now: datetime) -> None:
    """Inside the transaction that applied the effect, so it is applied exactly once."""
    db.execute("UPDATE mail_inbound SET applied_at = ?, effect = ? WHERE id = ?", [iso(now), effect, mail_id])


# ------------------------------------------------------------------ tracking
_TRACKED = ("SELECT t.*, o.campaign_id, o.identity_id, k.settings FROM mail_tracking t"
            " LEFT JOIN outbox o ON o.key = t.outbox_key LEFT JOIN campaigns k ON k.id = o.campaign_id")


def _tracked(db: sqlite_utils.Database, where: str, value: str) -> TrackedEmail | None:
    row = next(db.query(f"{_TRACKED} WHERE {where} LIMIT 1", [value]), None)
    if row is None:
        return None
    settings = msgspec.json.decode(row.pop("settings") or "{}")
    return TrackedEmail.from_row(row | {"track_opens": bool(settings.get("track_opens")),
                                        "track_clicks": bool(settings.get("track_clicks"))})


def tracked_email(db: sqlite_utils.Database, token: str) -> TrackedEmail | None:
    """What an open, click or unsubscribe with this token refers to."""
    return _tracked(db, "t.token = ?", token)


def tracking_for_send(db: sqlite_utils.Database, outbox_key: str, *, new_token: str,
                      now: datetime) -> TrackedEmail | None:
    """The email's token, created (as `new_token`) and committed before the email is sent.

    None when the outbox row or its campaign is unknown. A retried send finds the
    token of its first attempt, so links in an email already out keep working."""
    with transaction(db):
        r = db.execute("SELECT o.enrollment_id, e.contact_id FROM outbox o JOIN campaigns k ON k.id = o.campaign_id"
                       " LEFT JOIN enrollments e ON e.id = o.enrollment_id WHERE o.key = ?", [outbox_key]).fetchone()
        if r is None:
            return None
        if db.execute("SELECT 1 FROM mail_tracking WHERE outbox_key = ?", [outbox_key]).fetchone() is None:
            db.execute("INSERT INTO mail_tracking (token, outbox_key, enrollment_id, contact_id, created_at)"
                       " VALUES (?, ?, ?, ?, ?)", [new_token, outbox_key, r[0], r[1], iso(now)])
        return _tracked(db, "t.outbox_key = ?", outbox_key)


def set_tracked_links(db: sqlite_utils.Database, token: str, links: list[str]) -> None:
    """The links a click with this token may go to (never an open redirect)."""
    with transaction(db):
        db.execute("UPDATE mail_tracking SET links = ? WHERE token = ?", [msgspec.json.encode(links).decode(), token])


def add_tracking_event(db: sqlite_utils.Database, token: str, kind: str, now: datetime,
                       link_index: int | None = None) -> None:
    """An open, click or unsubscribe (inside the transaction that applies it)."""
    db.execute("INSERT INTO mail_tracking_events (token, kind, link_index, at, applied_at) VALUES (?, ?, ?, ?, ?)",
               [token, kind, link_index, iso(now), iso(now)])
