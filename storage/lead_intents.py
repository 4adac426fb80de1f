"""Lead-level intents of the Audience tab: pause, resume, remove, retry errors.

These are state changes the runtime honours; nothing here calls the runtime.
An enrollment's `state` column is the JSON of `sequences.step.State`, and
status / substatus / node_id / due_at mirror it. The sequences step function
is the only place that moves a lead, so:

* pause — applied here at once through the step function (event Paused; it
  never starts a job): status `paused`, so the lead leaves the due index.
  The runtime must drop a paused lead's job still in the outbox before
  sending (its pre-send re-check reads `enrollments.status`).
* remove — applied here at once (event Removed): Finished / Deleted,
  `removed = 1`, permanently (the step function ignores every later event
  and storage/audience.py never adds the contact back); its queued outbox
  rows are cancelled.
* resume, retry — these run the lead's node again, which needs the lead's
  facts and the outbox, so they are written as `enrollments.intent`
  ('resume' / 'retry') and the lead keeps its status until the runtime
  applies them: it polls `pending_intents()` (partial index), feeds
  `EVENT_OF[intent]` to the step function with the lead's facts, writes the
  new state and sets `intent = NULL` — in one transaction.

Because these writes may land between the runtime's read and write of an
enrollment, the runtime must read, step and write an enrollment inside one
transaction (BEGIN IMMEDIATE), never from a copy read earlier.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Iterable

import msgspec
import sqlite_utils

from sequences.statuses import LeadStatus
from sequences.step import LeadFacts, Paused, Removed, Resumed, Retry, State, step
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.campaigns import CampaignError, get_campaign, sequence_of
from storage.db import transaction

_decode = msgspec.json.Decoder(State).decode
_encode = msgspec.json.Encoder().encode

EVENT_OF = {"resume": Resumed(), "retry": Retry()}
"""The step-function event the runtime feeds for each pending intent."""

_LIVE = (LeadStatus.NOT_STARTED.value, LeadStatus.IN_PROGRESS.value)


class IntentReport(msgspec.Struct, kw_only=True):
    changed: int
    skipped: list[dict[str, Any]]  # {"contact": ref, "reason": "..."}


def resolve_lead(db: sqlite_utils.Database, campaign_id: int, ref: str) -> dict[str, Any] | None:
    """The enrollment of a contact given by id, email or LinkedIn URL."""
    where = "c.id = ?" if ref.isdigit() else ("lower(c.email) = lower(?)" if "@" in ref else "c.linkedin_url = ?")
    rows = list(db.query(f"SELECT e.* FROM enrollments e JOIN contacts c ON c.id = e.contact_id"
                         f" WHERE e.campaign_id = ? AND {where}", [campaign_id, ref]))
    return rows[0] if rows else None


def _targets(db: sqlite_utils.Database, campaign_id: int, refs: Iterable[str] | None,
             statuses: tuple[str, ...]) -> list[tuple[str, dict[str, Any] | None]]:
    if refs is not None:
        return [(ref, resolve_lead(db, campaign_id, ref)) for ref in refs]
    marks = ",".join("?" for _ in statuses)
    rows = db.query(f"SELECT * FROM enrollments WHERE campaign_id = ? AND status IN ({marks})"
                    " AND intent IS NULL ORDER BY id", [campaign_id, *statuses])
    return [(str(r["contact_id"]), r) for r in rows]


def _apply(db: sqlite_utils.Database, campaign_ref: int | str, refs: Iterable[str] | None, *, now: datetime,
           actor: str, kind: Kind, allowed: tuple[str, ...]) -> IntentReport:
    at = iso(now)
    skipped: list[dict[str, Any]] = []
    changed = 0
    with transaction(db):
        campaign = get_campaign(db, campaign_ref)
        if campaign["status"] == "archived":
            raise CampaignError(f"campaign {campaign['name']!r} is archived: its leads cannot change")
        sequence = sequence_of(campaign)
        for ref, row in _targets(db, campaign["id"], refs, allowed):
            if row is None:
                skipped.append({"contact": ref, "reason": "not in this campaign"})
                continue
            if kind == Kind.LEAD_PAUSED and row["intent"] == "resume":
                # paused again before the runtime resumed it: the resume is simply withdrawn
                db.execute("UPDATE enrollments SET intent = NULL, updated_at = ? WHERE id = ?", [at, row["id"]])
            elif row["removed"] or row["status"] not in allowed:
                why = "removed from the campaign" if row["removed"] else f"lead is {row['status'].replace('_', ' ')}"
                skipped.append({"contact": ref, "reason": why})
                continue
            elif kind in (Kind.LEAD_RESUMED, Kind.LEAD_RETRIED):
                db.execute("UPDATE enrollments SET intent = ?, updated_at = ? WHERE id = ?",
                           ["resume" if kind == Kind.LEAD_RESUMED else "retry", at, row["id"]])
            else:
                event = Removed() if kind == Kind.LEAD_REMOVED else Paused()
                transition = step(sequence, _decode(row["state"] or "{}"), LeadFacts(), event, now)
                assert not transition.jobs, "pausing or removing a lead never starts a job"
                _write_state(db, row, transition.state, at, removed=kind == Kind.LEAD_REMOVED)
                if kind == Kind.LEAD_REMOVED:
                    db.execute("UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE enrollment_id = ?"
                               " AND state IN ('queued', 'claimed')", [at, row["id"]])
            record(db, kind=kind, now=now, enrollment_id=row["id"], node_id=row["node_id"], actor=actor)
            changed += 1
    return IntentReport(changed=changed, skipped=skipped)


def _write_state(db: sqlite_utils.Database, row: dict[str, Any], state: State, at: str, *, removed: bool) -> None:
    """Store a stepped state with the columns mirrored from it (a pending intent is dropped; a lane's
    detail of the old substatus with it)."""
    due = iso(state.due_at) if state.due_at else (None if removed else row["due_at"])
    db.execute(
        "UPDATE enrollments SET state = ?, status = ?, substatus = ?, wait_cap = NULL, wait_until = NULL, node_id = ?,"
        " due_at = ?, removed = ?, intent = NULL, updated_at = ? WHERE id = ?",
        [_encode(state).decode(), state.status.value, state.substatus.value if state.substatus else None,
         state.node, due, int(removed or row["removed"]), at, row["id"]],
    )


def pause_leads(db: sqlite_utils.Database, campaign_ref: int | str, refs: Iterable[str] | None = None, *,
                now: datetime, actor: str) -> IntentReport:
    """Pause Not started / In progress leads (all of them when `refs` is None), at once."""
    return _apply(db, campaign_ref, refs, now=now, actor=actor, kind=Kind.LEAD_PAUSED, allowed=_LIVE)


def resume_leads(db: sqlite_utils.Database, campaign_ref: int | str, refs: Iterable[str] | None = None, *,
                 now: datetime, actor: str) -> IntentReport:
    """Ask the runtime to resume paused leads (all of them when `refs` is None)."""
    return _apply(db, campaign_ref, refs, now=now, actor=actor, kind=Kind.LEAD_RESUMED,
                  allowed=(LeadStatus.PAUSED.value,))


def retry_leads(db: sqlite_utils.Database, campaign_ref: int | str, refs: Iterable[str] | None = None, *,
                now: datetime, actor: str) -> IntentReport:
    """Ask the runtime to re-attempt the failed step of Error leads (all of them when `refs` is None)."""
    return _apply(db, campaign_ref, refs, now=now, actor=actor, kind=Kind.LEAD_RETRIED,
                  allowed=(LeadStatus.ERROR.value,))


def remove_leads(db: sqlite_utils.Database, campaign_ref: int | str, refs: Iterable[str], *, now: datetime,
                 actor: str) -> IntentReport:
    """Remove leads for good (Finished / Deleted); the contact can never be added back."""
    refs = list(refs or [])
    if not refs:
        raise CampaignError("name the contacts to remove (removal is permanent)")
    return _apply(db, campaign_ref, refs, now=now, actor=actor, kind=Kind.LEAD_REMOVED,
                  allowed=tuple(s.value for s in LeadStatus))


def pending_intents(db: sqlite_utils.Database, campaign_id: int, *, after_id: int = 0,
                    limit: int = 256) -> list[dict[str, Any]]:
    """Enrollments with an intent for the runtime to apply, keyset-paged by id."""
    # INDEXED BY: without statistics the planner prefers walking the campaign's whole
    # audience by `enrollments_campaign`; the partial index holds only leads with an
    # intent (usually none), and the runtime asks this on every campaign actor turn.
    return list(db.query("SELECT * FROM enrollments INDEXED BY enrollments_intent WHERE campaign_id = ?"
                         " AND intent IS NOT NULL AND id > ? ORDER BY id LIMIT ?", [campaign_id, after_id, limit]))


def intent_of(db: sqlite_utils.Database, enrollment_id: int) -> str | None:
    row = db.execute("SELECT intent FROM enrollments WHERE id = ?", [enrollment_id]).fetchone()
    return row[0] if row else None


def clear_intent(db: sqlite_utils.Database, enrollment_id: int) -> None:
    """The intent was carried out (in the same transaction)."""
    db.execute("UPDATE enrollments SET intent = NULL WHERE id = ?", [enrollment_id])
