"""Test workspaces built the way the product builds them: through the storage functions.

A test that writes `INSERT INTO identities …` by hand builds rows the product
never makes (no activity, columns the code would have normalised) and breaks
silently when the schema moves; these helpers call what `enginy identity add`,
`enginy contacts import` and `enginy campaigns create|add|launch` call.
"""

from __future__ import annotations

import csv
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from sequences.model import Sequence
from storage.audience import add_contacts
from storage.campaigns import Settings, create_campaign, launch_campaign
from storage.contact_fields import FIELDS
from storage.contact_import import import_contacts
from storage.identities import connect_sandbox, create_identity

ACTOR = "you"


def sandbox_identity(db: sqlite_utils.Database, name: str, *, now: datetime, per_day: int = 30, per_hour: int = 5,
                     **fields: Any) -> int:
    """An identity on the simulated LinkedIn with its simulated inbox (`enginy identity add NAME --sandbox`)."""
    identity_id = create_identity(db, name, now=now, actor=ACTOR, **fields)
    connect_sandbox(db, identity_id, now=now, actor=ACTOR, per_day=per_day, per_hour=per_hour)
    return identity_id


def contacts(db: sqlite_utils.Database, rows: list[dict[str, Any]], *, now: datetime, list_name: str = "Leads") -> int:
    """Import `rows` (contact fields by name) into the list `list_name`, in order; returns the list id.
    The contacts get ids 1, 2, … in an empty workspace."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.csv"
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=FIELDS)
            writer.writeheader()
            writer.writerows(rows)
        result = import_contacts(db, path, list_name=list_name, now=now)
    assert not result.errors, result.errors
    return result.list_id


def draft_campaign(db: sqlite_utils.Database, *, identity: int | str, sequence: Sequence, contact_ids: list[int],
                   now: datetime, name: str | None = None, priority: str = "medium",
                   settings: Settings | None = None) -> int:
    """A Draft campaign with `contact_ids` enrolled (due at `now`); returns its id."""
    campaign_id = create_campaign(db, identity=identity, sequence=sequence, name=name, priority=priority,
                                  settings=settings, now=now, actor=ACTOR)
    if contact_ids:
        add_contacts(db, campaign_id, contact_ids, now=now, actor=ACTOR)
    return campaign_id


def running_campaign(db: sqlite_utils.Database, *, now: datetime, **campaign: Any) -> int:
    """A `draft_campaign` launched at `now`."""
    campaign_id = draft_campaign(db, now=now, **campaign)
    launch_campaign(db, campaign_id, now=now, actor=ACTOR)
    return campaign_id
