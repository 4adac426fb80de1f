"""What leads send back, as stored: the delivery a signal answers, the reply, the leads a block stops.

runtime/inbound.py applies every inbound signal (LinkedIn poller and webhook,
IMAP watcher, tracking endpoint, sandbox feed) through these, inside its one
transaction per signal.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from storage.activity import iso
from storage.records import EnrollmentRef


def answered_delivery(db: sqlite_utils.Database, outbox_key: str) -> EnrollmentRef | None:
    """The enrollment, campaign and identity of the outbox row with this key."""
    r = db.execute("SELECT enrollment_id, campaign_id, identity_id FROM outbox WHERE key = ?", [outbox_key]).fetchone()
    return EnrollmentRef(enrollment_id=r[0], campaign_id=r[1], identity_id=r[2]) if r else None


def active_enrollments(db: sqlite_utils.Database, contact_id: int) -> list[EnrollmentRef]:
    """The contact's enrollments a blocklisting finishes (not started, in progress, paused, error)."""
    rows = db.execute("SELECT e.id, e.campaign_id, k.identity_id FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id"
                      " WHERE e.contact_id = ? AND e.status IN ('not_started', 'in_progress', 'paused', 'error')",
                      [contact_id]).fetchall()
    return [EnrollmentRef(enrollment_id=r[0], campaign_id=r[1], identity_id=r[2]) for r in rows]
