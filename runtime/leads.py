"""Applying the step function to stored leads: read facts, step, write state, jobs and activity.

Every change to a lead goes through `advance`: it decodes the enrollment's
`state`, calls `sequences.step.step`, and — inside the caller's transaction —
writes the new state and the columns mirrored from it (status, substatus,
node_id, due_at, message_depth), appends the activity rows of the step's log
through `storage.activity.record` (the milestone contract), and inserts one
outbox row per channel job (state `queued`, idempotency key
`enrollment:node:attempt`). Callers hand the returned `QueuedJob`s to the
identity actor only after the commit.

`due_at` is the due index's key: set only while the lead waits for time
(phase due / waiting for acceptance); NULL while its job is in the outbox or
it is paused, errored or done, so the campaign actor never sees it twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable, Iterable

import msgspec
import sqlite_utils

from runtime import queue_order
from sequences.model import MESSAGE_KINDS, HasBeenContacted, IsConnection, is_condition, kind_of
from sequences.statuses import LeadStatus, Substatus
from sequences.step import (
    ActionDone, ActionFailed, Compiled, Contact, Event, Job, LeadFacts, State, Transition, compile_sequence, step,
)
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.campaigns import sequence_of

decode_state = msgspec.json.Decoder(State).decode
encode = msgspec.json.Encoder().encode

#: activity kind recorded when an action's job is done.
DONE_KIND = {
    "visit_profile": Kind.LINKEDIN_PROFILE_VISITED,
    "react_to_post": Kind.LINKEDIN_POST_REACTED,
    "connection_request": Kind.LINKEDIN_INVITE_SENT,
    "linkedin_message": Kind.LINKEDIN_MESSAGE_SENT,
    "inmail": Kind.LINKEDIN_INMAIL_SENT,
    "linkedin_attachment": Kind.LINKEDIN_ATTACHMENT_SENT,
    "voice_message": Kind.LINKEDIN_VOICE_SENT,
    "email": Kind.EMAIL_SENT,
    "task": Kind.TASK_CREATED,
    "add_to_campaign": Kind.ADDED_TO_CAMPAIGN,
}

LEAD_COLUMNS = (
    "e.id, e.campaign_id, e.contact_id, e.status, e.substatus, e.node_id, e.due_at, e.message_depth, e.state, "
    "e.inbox_id, e.removed, e.milestones, e.started_at IS NOT NULL AS started, "
    "c.first_name, c.last_name, c.company, c.job_title, c.email, c.phone, c.linkedin_url, "
    "c.linkedin_id, c.custom"
)


@dataclass
class CampaignInfo:
    """What leads of one campaign share: the compiled sequence (re-read when it changes) and routing."""

    id: int
    identity_id: int
    priority: str
    status: str
    updated_at: str
    compiled: Compiled
    settings: dict
    needs_contacts: bool
    needs_connection: bool
    choose_inbox: Callable[[dict], int | None] | None = None  # a new email lead's inbox: set by its campaign actor

    @classmethod
    def of(cls, row: dict) -> "CampaignInfo":
        compiled = compile_sequence(sequence_of(row))
        nodes = compiled.nodes.values()
        return cls(
            id=row["id"], identity_id=row["identity_id"], priority=row["priority"], status=row["status"],
            updated_at=row["updated_at"], compiled=compiled,
            settings=msgspec.json.decode(row["settings"] or "{}"),
            needs_contacts=any(isinstance(n, HasBeenContacted) for n in nodes),
            needs_connection=any(isinstance(n, IsConnection) for n in nodes),
        )


@dataclass(frozen=True)
class QueuedJob:
    """An outbox row the identity actor should consider (kept small: thousands may be in memory)."""

    outbox_id: int
    campaign_id: int
    bucket: str
    inbox_id: int | None
    sort_key: int


def lead_rows(db: sqlite_utils.Database, ids: Iterable[int]) -> list[dict]:
    ids = list(ids)
    if not ids:
        return []
    marks = ",".join("?" * len(ids))
    cur = db.execute(f"SELECT {LEAD_COLUMNS} FROM enrollments e JOIN contacts c ON c.id = e.contact_id"
                     f" WHERE e.id IN ({marks})", ids)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r)) for r in cur.fetchall()]


def facts(db: sqlite_utils.Database, info: CampaignInfo, row: dict) -> LeadFacts:
    custom = row["custom"]
    contacts: tuple[Contact, ...] = ()
    if info.needs_contacts:
        contacts = tuple(
            Contact(channel=r[0], at=datetime.fromisoformat(r[1]), by_this_identity=r[2] == info.identity_id)
            for r in db.execute(
                "SELECT v.channel, m.at, v.identity_id FROM conversations v JOIN messages m ON m.conversation_id = v.id"
                " WHERE v.contact_id = ? AND m.direction = 'out'", [row["contact_id"]])
        )
    connected = False
    if info.needs_connection and row["linkedin_id"]:
        connected = db.execute(
            "SELECT 1 FROM linkedin_invitations WHERE identity_id = ? AND provider_id = ? AND state = 'accepted'",
            [info.identity_id, row["linkedin_id"]]).fetchone() is not None
    return LeadFacts(
        first_name=row["first_name"] or "", last_name=row["last_name"] or "", company=row["company"] or "",
        job_title=row["job_title"] or "", email=row["email"] or "", phone=row["phone"] or "",
        linkedin_url=row["linkedin_url"] or "",
        custom=msgspec.json.decode(custom) if custom and custom != "{}" else {},
        linkedin_id=row["linkedin_id"] or "", is_connection=connected, contacts=contacts,
    )


def state_of(row: dict) -> State:
    raw = row["state"]
    if not raw or raw == "{}":
        return State()
    return decode_state(raw)


def projected_due(state: State) -> str | None:
    waiting = state.phase in ("due", "waiting_accept") and state.status in (
        LeadStatus.NOT_STARTED, LeadStatus.IN_PROGRESS) and not state.paused
    return iso(state.due_at) if waiting and state.due_at is not None else None


def advance(db: sqlite_utils.Database, info: CampaignInfo, row: dict, event: Event, now: datetime, *,
            identity_id: int, lead: LeadFacts | None = None) -> tuple[State, list[QueuedJob]]:
    """Step one lead and write everything it implies (call inside a transaction).

    Tasks and "add to another campaign" are done right here (they are
    Enginy-side, instant); a job whose outbox row was already sent (a lead
    resumed after its job went out) is answered with its ActionDone at once.
    """
    lead = lead if lead is not None else facts(db, info, row)
    state = state_of(row)
    queued: list[QueuedJob] = []
    for _ in range(64):
        t = step(info.compiled, state, lead, event, now)
        _save(db, row, state, t.state, now)
        _log(db, info, row, state, t, now, identity_id)
        state = t.state
        event = None
        for job in t.jobs:
            if job.channel in ("task", "internal"):
                _instant(db, info, row, job, now, identity_id)
                event = ActionDone(node=job.node, at=now)
                continue
            if job.channel == "email" and row["inbox_id"] is None:
                inbox = info.choose_inbox(row) if info.choose_inbox else None
                if inbox is None:
                    event = ActionFailed(node=job.node, substatus=Substatus.INVALID_IDENTITY_EMAIL)
                    continue
                row["inbox_id"] = inbox
                db.execute("UPDATE enrollments SET inbox_id = ? WHERE id = ?", [inbox, row["id"]])
            q, sent_at = enqueue(db, info, row, job, state, now, identity_id)
            if q is not None:
                queued.append(q)
            elif sent_at is not None:
                event = ActionDone(node=job.node, at=sent_at)
        if event is None:
            return state, queued
    raise RuntimeError(f"enrollment {row['id']}: the sequence does not settle")


#: the enrollment columns that mirror its state (see the module docstring).
_MIRRORED = ("status", "substatus", "node_id", "due_at", "message_depth", "state")


def _save(db, row: dict, old: State, new: State, now: datetime) -> None:
    """Write the new state and only those mirrored columns whose stored value differs.

    Every index and count trigger on a column named in an UPDATE is rewritten
    even when its value stays the same: a step usually changes the state and
    the due time only, and naming all six columns made the write ~3x slower."""
    if new == old:
        return
    wanted = {"status": new.status.value, "substatus": new.substatus.value if new.substatus else None,
              "node_id": new.node, "due_at": projected_due(new), "message_depth": new.message_depth,
              "state": encode(new)}
    changed = {c: wanted[c] for c in _MIRRORED if row[c] != wanted[c]}
    db.execute(f"UPDATE enrollments SET {''.join(f'{c} = ?, ' for c in changed)}updated_at = ? WHERE id = ?",
               [*changed.values(), iso(now), row["id"]])
    row.update(changed)


def _instant(db, info: CampaignInfo, row: dict, job: Job, now: datetime, identity_id: int) -> None:
    """A Task (a row in `tasks`) or Add to another campaign (an enrollment there), done at once."""
    detail: dict = {}
    if job.channel == "task":
        db.execute(
            "INSERT INTO tasks (campaign_id, enrollment_id, contact_id, node_id, title, notes, kind, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [info.id, row["id"], row["contact_id"], job.node, job.payload.title or "Task", job.payload.text,
             job.payload.task_type or "todo", iso(now)])
    else:
        target = db.execute("SELECT id FROM campaigns WHERE name = ? AND status != 'archived' ORDER BY id LIMIT 1",
                            [job.payload.campaign]).fetchone()
        detail = {"campaign": job.payload.campaign, "added": False}
        if target is not None and target[0] != info.id:
            cur = db.execute(
                "INSERT OR IGNORE INTO enrollments (campaign_id, contact_id, status, due_at, enrolled_at, updated_at)"
                " VALUES (?, ?, 'not_started', ?, ?, ?)", [target[0], row["contact_id"], iso(now), iso(now), iso(now)])
            detail["added"] = cur.rowcount > 0
    record(db, kind=DONE_KIND[job.action], now=now, campaign_id=info.id, enrollment_id=row["id"],
           contact_id=row["contact_id"], identity_id=identity_id, node_id=job.node, detail=detail)


def _log(db, info: CampaignInfo, row: dict, old: State, t: Transition, now: datetime, identity_id: int) -> None:
    for entry in t.log:
        node = info.compiled.nodes.get(entry.node) if entry.node else None
        if node is not None and is_condition(node):
            kind = Kind.CONDITION_EVALUATED
        elif entry.what.startswith("error"):
            kind = Kind.STEP_FAILED
        else:
            continue  # "done" is recorded with the action's own kind by whoever did it
        record(db, kind=kind, now=now, campaign_id=info.id, enrollment_id=row["id"], contact_id=row["contact_id"],
               identity_id=identity_id, node_id=entry.node,
               detail={"result": entry.what, **({"substatus": t.state.substatus.value}
                                                 if kind is Kind.STEP_FAILED and t.state.substatus else {})})
    if t.state.status is LeadStatus.FINISHED and old.status is not LeadStatus.FINISHED:
        record(db, kind=Kind.SEQUENCE_FINISHED, now=now, campaign_id=info.id, enrollment_id=row["id"],
               contact_id=row["contact_id"], identity_id=identity_id,
               detail={"substatus": t.state.substatus.value if t.state.substatus else None})


def outbox_key(enrollment_id: int, node: str, attempt: int) -> str:
    return f"{enrollment_id}:{node}:{attempt}"


def enqueue(db, info: CampaignInfo, row: dict, job: Job, state: State, now: datetime,
            identity_id: int) -> tuple[QueuedJob | None, datetime | None]:
    """Insert the job's outbox row (or revive a cancelled one with the same key).

    Returns (job, None) when something is newly queued; (None, sent_at) when
    that very key was already sent; (None, None) when it is already on its way
    (queued, sending, unknown)."""
    key = outbox_key(row["id"], job.node, job.attempt)
    skey = queue_order.sort_key(state.message_depth, info.priority, _tiebreak(key))
    bucket = job.bucket or job.channel
    inbox = row["inbox_id"] if job.channel == "email" else None  # LinkedIn jobs belong to no inbox lane
    cur = db.execute(
        "INSERT INTO outbox (key, enrollment_id, campaign_id, identity_id, inbox_id, node_id, channel, action,"
        " bucket, payload, state, sort_key, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
        " 'queued', ?, ?, ?) ON CONFLICT (key) DO NOTHING",
        [key, row["id"], info.id, identity_id, inbox, job.node, job.channel, job.action,
         bucket, encode(job.payload), skey, iso(now), iso(now)],
    )
    if cur.rowcount:
        return QueuedJob(cur.lastrowid, info.id, bucket, inbox, skey), None
    existing = db.execute("SELECT id, state, sent_at FROM outbox WHERE key = ?", [key]).fetchone()
    if existing[1] == "cancelled":
        db.execute("UPDATE outbox SET state = 'queued', sort_key = ?, error = NULL, updated_at = ? WHERE id = ?",
                   [skey, iso(now), existing[0]])
        return QueuedJob(existing[0], info.id, bucket, inbox, skey), None
    if existing[1] == "sent":
        return None, datetime.fromisoformat(existing[2])
    return None, None


def _tiebreak(key: str) -> int:
    """The spec's random tie-break, seeded by the job's own key: same workspace, same order."""
    h = 2166136261
    for ch in key.encode():
        h = ((h ^ ch) * 16777619) & 0xFFFFFFFF
    return h


def is_message(action: str) -> bool:
    return action in MESSAGE_KINDS


def kind_of_node(info: CampaignInfo, node_id: str) -> str:
    return kind_of(info.compiled.nodes[node_id])


def load_campaign(db: sqlite_utils.Database, campaign_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM campaigns WHERE id = ?", [campaign_id]))
    return rows[0] if rows else None
