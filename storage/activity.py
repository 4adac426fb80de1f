"""Writing the activity log, and with it the lead milestones the metrics count.

The contract (which kind sets which milestone) is in storage/activity_kinds.py;
this module is the only writer of `enrollments.milestones`. Call it inside
the transaction of the change it documents so the log and the state never
disagree after a crash.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import msgspec
import sqlite_utils

from storage.activity_kinds import CHANNEL_OF, KIND_MILESTONES, POSITIVE_BIT, Kind, Milestone
from storage.db import joined_transaction, transaction

SYSTEM = "system"
_STARTED = int(Milestone.STARTED)


_last_iso: tuple[datetime | None, str] = (None, "")


def iso(at: datetime) -> str:
    """ISO-8601 UTC text of an aware datetime (the database's time format).

    One action writes its `now` a dozen times (outbox, ledger, activity, lead):
    the text of the last time asked for is kept (it holds that datetime, so the
    identity test cannot match a new object at a reused address)."""
    global _last_iso
    last = _last_iso
    if last[0] is at:
        return last[1]
    if at.tzinfo is timezone.utc:  # the clock's own times: no conversion (a few % of a simulation)
        text = at.isoformat()
    elif at.tzinfo is None:
        raise ValueError("times must be timezone-aware")
    else:
        text = at.astimezone(timezone.utc).isoformat()
    _last_iso = (at, text)
    return text


def record(
    db: sqlite_utils.Database,
    *,
    kind: Kind | str,
    now: datetime,
    campaign_id: int | None = None,
    enrollment_id: int | None = None,
    contact_id: int | None = None,
    identity_id: int | None = None,
    node_id: str | None = None,
    channel: str | None = None,
    status: str = "completed",
    detail: dict[str, Any] | None = None,
    actor: str = SYSTEM,
    known: tuple[int, bool] | None = None,
) -> int:
    """Append one activity row; set the milestones its kind implies. Returns the row id.

    With an `enrollment_id`, the campaign and contact default to the
    enrollment's, so callers cannot file an event under the wrong campaign.
    A row `status="in_progress"` (a pending action) sets no milestone: only
    what was done counts. Inside a caller's transaction its writes are part of
    it (the runtime records several per action; a savepoint each was measurable).
    `known` is the lead's (milestones, has a start time) as the caller read them
    in this transaction: when the kind adds nothing to them, the lead is not
    even looked up (most actions repeat bits the lead has).
    """
    kind = Kind(kind)
    at = iso(now)
    with joined_transaction(db):
        if enrollment_id is not None and (campaign_id is None or contact_id is None):
            row = db.execute(
                "SELECT campaign_id, contact_id FROM enrollments WHERE id = ?", [enrollment_id]
            ).fetchone()
            if row is None:
                raise LookupError(f"no enrollment {enrollment_id}")
            campaign_id = campaign_id if campaign_id is not None else row[0]
            contact_id = contact_id if contact_id is not None else row[1]
        cursor = db.execute(
            "INSERT INTO activity (at, campaign_id, enrollment_id, contact_id, identity_id, kind, node_id,"
            " channel, status, detail, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [at, campaign_id, enrollment_id, contact_id, identity_id, kind.value, node_id,
             channel or CHANNEL_OF.get(kind), status, msgspec.json.encode(detail or {}).decode(), actor],
        )
        bits = int(KIND_MILESTONES.get(kind, 0))
        if known is not None and not bits & ~known[0] and (known[1] or not bits & _STARTED):
            return cursor.lastrowid
        if enrollment_id is not None and bits and status == "completed":
            # Only a lead that gains a bit (or its start time) is written: most actions repeat
            # bits the lead has, and an UPDATE rewrites the milestone index even then.
            if bits & _STARTED:
                db.execute("UPDATE enrollments SET milestones = milestones | ?, started_at = COALESCE(started_at, ?)"
                           " WHERE id = ? AND (milestones | ? != milestones OR started_at IS NULL)",
                           [bits, at, enrollment_id, bits])
            else:
                db.execute("UPDATE enrollments SET milestones = milestones | ? WHERE id = ? AND milestones | ? != milestones",
                           [bits, enrollment_id, bits])
        return cursor.lastrowid


def set_positive(
    db: sqlite_utils.Database,
    *,
    enrollment_id: int,
    channel: str,
    positive: bool,
    now: datetime,
    actor: str = SYSTEM,
    detail: dict[str, Any] | None = None,
) -> None:
    """Set or clear the lead's Positive bit on `channel`, and log which it was.

    Unlike the other milestones this one can be taken back. Its one caller is
    storage.conversations.set_tags: a conversation is positive when it carries a
    positive tag (sequences/conversation_tags.py), so the Overview's "Positive"
    figures and its Tagged conversations are one fact, not two that can disagree.
    """
    if channel not in POSITIVE_BIT:
        raise ValueError(f"positive replies are tagged per channel: linkedin or email, not {channel!r}")
    bit = int(POSITIVE_BIT[channel])
    with transaction(db):
        if positive:
            db.execute("UPDATE enrollments SET milestones = milestones | ? WHERE id = ?", [bit, enrollment_id])
        else:
            db.execute("UPDATE enrollments SET milestones = milestones & ~? WHERE id = ?", [bit, enrollment_id])
        record(db, kind=Kind.REPLY_TAGGED_POSITIVE if positive else Kind.REPLY_UNTAGGED_POSITIVE,
               now=now, enrollment_id=enrollment_id, channel=channel, actor=actor, detail=detail)
