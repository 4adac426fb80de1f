"""The statements of `enginy forecast` (runtime/forecast.py): the workspace's copy, rewired and read.

The forecast runs the runtime on a snapshot of the workspace; these functions
take that snapshot, point the copy at the sandbox world, and read what the
report needs (observed rates, remaining leads, the ledger over a window).
"""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

import sqlite_utils

from storage.activity import iso
from storage.runtime_state import get_state, set_state

ACTIVE = ("running", "scheduled")
REMAINING = "status IN ('not_started', 'in_progress') AND removed = 0"


def snapshot(source: Path, target: Path) -> None:
    """Copy a live workspace database without writing to it (read-only URI + backup API)."""
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def active_campaigns(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    """Running and scheduled campaigns, by id."""
    return {r["id"]: r for r in db.query(f"SELECT * FROM campaigns WHERE status IN {ACTIVE} ORDER BY id")}


def milestone_counts(db: sqlite_utils.Database, base: int, hit: int) -> tuple[int, int]:
    """(leads with a `base` milestone bit, leads with a `hit` bit)."""
    n, k = db.execute("SELECT SUM(milestones & ? != 0), SUM(milestones & ? != 0) FROM enrollments",
                      [base, hit]).fetchone()
    return n or 0, k or 0


def use_sandbox(db: sqlite_utils.Database) -> None:
    """Point every identity and inbox of the copy at the sandbox world and drop the real
    process's lease (call inside a transaction)."""
    db.execute("UPDATE identities SET linkedin_driver = 'sandbox', linkedin_connected = 1")
    db.execute("UPDATE inboxes SET provider = 'sandbox'")
    db.execute("DELETE FROM runtime_lease")


class SentDelivery(NamedTuple):
    """A sent outbox row with the lead's LinkedIn and email address (replayed into the world)."""

    key: str
    identity_id: int
    channel: str
    action: str
    sent_at: str
    linkedin_id: str | None
    linkedin_url: str | None
    email: str | None


def sent_deliveries(db: sqlite_utils.Database) -> list[SentDelivery]:
    """Every sent outbox row, oldest first."""
    return [SentDelivery(*r) for r in db.execute(
        "SELECT o.key, o.identity_id, o.channel, o.action, o.sent_at, c.linkedin_id, c.linkedin_url, c.email"
        " FROM outbox o JOIN enrollments e ON e.id = o.enrollment_id JOIN contacts c ON c.id = e.contact_id"
        " WHERE o.state = 'sent' AND o.sent_at IS NOT NULL ORDER BY o.sent_at, o.id")]


def remaining_leads(db: sqlite_utils.Database) -> dict[int, int]:
    """Active campaign id → how many of its leads are not started or in progress."""
    rows = db.execute(f"SELECT c.id, (SELECT COUNT(*) FROM enrollments e WHERE e.campaign_id = c.id AND {REMAINING})"
                      f" FROM campaigns c WHERE c.status IN {ACTIVE}").fetchall()
    return dict(rows)


def inbox_limits(db: sqlite_utils.Database, identity_id: int) -> list[dict[str, int]]:
    """per_day and per_hour of each of the identity's connected inboxes."""
    return [dict(zip(("per_day", "per_hour"), r)) for r in db.execute(
        "SELECT per_day, per_hour FROM inboxes WHERE identity_id = ? AND connected = 1", [identity_id])]


def ledger_count(db: sqlite_utils.Database, identity_id: int, bucket: str, lo: datetime, hi: datetime) -> int:
    """The identity's ledger entries of `bucket` in [lo, hi)."""
    return db.execute("SELECT COUNT(*) FROM action_ledger WHERE identity_id = ? AND bucket = ? AND at >= ?"
                      " AND at < ?", [identity_id, bucket, iso(lo), iso(hi)]).fetchone()[0]


def last_change(db: sqlite_utils.Database, campaign_id: int, after: datetime, until: datetime) -> str | None:
    """The latest change to one of the campaign's leads in (after, until]."""
    return db.execute("SELECT MAX(updated_at) FROM enrollments WHERE campaign_id = ? AND updated_at > ?"
                      " AND updated_at <= ?", [campaign_id, iso(after), iso(until)]).fetchone()[0]


# -- the forecast the queue monitor shows (runtime/forecast_live.py keeps it) ----------

LIVE = "live_forecast"  # runtime_state key: the last report, as JSON


def inputs_stamp(db: sqlite_utils.Database) -> tuple:
    """What a forecast's outcome depends on, cheaply: the ledger and activity grow with every action,
    a campaign's status and an identity's settings change its course (rowid maxima are O(1))."""
    return db.execute(
        "SELECT (SELECT MAX(rowid) FROM action_ledger), (SELECT MAX(rowid) FROM activity),"
        " (SELECT group_concat(id || status, ',') FROM campaigns),"
        " (SELECT group_concat(updated_at, ',') FROM identities)").fetchone()


def save_live(db: sqlite_utils.Database, report_json: str) -> None:
    set_state(db, LIVE, report_json)


def live(db: sqlite_utils.Database) -> str | None:
    """The last forecast kept for the monitor (JSON of `enginy forecast --json`), if any."""
    return get_state(db, LIVE)
