"""The email channel's durable facts: watch positions, inbound mail, its effects.

Recording and applying are two steps on purpose. The watcher records each
fetched message (classified, matched to the outbox row it answers) in the
same transaction that advances the folder's last UID; effects are applied
from the `applied_at IS NULL` rows, each in one transaction with the lead's
state change. A crash between the two loses nothing (the row waits) and
applies nothing twice (the row is marked in the transaction that applied it).

Matching a message to our mail: its In-Reply-To/References (or, for a
bounce, the returned copy's Message-ID) against `outbox.message_id`; else
sender address + subject ("Re: <our subject>") against the latest email we
sent that contact from this inbox; for a bounce, the failed recipient.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime

import msgspec
import sqlite_utils

from runtime.channels.email.inbound.classify import Classification
from storage.activity import iso

_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|odp|rif|r|fw|fwd|wg|tr)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)


# ------------------------------------------------------------------ watch state
@dataclass(frozen=True)
class WatchState:
    uidvalidity: int
    last_uid: int


def watch_state(db: sqlite_utils.Database, inbox_id: int, folder: str) -> WatchState | None:
    r = db.execute("SELECT uidvalidity, last_uid FROM mail_watch WHERE inbox_id = ? AND folder = ?",
                   [inbox_id, folder]).fetchone()
    return WatchState(r[0], r[1]) if r else None


def set_watch_state(db: sqlite_utils.Database, inbox_id: int, folder: str, state: WatchState, now: datetime) -> None:
    db.execute(
        "INSERT INTO mail_watch (inbox_id, folder, uidvalidity, last_uid, updated_at) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (inbox_id, folder) DO UPDATE SET uidvalidity = excluded.uidvalidity,"
        " last_uid = excluded.last_uid, updated_at = excluded.updated_at",
        [inbox_id, folder, state.uidvalidity, state.last_uid, iso(now)])


# ------------------------------------------------------------------ matching
def fingerprint(raw: bytes, c: Classification) -> str:
    """Message-ID when present (stable across UIDVALIDITY changes), else a header hash."""
    if c.message_id:
        return "mid:" + c.message_id[:400]
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return "sha:" + hashlib.sha256(head[:65536]).hexdigest()


def _norm_subject(subject: str) -> str:
    return " ".join(_SUBJECT_PREFIX.sub("", subject or "").lower().split())


@dataclass(frozen=True)
class Match:
    outbox_id: int
    outbox_key: str
    enrollment_id: int | None
    contact_id: int | None
    matched_by: str


def match(db: sqlite_utils.Database, inbox_id: int, c: Classification) -> Match | None:
    ids = ([c.in_reply_to] if c.in_reply_to else []) + list(reversed(c.references))
    for mid in ids:
        r = db.execute(
            "SELECT o.id, o.key, o.enrollment_id, e.contact_id FROM outbox o LEFT JOIN enrollments e ON e.id = o.enrollment_id"
            " WHERE o.message_id = ? AND o.channel = 'email'", [f"<{mid}>"]).fetchone()
        if r:
            return Match(r[0], r[1], r[2], r[3], "message-id")
    who = c.recipients[:1] if c.kind in ("bounce", "complaint") else ([c.from_addr] if c.from_addr else [])
    for address in who:
        rows = db.execute(
            "SELECT o.id, o.key, o.enrollment_id, e.contact_id, o.payload FROM outbox o"
            " JOIN enrollments e ON e.id = o.enrollment_id JOIN contacts k ON k.id = e.contact_id"
            " WHERE lower(k.email) = ? AND o.channel = 'email' AND o.inbox_id = ? AND o.state IN ('sent', 'unknown', 'sending')"
            " ORDER BY o.id DESC LIMIT 20", [address.lower(), inbox_id]).fetchall()
        if not rows:
            continue
        if c.kind in ("bounce", "complaint", "auto_reply", "unsubscribe"):
            r = rows[0]
            return Match(r[0], r[1], r[2], r[3], "recipient" if c.kind in ("bounce", "complaint") else "sender")
        wanted = _norm_subject(c.subject)
        for r in rows:
            ours = _norm_subject(str(msgspec.json.decode(r[4] or "{}").get("subject", "")))
            if wanted and ours and wanted == ours:
                return Match(r[0], r[1], r[2], r[3], "sender+subject")
    return None


# ------------------------------------------------------------------ recording
def record_inbound(db: sqlite_utils.Database, *, inbox_id: int, folder: str, uidvalidity: int, uid: int,
                   raw: bytes, c: Classification, body: str, now: datetime) -> int | None:
    """Store one classified message (inside the caller's transaction). None if already known."""
    m = match(db, inbox_id, c)
    cur = db.execute(
        "INSERT OR IGNORE INTO mail_inbound (inbox_id, folder, uidvalidity, uid, fingerprint, message_id, received_at,"
        " kind, hard, status, recipients, in_reply_to, from_addr, subject, reason, body, outbox_id, enrollment_id,"
        " contact_id, matched_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [inbox_id, folder, uidvalidity, uid, fingerprint(raw, c), c.message_id, iso(now), c.kind,
         None if c.hard is None else int(c.hard), c.status, msgspec.json.encode(c.recipients).decode(),
         c.in_reply_to, c.from_addr, c.subject[:500], c.reason, body[:20000],
         m.outbox_id if m else None, m.enrollment_id if m else None, m.contact_id if m else None,
         m.matched_by if m else None])
    return cur.lastrowid if cur.rowcount else None


def pending(db: sqlite_utils.Database, limit: int = 100) -> list[dict]:
    return list(db.query("SELECT i.*, o.key AS outbox_key FROM mail_inbound i LEFT JOIN outbox o ON o.id = i.outbox_id"
                         " WHERE i.applied_at IS NULL ORDER BY i.id LIMIT ?", [limit]))


# ------------------------------------------------------------------ effects
def block_contact(db: sqlite_utils.Database, *, contact_id: int | None, address: str, reason: str, now: datetime) -> None:
    """Blocklist the address (and the contact): every campaign's pre-send check then stops it."""
    if address:
        db.execute("INSERT OR IGNORE INTO blocklist (kind, value, reason, created_at) VALUES ('email', ?, ?, ?)",
                   [address.lower(), reason, iso(now)])
    if contact_id is not None:
        db.execute("INSERT OR IGNORE INTO blocklist (kind, value, reason, created_at) VALUES ('lead', ?, ?, ?)",
                   [str(contact_id), reason, iso(now)])


def apply_pending(db: sqlite_utils.Database, now: datetime, *, info_for=None) -> list[tuple[int | None, list]]:
    """Apply every recorded-but-unapplied inbound message, one transaction each.

    Returns (campaign id, queued jobs) per applied signal so the runtime can
    hand new jobs to its actors."""
    from runtime.inbound import Signal, apply

    results = []
    for row in pending(db):
        with db.conn:
            db.conn.execute("BEGIN IMMEDIATE")
            still = db.execute("SELECT applied_at FROM mail_inbound WHERE id = ?", [row["id"]]).fetchone()
            if still is None or still[0] is not None:
                continue
            kind, key = row["kind"], row["outbox_key"]
            effect = "none"
            received = datetime.fromisoformat(row["received_at"])
            if kind in ("unsubscribe", "complaint"):
                if kind == "unsubscribe" and key:
                    # The request is also the lead's answer: record it as the reply it is.
                    results.append(apply(db, Signal("replied", key, received, channel="email", text=row["body"]), now,
                                         info_for=info_for))
                address = row["from_addr"] if kind == "unsubscribe" else (msgspec.json.decode(row["recipients"]) or [""])[0]
                block_contact(db, contact_id=row["contact_id"], address=address,
                              reason=f"email {kind} {iso(received)}", now=now)
                _stop_campaigns(db, row["contact_id"], now)
                effect = "blocklisted"
            elif key and kind == "reply":
                results.append(apply(db, Signal("replied", key, received, channel="email", text=row["body"]), now,
                                     info_for=info_for))
                effect = "replied"
            elif key and kind == "auto_reply":
                results.append(apply(db, Signal("out_of_office", key, received, channel="email"), now, info_for=info_for))
                effect = "out_of_office"
            elif key and kind == "bounce" and not _is_delay_warning(row):
                hard = row["hard"] is None or bool(row["hard"])
                results.append(apply(db, Signal("bounced", key, received, channel="email", hard=hard), now,
                                     info_for=info_for))
                effect = "bounced hard" if hard else "bounced soft"
            db.execute("UPDATE mail_inbound SET applied_at = ?, effect = ? WHERE id = ?", [iso(now), effect, row["id"]])
    return results


def _is_delay_warning(row: dict) -> bool:
    # A "still trying" delay warning is not a failure: the server keeps retrying.
    return row["reason"] == "rfc3464" and row["hard"] == 0 and "delay" in (row["subject"] or "").lower()


def _stop_campaigns(db: sqlite_utils.Database, contact_id: int | None, now: datetime) -> None:
    """Finish every active enrollment of the contact as Finished / Blocked (spec)."""
    if contact_id is None:
        return
    from runtime.leads import CampaignInfo, advance, lead_rows, load_campaign
    from sequences.step import Blocked

    rows = db.execute("SELECT e.id, e.campaign_id, k.identity_id FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id"
                      " WHERE e.contact_id = ? AND e.status IN ('not_started', 'in_progress', 'paused', 'error')",
                      [contact_id]).fetchall()
    for enrollment_id, campaign_id, identity_id in rows:
        campaign = load_campaign(db, campaign_id)
        leads = lead_rows(db, [enrollment_id])
        if campaign is None or not leads:
            continue
        advance(db, CampaignInfo.of(campaign), leads[0], Blocked(), now, identity_id=identity_id)
