"""The outbox lifecycle of one job: enqueue, claim (with the pre-send re-check), settle, and crash recovery.

queued → sending → sent | failed | unknown (| cancelled when the lead no
longer wants it). The claim is one transaction that re-checks the lead
(replied, finished, paused, removed, errored, blocklisted, campaign not
running), moves the row to `sending`, stores its Message-ID / idempotency
key and appends the action to the ledger — all before any network call. So a
kill -9 at any point leaves either a queued row (nothing happened) or a
`sending` row whose ledger entry already counts against the caps; on restart
`sending` becomes `unknown` and is settled by the driver's look-up, never by
a blind resend.

Also here: the action ledger's writes (every counted action, the claim's and
the LinkedIn watcher's evaluations) and the look-ups of past deliveries.
"""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

import msgspec
import sqlite_utils

from storage.activity import iso
from storage.audience import _BLOCK_TESTS
from storage.db import joined_transaction
from storage.leads import decode_state

# The audience's blocklist test, every kind (one row per claim: the cost is a few index lookups).
_BLOCKED = "(" + " OR ".join(_BLOCK_TESTS.values()) + ")"

CLAIM_SQL = f"""
SELECT o.id, o.key, o.state, o.enrollment_id, o.campaign_id, o.inbox_id, o.node_id, o.channel, o.action,
       o.bucket, o.payload, o.message_id, o.first_attempt_at, o.sort_key, o.accepted_at,
       e.status AS lead_status, e.removed, e.state AS lead_state, e.contact_id,
       k.status AS campaign_status,
       c.email, c.linkedin_id, c.linkedin_url, {_BLOCKED} AS blocked
FROM outbox o
JOIN enrollments e ON e.id = o.enrollment_id
JOIN contacts c ON c.id = e.contact_id
JOIN campaigns k ON k.id = o.campaign_id
WHERE o.id = ?
"""


class Claimed(msgspec.Struct, kw_only=True):
    """A job claimed for sending: everything the driver call and the result need."""

    id: int
    key: str
    enrollment_id: int
    campaign_id: int
    contact_id: int
    inbox_id: int | None
    node: str
    channel: str
    action: str
    bucket: str
    payload: dict
    message_id: str | None
    first_attempt_at: datetime
    resumed: bool
    accepted: bool = False  # the mail server took it (an email's 250): only its Sent copy may be missing
    email: str | None
    linkedin_id: str | None
    linkedin_url: str | None
    sort_key: int
    claimed_at: datetime


def load(db: sqlite_utils.Database, outbox_id: int) -> dict | None:
    """The job with its lead, contact and campaign as one row (a dict: the identity actor
    reads and amends it by column name before `claim`)."""
    cur = db.execute(CLAIM_SQL, [outbox_id])
    r = cur.fetchone()
    if r is None:
        return None
    return dict(zip([d[0] for d in cur.description], r))


def why_not(row: dict) -> str | None:
    """The pre-send re-check: None when the job may go out, else why it must not.

    A reply by hand (no sequence node, storage/replies.py) answers a lead whose
    sequence has stopped: only a removal or the blocklist stops it."""
    if row["node_id"] is None and row["key"].startswith("reply:"):
        return "removed from the campaign" if row["removed"] else "blocklisted" if row["blocked"] else None
    if row["campaign_status"] != "running":
        return "campaign not running"
    if row["removed"]:
        return "removed from the campaign"
    if row["blocked"]:
        return "blocklisted"
    if row["lead_status"] != "in_progress":
        return f"lead is {row['lead_status']}"
    state = decode_state(row["lead_state"])
    if state.paused:
        return "lead paused"
    if state.phase != "queued" or state.node != row["node_id"]:
        return "lead moved on"
    return None


def cancel(db: sqlite_utils.Database, outbox_id: int, reason: str, now: datetime) -> None:
    db.execute("UPDATE outbox SET state = 'cancelled', error = ?, updated_at = ? WHERE id = ?",
               [reason, iso(now), outbox_id])


def cancel_queued_of(db: sqlite_utils.Database, enrollment_id: int, reason: str, now: datetime) -> None:
    """Cancel the lead's jobs still waiting in the queue (its campaign failed: nothing of it goes out)."""
    db.execute("UPDATE outbox SET state = 'cancelled', error = ?, updated_at = ? WHERE enrollment_id = ? AND state = 'queued'",
               [reason, iso(now), enrollment_id])


def fail_queued(db: sqlite_utils.Database, outbox_id: int, reason: str, now: datetime) -> None:
    """A queued job that can never go (its channel is lost): nothing was sent, its lead errors."""
    db.execute("UPDATE outbox SET state = 'failed', error = ?, updated_at = ? WHERE id = ? AND state = 'queued'",
               [reason, iso(now), outbox_id])


def message_id_for(key: str, sender: str | None) -> str:
    domain = sender.rsplit("@", 1)[-1] if sender and "@" in sender else "enginy.invalid"
    return f"<{key.replace(':', '.')}@{domain}>"


def claim(db: sqlite_utils.Database, row: dict, *, identity_id: int, now: datetime, counted: datetime | None,
          sender: str | None = None) -> Claimed:
    """Move a checked row to `sending` with its Message-ID and ledger entry (inside a transaction).

    `counted` is the ledger time an earlier attempt left (`ledger_time`; an `unknown` row
    keeps its entry): then no second entry is made."""
    resumed = row["state"] == "unknown"
    message_id = row["message_id"] or (message_id_for(row["key"], sender) if row["channel"] == "email" else None)
    first = row["first_attempt_at"] or iso(now)
    db.execute("UPDATE outbox SET state = 'sending', message_id = ?, first_attempt_at = ?, updated_at = ? WHERE id = ?",
               [message_id, first, iso(now), row["id"]])
    if counted is None:
        spend(db, at=now, identity_id=identity_id, bucket=row["bucket"], inbox_id=row["inbox_id"],
              campaign_id=row["campaign_id"], enrollment_id=row["enrollment_id"], outbox_id=row["id"])
    return Claimed(
        id=row["id"], key=row["key"], enrollment_id=row["enrollment_id"], campaign_id=row["campaign_id"],
        contact_id=row["contact_id"], inbox_id=row["inbox_id"], node=row["node_id"], channel=row["channel"],
        action=row["action"], bucket=row["bucket"], payload=msgspec.json.decode(row["payload"] or "{}"),
        message_id=message_id, first_attempt_at=datetime.fromisoformat(first), resumed=resumed,
        accepted=row["accepted_at"] is not None,
        email=row["email"], linkedin_id=row["linkedin_id"], linkedin_url=row["linkedin_url"],
        sort_key=row["sort_key"], claimed_at=now,
    )


def mark_accepted(db: sqlite_utils.Database, key: str, now: datetime) -> None:
    """The mail server answered 250 to this email's DATA: whatever happens next, it is not sent again."""
    with joined_transaction(db):
        db.execute("UPDATE outbox SET accepted_at = ? WHERE key = ?", [iso(now), key])


def ledger_time(db: sqlite_utils.Database, outbox_id: int) -> datetime | None:
    r = db.execute("SELECT at FROM action_ledger WHERE outbox_id = ?", [outbox_id]).fetchone()
    return datetime.fromisoformat(r[0]) if r else None


def mark_sent(db: sqlite_utils.Database, job: Claimed, now: datetime, external_id: str | None) -> None:
    db.execute("UPDATE outbox SET state = 'sent', sent_at = ?, external_id = COALESCE(?, external_id),"
               " updated_at = ? WHERE id = ?", [iso(now), external_id, iso(now), job.id])


def release(db: sqlite_utils.Database, job: Claimed, now: datetime, *, state: str, error: str | None) -> None:
    """Nothing was sent (queued again, or failed for good): the ledger entry goes too."""
    db.execute("UPDATE outbox SET state = ?, error = ?, updated_at = ? WHERE id = ?",
               [state, error, iso(now), job.id])
    db.execute("DELETE FROM action_ledger WHERE outbox_id = ?", [job.id])


def mark_unknown(db: sqlite_utils.Database, job: Claimed, now: datetime, error: str) -> None:
    """The action may have happened: keep the ledger entry (caps stay conservative)."""
    db.execute("UPDATE outbox SET state = 'unknown', error = ?, updated_at = ? WHERE id = ?",
               [error, iso(now), job.id])


# The WHERE term of the partial index `outbox_pending` (identity, state), word for word:
# SQLite uses a partial index only when the query states its condition. Without it a
# look-up of one identity's unsettled rows scans the whole outbox (millions of rows in
# a long run).
PENDING_INDEX_TERM = "state IN ('queued', 'claimed', 'sending', 'unknown')"


def recover(db: sqlite_utils.Database, identity_id: int, now: datetime) -> int:
    """After a crash: every row left `claimed`/`sending` becomes `unknown` (settled by look-up)."""
    cur = db.execute("UPDATE outbox SET state = 'unknown', error = 'runtime stopped during the send',"
                     f" updated_at = ? WHERE identity_id = ? AND state IN ('claimed', 'sending') AND {PENDING_INDEX_TERM}",
                     [iso(now), identity_id])
    return cur.rowcount


def spend(db: sqlite_utils.Database, *, at: datetime, identity_id: int, bucket: str, inbox_id: int | None = None,
          campaign_id: int | None = None, enrollment_id: int | None = None, outbox_id: int | None = None) -> None:
    """One counted action in the ledger (what every cap and rolling window is counted from)."""
    db.execute(
        "INSERT INTO action_ledger (at, identity_id, inbox_id, bucket, campaign_id, enrollment_id, outbox_id)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)", [iso(at), identity_id, inbox_id, bucket, campaign_id, enrollment_id, outbox_id])


def insert_job(db: sqlite_utils.Database, *, key: str, enrollment_id: int, campaign_id: int, identity_id: int,
               inbox_id: int | None, node_id: str, channel: str, action: str, bucket: str, payload: bytes,
               sort_key: int, now: datetime) -> int | None:
    """A new `queued` row; its id, or None when a row with this idempotency key exists."""
    cur = db.execute(
        "INSERT INTO outbox (key, enrollment_id, campaign_id, identity_id, inbox_id, node_id, channel, action,"
        " bucket, payload, state, sort_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " 'queued', ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        [key, enrollment_id, campaign_id, identity_id, inbox_id, node_id, channel, action,
         bucket, payload, sort_key, iso(now), iso(now)],
    )
    return cur.lastrowid if cur.rowcount else None


class KeyedJob(NamedTuple):
    id: int
    state: str
    sent_at: str | None


def by_key(db: sqlite_utils.Database, key: str) -> KeyedJob:
    """The row with this idempotency key (which must exist)."""
    return KeyedJob(*db.execute("SELECT id, state, sent_at FROM outbox WHERE key = ?", [key]).fetchone())


def requeue(db: sqlite_utils.Database, outbox_id: int, sort_key: int, now: datetime) -> None:
    """A cancelled row queued again (its lead came back to the step)."""
    db.execute("UPDATE outbox SET state = 'queued', sort_key = ?, error = NULL, updated_at = ? WHERE id = ?",
               [sort_key, iso(now), outbox_id])


def first_linkedin_sent(db: sqlite_utils.Database, identity_id: int) -> datetime | None:
    """When the identity's first LinkedIn delivery went out (None: none yet)."""
    r = db.execute("SELECT MIN(sent_at) FROM outbox WHERE identity_id = ? AND channel = 'linkedin'"
                   " AND state = 'sent'", [identity_id]).fetchone()
    return datetime.fromisoformat(r[0]) if r and r[0] else None


def latest_linkedin_delivery_to(db: sqlite_utils.Database, identity_id: int, sender_provider_id: str,
                                until: datetime) -> str | None:
    """The outbox key of the identity's latest LinkedIn delivery, at or before `until`, to the
    member with this provider id (matched by id or by the /in/ slug of the lead's profile URL)."""
    slug = f"%/in/{sender_provider_id}"
    row = db.execute(
        "SELECT o.key FROM outbox o JOIN contacts c ON c.id = (SELECT contact_id FROM enrollments"
        " WHERE id = o.enrollment_id) WHERE o.identity_id = ? AND o.channel = 'linkedin' AND o.state = 'sent'"
        " AND (c.linkedin_id = ? OR c.linkedin_url LIKE ? OR c.linkedin_url LIKE ?) AND o.sent_at <= ?"
        " ORDER BY o.sent_at DESC, o.id DESC LIMIT 1",
        [identity_id, sender_provider_id, slug, slug + "/", iso(until)]).fetchone()
    return row[0] if row else None


def last_sent_email(db: sqlite_utils.Database, enrollment_id: int) -> str | None:
    """The Message-ID of the lead's last sent email, which a follow-up in its thread answers."""
    row = db.execute("SELECT message_id FROM outbox WHERE enrollment_id = ? AND channel = 'email' AND state = 'sent'"
                     " ORDER BY id DESC LIMIT 1", [enrollment_id]).fetchone()
    return row[0] if row else None
