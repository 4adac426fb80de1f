"""Tasks made by hand from a lead (the side panel's "Create a task", `enginy campaigns task`).

A sequence's Task step writes the same `tasks` row (runtime/leads.py); a task
made by hand also logs TASK_CREATED with the user as actor, so the lead's
timeline and the Activity tab show it.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from storage.activity import record
from storage.activity_kinds import Kind
from storage.campaigns import CampaignError
from storage.contact_fields import clean_line
from storage.db import transaction
from storage.leads import add_task

TITLE_MAX = 200


def create_task(db: sqlite_utils.Database, enrollment_id: int, *, title: str, notes: str = "", now: datetime,
                actor: str) -> int:
    """A pending task about this lead, at its current step; the new task's id."""
    title = clean_line(title)
    if not title:
        raise CampaignError("a task needs a title")
    if len(title) > TITLE_MAX:
        raise CampaignError(f"a task title is at most {TITLE_MAX} characters")
    with transaction(db):
        row = db.execute("SELECT campaign_id, contact_id, node_id FROM enrollments WHERE id = ?",
                         [enrollment_id]).fetchone()
        if row is None:
            raise CampaignError("this lead is no longer in the campaign")
        campaign_id, contact_id, node_id = row
        add_task(db, campaign_id=campaign_id, enrollment_id=enrollment_id, contact_id=contact_id, node_id=node_id,
                 title=title, notes=notes.strip(), kind="todo", now=now)
        task_id = db.execute("SELECT last_insert_rowid()").fetchone()[0]
        record(db, kind=Kind.TASK_CREATED, now=now, campaign_id=campaign_id, enrollment_id=enrollment_id,
               contact_id=contact_id, node_id=node_id, actor=actor, channel="task",
               detail={"task": task_id, "title": title})
    return task_id
