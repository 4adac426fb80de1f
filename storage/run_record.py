"""What a run recorded, read back for runtime/checker.py (plain reads, rows as dicts).

The checker re-derives every invariant from these rows alone and shares no
code with the limiter; these functions only fetch, they judge nothing.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

Row = dict[str, Any]


def inboxes(db: sqlite_utils.Database) -> dict[int, Row]:
    return {r["id"]: r for r in db.query("SELECT * FROM inboxes")}


def ledger(db: sqlite_utils.Database) -> list[Row]:
    """Every ledger entry, in the order the run's log digest walks them."""
    return list(db.query("SELECT id, at, identity_id, inbox_id, bucket, enrollment_id, outbox_id FROM action_ledger"
                         " ORDER BY at, identity_id, bucket, enrollment_id, id"))


def first_activity(db: sqlite_utils.Database, kinds: tuple[str, ...]) -> dict[int, str]:
    """enrollment id → the time of its first activity of one of `kinds`."""
    return {r["enrollment_id"]: r["at"] for r in db.query(
        f"SELECT enrollment_id, MIN(at) AS at FROM activity WHERE kind IN ({','.join('?' * len(kinds))})"
        " GROUP BY enrollment_id", list(kinds))}


def sent_jobs(db: sqlite_utils.Database) -> list[Row]:
    """id, enrollment_id, sent_at, action of every sent outbox row."""
    return list(db.query("SELECT id, enrollment_id, sent_at, action FROM outbox WHERE state = 'sent'"))


def maybe_sent_keys(db: sqlite_utils.Database) -> dict[str, Row]:
    """Outbox rows that were or may have been delivered, by idempotency key."""
    return {r["key"]: r for r in db.query("SELECT key, state, enrollment_id, node_id FROM outbox"
                                          " WHERE state IN ('sent', 'unknown', 'sending')")}


def enrollments_with(db: sqlite_utils.Database, kind: str) -> list[int]:
    """The enrollment id of every activity row of this kind (once per row)."""
    return [r["enrollment_id"] for r in db.query("SELECT enrollment_id FROM activity WHERE kind = ?", [kind])]


def status_counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {r["status"]: r["n"] for r in db.query("SELECT status, COUNT(*) AS n FROM enrollments GROUP BY status")}


def capped_jobs(db: sqlite_utils.Database) -> list[Row]:
    """The outbox rows of the lanes with a daily cap (what was waiting, and when it went)."""
    return list(db.query("SELECT identity_id, bucket, inbox_id, created_at, sent_at, state FROM outbox"
                         " WHERE bucket IN ('connection_request', 'message', 'profile_visit', 'email')"))


def unfinished_leads(db: sqlite_utils.Database) -> list[Row]:
    """Every lead In progress or in Error: its substatus and its detail, due time, whether a job of it is on its
    way (queued, claimed, sending or unknown), running right now (claimed, sending), and whether a queued one waits on an inbox that is
    not connected (for the invariant "no lead waits without a reason")."""
    return list(db.query(
        "SELECT e.id, e.status, e.substatus, e.due_at, e.wait_cap, e.wait_until,"
        " EXISTS (SELECT 1 FROM outbox o WHERE o.enrollment_id = e.id"
        "         AND o.state IN ('queued', 'claimed', 'sending', 'unknown')) AS pending,"
        " EXISTS (SELECT 1 FROM outbox o WHERE o.enrollment_id = e.id AND o.state IN ('claimed', 'sending')) AS running,"
        " EXISTS (SELECT 1 FROM outbox o JOIN inboxes i ON i.id = o.inbox_id WHERE o.enrollment_id = e.id"
        "         AND o.state = 'queued' AND i.connected = 0) AS on_lost_inbox"
        " FROM enrollments e WHERE e.status IN ('in_progress', 'error')"))
