"""Email inboxes of identities: connecting (IMAP/SMTP settings), listing, disconnecting.

Checking a connection and keeping its password are the runtime's work
(runtime/channels/email, runtime/secrets.py); the caller passes that work in
as `keep_secret`, run inside the write transaction, so a password that cannot
be stored leaves no half-connected inbox behind. Functions that write take
`now` as an ISO text (the storage layer never reads the clock).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Callable, TypeVar

import sqlite_utils

from sequences.limits import EMAIL_PER_DAY, EMAIL_PER_HOUR
from storage import secret_purges
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.db import transaction
from storage.records import Inbox

T = TypeVar("T")


#: The spec's warning (identity-configuration.md, "Lead continuity"), shown before every disconnect.
DISCONNECT_WARNING = ("If you disconnect an email address that has active leads mid-sequence, those leads will "
                      "fail. The only way to fix this is to reconnect the same address that initiated the "
                      "conversation.")


class InboxError(ValueError):
    """A value the user can fix; the message is one line naming the setting."""


def check_rate(per_day: int | None, per_hour: int | None, *,
               labels: tuple[str, str] = ("emails per day", "emails per hour")) -> None:
    """The spec's email rate: at most 80 a day and 10 an hour per inbox (recommended 30 and 5).
    `labels` name the two settings as the caller's user knows them (CLI flags, form fields)."""
    for label, value, cap in ((labels[0], per_day, EMAIL_PER_DAY), (labels[1], per_hour, EMAIL_PER_HOUR)):
        if value is not None and (not isinstance(value, int) or not cap.allows(value)):
            raise InboxError(f"{label} must be between {cap.low} and {cap.high} emails per inbox"
                             f" (recommended {cap.default})")


def edit_inbox(db: sqlite_utils.Database, inbox_id: int, *, now: str, per_day: int | None = None,
               per_hour: int | None = None, signature_text: str | None = None, signature_html: str | None = None,
               labels: tuple[str, str] = ("emails per day", "emails per hour")) -> dict[str, Any]:
    """Change an inbox's caps or signature without reconnecting it (None = unchanged). Its identity's
    actor sees `updated_at` move (inbox_versions) and sends with the new values from then on."""
    check_rate(per_day, per_hour, labels=labels)
    changes = {k: v for k, v in (("per_day", per_day), ("per_hour", per_hour), ("signature_text", signature_text),
                                 ("signature_html", signature_html)) if v is not None}
    with transaction(db):
        if changes:
            sets = ", ".join(f"{k} = ?" for k in changes)
            db.execute(f"UPDATE inboxes SET {sets}, updated_at = ? WHERE id = ?", [*changes.values(), now, inbox_id])
        return get_inbox(db, inbox_id)


def leads_on_inbox(db: sqlite_utils.Database, inbox_id: int, limit: int = 20) -> list[dict[str, Any]]:
    """Some leads mid-sequence that send from this inbox (what disconnecting it would make fail)."""
    return list(db.query(
        "SELECT e.id AS enrollment_id, c.first_name, c.last_name, c.email, k.name AS campaign"
        " FROM enrollments e JOIN contacts c ON c.id = e.contact_id JOIN campaigns k ON k.id = e.campaign_id"
        " WHERE e.inbox_id = ? AND e.status IN ('in_progress', 'paused') ORDER BY e.id LIMIT ?", [inbox_id, limit]))


def inboxes_matching(db: sqlite_utils.Database, ref: str) -> list[dict[str, Any]]:
    """Inboxes named by `ref`: its id, else its address in any case (several identities may share one)."""
    rows = list(db.query("SELECT * FROM inboxes WHERE id = ?", [int(ref)])) if ref.isdigit() else []
    return rows or list(db.query("SELECT * FROM inboxes WHERE lower(email) = ?", [ref.lower()]))


def get_inbox(db: sqlite_utils.Database, inbox_id: int) -> dict[str, Any]:
    return next(db.query("SELECT * FROM inboxes WHERE id = ?", [inbox_id]))


def list_inboxes(db: sqlite_utils.Database, identity_id: int | None = None) -> list[dict[str, Any]]:
    """Every inbox (or one identity's) in id order: a workspace has a handful."""
    if identity_id is None:
        return list(db.query("SELECT * FROM inboxes ORDER BY id"))
    return list(db.query("SELECT * FROM inboxes WHERE identity_id = ? ORDER BY id", [identity_id]))


def inbox_of_identity(db: sqlite_utils.Database, identity_id: int, ref: str) -> int | None:
    """The id of the identity's inbox named by `ref` (its id or exact address), None if it has none such."""
    row = db.execute("SELECT id FROM inboxes WHERE identity_id = ? AND (CAST(id AS TEXT) = ? OR email = ?)",
                     [identity_id, ref, ref]).fetchone()
    return row[0] if row else None


def save_imap_inbox(db: sqlite_utils.Database, identity_id: int, *, email: str, imap_host: str, imap_port: int,
                    smtp_host: str, smtp_port: int, tls: str, ca_file: str | None, per_day: int, per_hour: int,
                    list_unsubscribe: bool, signature: str | None, now: str,
                    keep_secret: Callable[[int], T], provider: str = "imap") -> tuple[int, T]:
    """Connect (or re-connect with new settings) the identity's inbox at `email`; returns its id and
    what `keep_secret(inbox_id)` returned. A failing `keep_secret` undoes the whole connection.
    `provider` says what the kept secret is: a password (imap) or an OAuth grant (google, microsoft)."""
    values = [provider, imap_host, imap_port, smtp_host, smtp_port, tls, ca_file, per_day, per_hour]
    with transaction(db):
        existing = db.execute("SELECT id FROM inboxes WHERE identity_id = ? AND lower(email) = ?",
                              [identity_id, email.lower()]).fetchone()
        if existing:
            inbox_id = existing[0]
            db.execute("UPDATE inboxes SET provider = ?, imap_host = ?, imap_port = ?, smtp_host = ?, smtp_port = ?,"
                       " tls_mode = ?, ca_file = ?, per_day = ?, per_hour = ?, connected = 1, updated_at = ? WHERE id = ?",
                       values + [now, inbox_id])
        else:
            inbox_id = db.execute(
                "INSERT INTO inboxes (identity_id, email, provider, imap_host, imap_port, smtp_host, smtp_port, tls_mode,"
                " ca_file, per_day, per_hour, connected, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                [identity_id, email] + values + [now, now]).lastrowid
        db.execute("UPDATE inboxes SET list_unsubscribe = ? WHERE id = ?", [int(list_unsubscribe), inbox_id])
        if signature is not None:
            db.execute("UPDATE inboxes SET signature_text = ? WHERE id = ?", [signature, inbox_id])
        return inbox_id, keep_secret(inbox_id)


def set_connected(db: sqlite_utils.Database, inbox_id: int, connected: bool, *, now: str,
                  keep_secret: Callable[[], object] | None = None) -> None:
    """Turn an inbox on or off; `keep_secret` (reconnecting) runs in the same transaction."""
    with transaction(db):
        db.execute("UPDATE inboxes SET connected = ?, updated_at = ? WHERE id = ?", [int(connected), now, inbox_id])
        if keep_secret is not None:
            keep_secret()


def disconnect_inbox(db: sqlite_utils.Database, inbox_id: int, *, now: datetime, actor: str) -> dict[str, Any]:
    """The user's disconnect, the same from the app and the CLI (spec identity-configuration.md,
    "Lead continuity"): the inbox stops sending and receiving, its leads mid-sequence are not moved
    to another inbox — they error until the same address is reconnected — and its password is
    forgotten (asked for in this transaction, done by whoever holds the secret store:
    storage/secret_purges.py), so reconnecting asks for it again. Returns the inbox as it was, with
    `active_leads`, the count of leads mid-sequence on it."""
    with transaction(db):
        row = get_inbox(db, inbox_id)
        db.execute("UPDATE inboxes SET connected = 0, updated_at = ? WHERE id = ?", [iso(now), inbox_id])
        secret_purges.request(db, [secret_purges.inbox_secret_name(inbox_id)], now)
        record(db, kind=Kind.INBOX_DISCONNECTED, now=now, identity_id=row["identity_id"], actor=actor,
               detail={"inbox_id": inbox_id, "email": row["email"]})
        return {**row, "active_leads": active_leads(db, inbox_id)}


def active_leads(db: sqlite_utils.Database, inbox_id: int) -> int:
    """Leads mid-sequence (in progress or paused) that send from this inbox."""
    return db.execute("SELECT COUNT(*) FROM enrollments WHERE inbox_id = ? AND status IN ('in_progress', 'paused')",
                      [inbox_id]).fetchone()[0]


def connected_inboxes(db: sqlite_utils.Database, identity_id: int) -> list[dict[str, Any]]:
    """The identity's connected inboxes, whole rows, by id (what its actor sends from); one warming
    up also carries `warmup_sent` / `warmup_bounced`, its recent push-back (`warmup_bounces`)."""
    return with_warmup(db, list(db.query("SELECT * FROM inboxes WHERE identity_id = ? AND connected = 1 ORDER BY id",
                                         [identity_id])))


def with_warmup(db: sqlite_utils.Database, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` (inbox rows with `warmup_start`), each one warming up given its recent push-back,
    `warmup_sent` / `warmup_bounced` (`warmup_bounces`): what its warm-up ramp is stepped by."""
    for row in rows:
        if row.get("warmup_start"):
            row["warmup_sent"], row["warmup_bounced"] = warmup_bounces(db, row["id"])
    return rows


WARMUP_SAMPLE = 50  # the inbox's latest emails judged for push-back during warm-up


def warmup_bounces(db: sqlite_utils.Database, inbox_id: int) -> tuple[int, int]:
    """(sent, bounced or complained about) among the inbox's latest WARMUP_SAMPLE sent emails."""
    return db.execute(
        "WITH recent AS (SELECT id FROM outbox WHERE inbox_id = ? AND state = 'sent' ORDER BY id DESC LIMIT ?)"
        " SELECT (SELECT COUNT(*) FROM recent), (SELECT COUNT(DISTINCT outbox_id) FROM mail_inbound"
        " WHERE kind IN ('bounce', 'complaint') AND outbox_id IN (SELECT id FROM recent))",
        [inbox_id, WARMUP_SAMPLE]).fetchone()


def set_warmup(db: sqlite_utils.Database, inbox_id: int, *, start: str | None, days: int, now: str) -> dict[str, Any]:
    """Start (a local ISO date) or stop (None) an inbox's warm-up; its identity's actor restarts with
    the new caps (`updated_at` moves, see inbox_versions)."""
    with transaction(db):
        db.execute("UPDATE inboxes SET warmup_start = ?, warmup_days = ?, updated_at = ? WHERE id = ?",
                   [start, days, now, inbox_id])
        return get_inbox(db, inbox_id)


def inbox_versions(db: sqlite_utils.Database) -> dict[int, str]:
    """Per identity, a signature of its inboxes (id, connected, updated_at): it changes when one is
    connected, disconnected or edited."""
    return dict(db.execute(
        "SELECT identity_id, group_concat(sig, ',') FROM (SELECT identity_id, id || ':' || connected || ':'"
        " || updated_at AS sig FROM inboxes ORDER BY identity_id, id) GROUP BY identity_id").fetchall())


def imap_inbox(db: sqlite_utils.Database, inbox_id: int, identity_id: int) -> Inbox | None:
    """The identity's inbox row, read afresh per send (a reconnect takes effect at once)."""
    row = next(db.query("SELECT * FROM inboxes WHERE id = ? AND identity_id = ?", [inbox_id, identity_id]), None)
    return Inbox.from_row(row) if row else None


def watched_inboxes(db: sqlite_utils.Database) -> list[Inbox]:
    """Every connected IMAP inbox (by password or OAuth): the ones a watcher follows."""
    return [Inbox.from_row(r) for r in db.query(
        "SELECT * FROM inboxes WHERE connected = 1 AND provider IN ('imap', 'google', 'microsoft')")]
