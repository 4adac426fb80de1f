"""The lead rows the runtime steps (an enrollment joined with its contact) and the writes a step makes.

runtime/leads.py applies the step function; every statement it needs is
here. A lead row is a dict keyed by column (LEAD_COLUMNS): the actors keep
it while the lead is handled and the step updates it in place with what it
wrote, so the next write can name only the columns that changed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable, NamedTuple

import msgspec
import sqlite_utils

from sequences.step import State
from storage.activity import iso
from storage.identities import LIKINGS_OPT_OUT

decode_state = msgspec.json.Decoder(State).decode
encode = msgspec.json.Encoder().encode

LEAD_COLUMNS = (
    "e.id, e.campaign_id, e.contact_id, e.status, e.substatus, e.node_id, e.due_at, e.message_depth, e.state, "
    "e.inbox_id, e.removed, e.milestones, e.started_at IS NOT NULL AS started, "
    "c.first_name, c.last_name, c.company, c.job_title, c.email, c.phone, c.linkedin_url, "
    "c.linkedin_id, c.custom"
)


def lead_rows(db: sqlite_utils.Database, ids: Iterable[int]) -> list[dict[str, Any]]:
    ids = list(ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    cur = db.execute(f"SELECT {LEAD_COLUMNS} FROM enrollments e JOIN contacts c ON c.id = e.contact_id"
                     f" WHERE e.id IN ({marks})", ids)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


class SentMessage(NamedTuple):
    """A message we sent a contact (tuple-like: read for every step of a lead that asks about past contact)."""

    channel: str
    at: str
    identity_id: int


def outbound_messages(db: sqlite_utils.Database, contact_id: int) -> list[SentMessage]:
    """Every message any identity sent the contact."""
    return [SentMessage(*r) for r in db.execute(
        "SELECT v.channel, m.at, v.identity_id FROM conversations v JOIN messages m ON m.conversation_id = v.id"
        " WHERE v.contact_id = ? AND m.direction = 'out'", [contact_id])]


def save_columns(db: sqlite_utils.Database, enrollment_id: int, changed: dict[str, Any], now: datetime) -> None:
    """Write only the `changed` columns (and updated_at): every index and count trigger on a
    column named in an UPDATE is rewritten even when its value stays the same. A new substatus
    drops the detail a lane wrote with the old one (wait_cap, wait_until: storage/lanes.py)."""
    wait = "wait_cap = NULL, wait_until = NULL, " if "substatus" in changed else ""
    db.execute(f"UPDATE enrollments SET {''.join(f'{c} = ?, ' for c in changed)}{wait}updated_at = ? WHERE id = ?",
               [*changed.values(), iso(now), enrollment_id])


def set_inbox(db: sqlite_utils.Database, enrollment_id: int, inbox_id: int) -> None:
    db.execute("UPDATE enrollments SET inbox_id = ? WHERE id = ?", [inbox_id, enrollment_id])


def add_task(db: sqlite_utils.Database, *, campaign_id: int, enrollment_id: int, contact_id: int, node_id: str | None,
             title: str, notes: str, kind: str, now: datetime, due_at: datetime | None = None) -> int:
    """Insert a pending task; its id."""
    return db.execute(
        "INSERT INTO tasks (campaign_id, enrollment_id, contact_id, node_id, title, notes, kind, created_at, due_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [campaign_id, enrollment_id, contact_id, node_id, title, notes, kind, iso(now),
         iso(due_at) if due_at is not None else None]).lastrowid


def campaign_named(db: sqlite_utils.Database, name: str) -> int | None:
    """The id of the oldest campaign of that name that is not archived."""
    row = db.execute("SELECT id FROM campaigns WHERE name = ? AND status != 'archived' ORDER BY id LIMIT 1",
                     [name]).fetchone()
    return row[0] if row else None


def enroll(db: sqlite_utils.Database, campaign_id: int, contact_id: int, now: datetime) -> bool:
    """Enroll the contact, due now; False when it already is in that campaign."""
    cur = db.execute(
        "INSERT OR IGNORE INTO enrollments (campaign_id, contact_id, status, due_at, enrolled_at, updated_at)"
        " VALUES (?, ?, 'not_started', ?, ?, ?)", [campaign_id, contact_id, iso(now), iso(now), iso(now)])
    return cur.rowcount > 0


def load_campaign(db: sqlite_utils.Database, campaign_id: int) -> dict[str, Any] | None:
    rows = list(db.query(f"SELECT *, {LIKINGS_OPT_OUT} FROM campaigns WHERE id = ?", [campaign_id]))
    return rows[0] if rows else None


# The WHERE term of the partial index `enrollments_due_status` (campaign, status, due_at),
# repeated word for word: SQLite uses a partial index only when the query states its
# condition, and `status = ?` with a parameter does not. Without it the planner walks
# every lead of the campaign with that status (about 50x slower per look-up).
DUE_INDEX_TERM = "status IN ('not_started', 'in_progress')"


def earliest_due(db: sqlite_utils.Database, campaign_id: int, status: str) -> str | None:
    """The earliest due time (ISO) of the campaign's leads in `status` (not_started or in_progress)."""
    row = db.execute(
        "SELECT MIN(due_at) FROM enrollments WHERE campaign_id = ? AND status = ? AND due_at IS NOT NULL"
        f" AND {DUE_INDEX_TERM}", [campaign_id, status]).fetchone()
    return row[0] if row else None


def due_ids(db: sqlite_utils.Database, campaign_id: int, status: str, now: datetime, limit: int) -> list[int]:
    """The campaign's leads in `status` due at `now`, earliest first."""
    return [r[0] for r in db.execute(
        "SELECT id FROM enrollments WHERE campaign_id = ? AND status = ? AND due_at <= ?"
        f" AND {DUE_INDEX_TERM} ORDER BY due_at LIMIT ?", [campaign_id, status, iso(now), limit])]


def active_ids(db: sqlite_utils.Database, campaign_id: int) -> list[int]:
    """The campaign's leads not started or in progress (those a failing campaign errors)."""
    return [r[0] for r in db.execute(
        f"SELECT id FROM enrollments WHERE campaign_id = ? AND {DUE_INDEX_TERM} ORDER BY id", [campaign_id])]


def set_due(db: sqlite_utils.Database, enrollment_id: int, due_at: str | None) -> None:
    """Move a lead in (or, with None, out of) the due index, and nothing else."""
    db.execute("UPDATE enrollments SET due_at = ? WHERE id = ?", [due_at, enrollment_id])


class LeadState(NamedTuple):
    state: str
    campaign_id: int


def lead_state(db: sqlite_utils.Database, enrollment_id: int) -> LeadState | None:
    row = db.execute("SELECT state, campaign_id FROM enrollments WHERE id = ?", [enrollment_id]).fetchone()
    return LeadState(*row) if row else None
