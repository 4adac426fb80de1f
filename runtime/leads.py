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

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

import msgspec
import sqlite_utils

from runtime import queue_order
from sequences.model import MESSAGE_KINDS, HasBeenContacted, IsConnection, is_condition, kind_of
from sequences.statuses import LeadStatus, Substatus
from sequences.step import (
    ActionDone, ActionFailed, Compiled, Contact, Event, Job, LeadFacts, State, Transition, compile_sequence, step,
    system_error,
)
from storage import leads as store
from storage import outbox
from storage.activity import iso, record
from storage.ai_variables import values_of
from storage.activity_kinds import DONE_KIND, Kind
from storage.campaigns import sequence_of
from storage.leads import decode_state, encode
from storage.linkedin_invitations import is_accepted

log = logging.getLogger("enginy.runtime")


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
    skip_reactions: bool = False  # the identity's likings opt-out: its "React to last post" steps are skipped
    choose_inbox: Callable[[dict], int | None] | None = None  # a new email lead's inbox: set by its campaign actor
    # A lead was enrolled in campaign id (Add to another campaign): wake that campaign's actor,
    # whose timer knows nothing of it. Set by the runtime; called inside the step's transaction,
    # the woken actor runs after the commit (one Trio thread).
    wake_campaign: Callable[[int], None] | None = None
    #: a lead of this campaign already failed on its sequence (logged once per version of the campaign)
    faulted: bool = False

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
            skip_reactions=bool(row.get("likings_opt_out")),
        )


@dataclass(frozen=True)
class QueuedJob:
    """An outbox row the identity actor should consider (kept small: thousands may be in memory)."""

    outbox_id: int
    campaign_id: int
    bucket: str
    inbox_id: int | None
    sort_key: int


def facts(db: sqlite_utils.Database, info: CampaignInfo, row: dict) -> LeadFacts:
    custom = row["custom"]
    contacts: tuple[Contact, ...] = ()
    if info.needs_contacts:
        contacts = tuple(
            Contact(channel=m.channel, at=datetime.fromisoformat(m.at), by_this_identity=m.identity_id == info.identity_id)
            for m in store.outbound_messages(db, row["contact_id"])
        )
    connected = False
    if info.needs_connection and row["linkedin_id"]:
        connected = is_accepted(db, info.identity_id, row["linkedin_id"])
    return LeadFacts(
        first_name=row["first_name"] or "", last_name=row["last_name"] or "", company=row["company"] or "",
        job_title=row["job_title"] or "", email=row["email"] or "", phone=row["phone"] or "",
        linkedin_url=row["linkedin_url"] or "",
        custom=msgspec.json.decode(custom) if custom and custom != "{}" else {},
        linkedin_id=row["linkedin_id"] or "", is_connection=connected, contacts=contacts,
        ai_values=values_of(db, row["id"]) if info.compiled.ai else {},
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
        t = _stepped(info, row, state, lead, event, now)
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
                store.set_inbox(db, row["id"], inbox)
            q, sent_at = enqueue(db, info, row, job, state, now, identity_id)
            if q is not None:
                queued.append(q)
            elif sent_at is not None:
                event = ActionDone(node=job.node, at=sent_at)
        if event is None:
            return state, queued
    raise RuntimeError(f"enrollment {row['id']}: the sequence does not settle")


def _stepped(info: CampaignInfo, row: dict, state: State, lead: LeadFacts, event: Event, now: datetime) -> Transition:
    """`step`, contained: a sequence the step function cannot follow (a value out of range
    written around the validator, a bug) errors this lead with System error, logged once
    for the campaign, and every other lead and campaign goes on."""
    try:
        return step(info.compiled, state, lead, event, now, skip_reactions=info.skip_reactions)
    except Exception as exc:  # noqa: BLE001 — any failure here is this lead's, never the runtime's
        if not info.faulted:
            info.faulted = True
            log.warning("campaign %s: lead %s cannot be stepped (%s); each lead that fails so goes to "
                        "Error / System error, the others run on",
                        info.id, row["id"], fault_text(exc))
        return system_error(state, f"the sequence could not run: {fault_text(exc)}", now)


def fault_text(exc: BaseException) -> str:
    """One line naming an unexpected failure, for a lead's error detail and the runtime log."""
    return f"{type(exc).__name__}: {exc}"[:300]


def fail_leads(db: sqlite_utils.Database, campaign_id: int, identity_id: int, detail: str, now: datetime) -> int:
    """Error every lead of a campaign that cannot run (System error, `detail` says why) and cancel
    their queued jobs; call inside a transaction. Returns how many leads were errored."""
    ids = store.active_ids(db, campaign_id)
    for start in range(0, len(ids), 500):
        for row in store.lead_rows(db, ids[start:start + 500]):
            try:
                old = state_of(row)
            except msgspec.MsgspecError:
                old = State()  # a state that does not decode is part of what failed
            t = system_error(old, detail, now)
            _save(db, row, old, t.state, now)
            record(db, kind=Kind.STEP_FAILED, now=now, campaign_id=campaign_id, enrollment_id=row["id"],
                   contact_id=row["contact_id"], identity_id=identity_id, node_id=old.node,
                   detail={"result": t.log[0].what, "substatus": Substatus.SYSTEM_ERROR.value})
            outbox.cancel_queued_of(db, row["id"], "campaign failed", now)
    return len(ids)


#: the enrollment columns that mirror its state (see the module docstring).
_MIRRORED = ("status", "substatus", "node_id", "due_at", "message_depth", "state")


def _save(db, row: dict, old: State, new: State, now: datetime) -> None:
    """Write the new state and only those mirrored columns whose stored value differs.

    A step usually changes the state and the due time only, and naming all six
    columns made the write ~3x slower (see `storage.leads.save_columns`)."""
    if new == old:
        return
    wanted = {"status": new.status.value, "substatus": new.substatus.value if new.substatus else None,
              "node_id": new.node, "due_at": projected_due(new), "message_depth": new.message_depth,
              "state": encode(new)}
    changed = {c: wanted[c] for c in _MIRRORED if row[c] != wanted[c]}
    store.save_columns(db, row["id"], changed, now)
    row.update(changed)


def _instant(db, info: CampaignInfo, row: dict, job: Job, now: datetime, identity_id: int) -> None:
    """A Task (a row in `tasks`) or Add to another campaign (an enrollment there), done at once."""
    detail: dict = {}
    if job.channel == "task":
        due = job.payload.due_days
        store.add_task(db, campaign_id=info.id, enrollment_id=row["id"], contact_id=row["contact_id"], node_id=job.node,
                       title=job.payload.title or "Task", notes=job.payload.text, kind=job.payload.task_type or "todo",
                       now=now, due_at=None if due is None else now + timedelta(days=due))
    else:
        target = store.campaign_named(db, job.payload.campaign)
        detail = {"campaign": job.payload.campaign, "added": False}
        if target is not None and target != info.id:
            detail["added"] = store.enroll(db, target, row["contact_id"], now)
            if detail["added"] and info.wake_campaign is not None:
                info.wake_campaign(target)
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
    new_id = outbox.insert_job(db, key=key, enrollment_id=row["id"], campaign_id=info.id, identity_id=identity_id,
                               inbox_id=inbox, node_id=job.node, channel=job.channel, action=job.action, bucket=bucket,
                               payload=encode(job.payload), sort_key=skey, now=now)
    if new_id is not None:
        return QueuedJob(new_id, info.id, bucket, inbox, skey), None
    existing = outbox.by_key(db, key)
    if existing.state == "cancelled":
        outbox.requeue(db, existing.id, skey, now)
        return QueuedJob(existing.id, info.id, bucket, inbox, skey), None
    if existing.state == "sent":
        return None, datetime.fromisoformat(existing.sent_at)
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

