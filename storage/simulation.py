"""The set-based inserts that fill a simulation's scratch workspace (runtime/simulation.py `build`).

Ids are given, not assigned: a simulation derives every id from the identity
number so a lead is the same lead in whichever worker process runs it. Call
these inside one transaction, with the contact and enrollment triggers
deferred (`storage.bulk_load.triggers_deferred`).
"""

from __future__ import annotations

from typing import Iterable

import sqlite_utils

ContactRow = tuple
"""(id, first_name, last_name, company, job_title, linkedin_url, linkedin_id, email, phone, created_at, updated_at)"""


def add_identity(db: sqlite_utils.Database, *, id: int, name: str, email: str, timezone: str, working_days: str,
                 work_start: str, work_end: str, premium: bool, monthly_conversation_limit: int | None,
                 at: str) -> None:
    """A sandbox-driven identity, LinkedIn connected."""
    db.execute(
        "INSERT INTO identities (id, name, email, timezone, working_days, work_start, work_end, linkedin_driver,"
        " linkedin_connected, premium, monthly_conversation_limit, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, 'sandbox', 1, ?, ?, ?, ?)",
        [id, name, email, timezone, working_days, work_start, work_end, int(premium), monthly_conversation_limit,
         at, at])


def add_inbox(db: sqlite_utils.Database, *, id: int, identity_id: int, email: str, per_day: int, per_hour: int,
              at: str) -> None:
    """A sandbox inbox."""
    db.execute("INSERT INTO inboxes (id, identity_id, email, provider, per_day, per_hour, created_at,"
               " updated_at) VALUES (?, ?, ?, 'sandbox', ?, ?, ?, ?)", [id, identity_id, email, per_day, per_hour, at, at])


def add_contacts(db: sqlite_utils.Database, rows: Iterable[ContactRow]) -> None:
    db.conn.executemany(
        "INSERT INTO contacts (id, first_name, last_name, company, job_title, linkedin_url, linkedin_id, email,"
        " phone, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def add_running_campaign(db: sqlite_utils.Database, *, id: int, name: str, identity_id: int, priority: str,
                         settings: str, sequence: str, at: str) -> None:
    """A campaign launched at `at`."""
    db.execute(
        "INSERT INTO campaigns (id, name, identity_id, status, priority, settings, sequence, created_at,"
        " updated_at, launched_at) VALUES (?, ?, ?, 'running', ?, ?, ?, ?, ?, ?)",
        [id, name, identity_id, priority, settings, sequence, at, at, at])


def enroll_contact_range(db: sqlite_utils.Database, campaign_id: int, lo: int, hi: int, at: str) -> None:
    """Enroll contacts lo ≤ id < hi, due at `at`; each enrollment takes its contact's id."""
    db.execute(
        "INSERT INTO enrollments (id, campaign_id, contact_id, status, due_at, enrolled_at, updated_at)"
        " SELECT id, ?, id, 'not_started', ?, ?, ? FROM contacts WHERE id >= ? AND id < ?",
        [campaign_id, at, at, at, lo, hi])
