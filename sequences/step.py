"""The step function: one lead's progress through a sequence, as a pure function.

    step(compiled, state, lead, event, now) -> Transition(state, jobs, log)

The runtime owns time, queues and channels; this module owns the rules. It is
given what happened (`event`) and the current time, and answers with the
lead's new state and the channel jobs to run. It never reads a clock.

Rules (from the spec):
- Conditions are instant: a chain of conditions resolves within one call.
- A node's delay counts from the completion of the previous action
  (`ActionDone.at`), so an action that waited in a queue never pulls the
  next step early.
- "Accepted connection within X days" waits (Waiting to connect) until the
  lead accepts (Yes) or X days after the invitation pass (No).
- A reply stops the lead (Replied). A hard bounce ends it (Finished/Bounced);
  a soft bounce re-sends the same email a day later, up to
  `SOFT_BOUNCE_RETRIES` times, then Bounced. An out-of-office ends it
  (Finished/Out of office). Removal (Finished/Deleted) and blocking
  (Finished/Blocked) are final.
- A withdrawn invitation waits out LinkedIn's 3-week cooldown (Connection
  withdrawn) and the connection request is sent once more; a second
  withdrawal ends the lead as Not connected.
- No job is ever emitted for a paused, removed, replied or finished lead.

The runtime combines `Job.attempt` with the enrollment id and node id into
the outbox idempotency key.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Union

import msgspec

from sequences.model import (
    BUCKET, CHANNEL, MESSAGE_KINDS, AcceptedConnection, AddToCampaign, ConnectionRequest,
    CustomCondition, Email, HasBeenContacted, HasLinkedInProfile, HasMobilePhone,
    HasProfessionalEmail, InMail, IsConnection, LinkedInAttachment, LinkedInMessage, Node,
    ReactToPost, Sequence, Task, VoiceMessage, is_condition, kind_of,
)
from sequences.render import LeadData, MissingVariable, render
from sequences.statuses import LeadStatus, Substatus

SOFT_BOUNCE_RETRIES = 2
SOFT_BOUNCE_WAIT = timedelta(days=1)
INVITE_COOLDOWN = timedelta(days=21)


# --- inputs ------------------------------------------------------------------


class Contact(msgspec.Struct, frozen=True):
    """One earlier outbound contact of this lead, by any identity."""

    channel: str  # "linkedin" | "email"
    at: datetime
    by_this_identity: bool = True


class LeadFacts(LeadData, frozen=True, kw_only=True):
    """The lead's data plus what the world knows about it, for conditions."""

    linkedin_id: str = ""
    is_connection: bool = False
    contacts: tuple[Contact, ...] = ()


class State(msgspec.Struct, frozen=True, kw_only=True):
    """Where a lead is. `phase`: due (node runs at due_at), queued (its job is
    out), waiting_accept (an acceptance condition waits until due_at), done."""

    status: LeadStatus = LeadStatus.NOT_STARTED
    substatus: Substatus | None = None
    node: str | None = None
    phase: str = "due"
    due_at: datetime | None = None
    attempt: int = 0
    message_depth: int = 0
    invited_at: datetime | None = None
    accepted_at: datetime | None = None
    withdrawals: int = 0
    soft_bounces: int = 0
    paused: bool = False
    last_email_node: str | None = None
    history: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.status not in (LeadStatus.FINISHED, LeadStatus.REPLIED)


class Start(msgspec.Struct, frozen=True, tag=True):
    pass


class Due(msgspec.Struct, frozen=True, tag=True):
    pass


class ActionDone(msgspec.Struct, frozen=True, tag=True):
    node: str
    at: datetime


class ActionFailed(msgspec.Struct, frozen=True, tag=True):
    """A permanent failure of the node's job; `substatus` explains it."""

    node: str
    substatus: Substatus


class Replied(msgspec.Struct, frozen=True, tag=True):
    pass


class Bounced(msgspec.Struct, frozen=True, tag=True):
    hard: bool = True


class OutOfOffice(msgspec.Struct, frozen=True, tag=True):
    pass


class Accepted(msgspec.Struct, frozen=True, tag=True):
    at: datetime


class InvitationWithdrawn(msgspec.Struct, frozen=True, tag=True):
    pass


class Paused(msgspec.Struct, frozen=True, tag=True):
    pass


class Resumed(msgspec.Struct, frozen=True, tag=True):
    pass


class Removed(msgspec.Struct, frozen=True, tag=True):
    pass


class Blocked(msgspec.Struct, frozen=True, tag=True):
    """Blocklisted or unsubscribed."""


class Retry(msgspec.Struct, frozen=True, tag=True):
    pass


Event = Union[
    Start, Due, ActionDone, ActionFailed, Replied, Bounced, OutOfOffice, Accepted,
    InvitationWithdrawn, Paused, Resumed, Removed, Blocked, Retry,
]


# --- outputs -----------------------------------------------------------------


class Payload(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    subject: str = ""
    text: str = ""
    html: str = ""
    chunks: tuple[str, ...] = ()
    note: str = ""
    reaction: str = ""
    file: str = ""
    title: str = ""
    task_type: str = ""
    campaign: str = ""
    thread: bool = False  # an email without its own subject replies in the thread


class Job(msgspec.Struct, frozen=True):
    node: str
    action: str
    channel: str
    bucket: str | None
    attempt: int
    payload: Payload
    counts_as_message: bool


class LogEntry(msgspec.Struct, frozen=True):
    """Something worth recording in the lead's timeline (conditions included)."""

    node: str | None
    what: str


class Transition(msgspec.Struct, frozen=True):
    state: State
    jobs: tuple[Job, ...] = ()
    log: tuple[LogEntry, ...] = ()


# --- the compiled sequence ---------------------------------------------------


class Compiled:
    """A sequence indexed for the step function; build once per sequence version."""

    __slots__ = ("sequence", "nodes", "parents")

    def __init__(self, sequence: Sequence) -> None:
        self.sequence = sequence
        self.nodes: dict[str, Node] = {n.id: n for n in sequence.nodes}
        self.parents: dict[str, str] = {}
        for node in sequence.nodes:
            for child in ((node.yes, node.no) if is_condition(node) else (node.next,)):
                if child is not None:
                    self.parents[child] = node.id


def compile_sequence(sequence: Sequence) -> Compiled:
    return Compiled(sequence)


# --- conditions --------------------------------------------------------------


def _custom(node: CustomCondition, lead: LeadFacts) -> bool:
    value = (lead.value(node.field) or lead.value(f"custom.{node.field}") or "").strip()
    target = node.value.strip()
    op = node.operator
    if op == "is_empty":
        return not value
    if op == "is_not_empty":
        return bool(value)
    if op in ("greater_than", "less_than"):
        try:
            a, b = float(value), float(target)
        except ValueError:
            return False
        return a > b if op == "greater_than" else a < b
    a, b = value.casefold(), target.casefold()
    return {
        "equals": a == b, "not_equals": a != b, "contains": b in a, "not_contains": b not in a,
        "starts_with": a.startswith(b), "ends_with": a.endswith(b),
    }[op]


def _holds(node: Node, lead: LeadFacts, now: datetime) -> bool:
    if isinstance(node, IsConnection):
        return lead.is_connection
    if isinstance(node, HasLinkedInProfile):
        return bool(lead.linkedin_id.strip())
    if isinstance(node, HasProfessionalEmail):
        return bool(lead.email.strip())
    if isinstance(node, HasMobilePhone):
        return bool(lead.phone.strip())
    if isinstance(node, HasBeenContacted):
        since = now - timedelta(days=node.within_days) if node.within_days else None
        return any(
            (node.channel == "any" or c.channel == node.channel)
            and (node.by == "any_identity" or c.by_this_identity)
            and (since is None or c.at >= since)
            for c in lead.contacts
        )
    if isinstance(node, CustomCondition):
        return _custom(node, lead)
    raise TypeError(f"not an instant condition: {node!r}")


# --- rendering a job ---------------------------------------------------------


def _payload(node: Node, lead: LeadFacts, state: State) -> Payload | Substatus:
    """The job's rendered content, or the error substatus that stops the lead."""

    def fill(text: str) -> str:
        result = render(text, lead)
        if isinstance(result, MissingVariable):
            raise _Missing()
        return result

    try:
        if isinstance(node, ConnectionRequest):
            return Payload(note=fill(node.note))
        if isinstance(node, LinkedInMessage):
            chunks = tuple(c for c in (fill(c).strip() for c in node.chunks) if c)
            return Payload(chunks=chunks) if chunks else Substatus.MISSING_LINKEDIN_MESSAGE
        if isinstance(node, InMail):
            if not node.subject.strip():
                return Substatus.MISSING_INMAIL_SUBJECT
            body = fill(node.body).strip()
            return Payload(subject=fill(node.subject), text=body) if body else Substatus.MISSING_INMAIL_MESSAGE
        if isinstance(node, LinkedInAttachment):
            return Payload(text=fill(node.text), file=node.file)
        if isinstance(node, VoiceMessage):
            return Payload(file=node.file)
        if isinstance(node, Email):
            if not lead.email.strip():
                return Substatus.MISSING_CONTACT_EMAIL
            thread = not node.subject.strip()
            if thread and state.last_email_node is None:
                return Substatus.MISSING_EMAIL_SUBJECT
            body = fill(node.body)
            if not body.strip() and not node.html.strip():
                return Substatus.EMPTY_MESSAGE
            return Payload(subject=fill(node.subject), text=body, html=fill(node.html), thread=thread)
        if isinstance(node, ReactToPost):
            return Payload(reaction=node.reaction)
        if isinstance(node, Task):
            return Payload(title=fill(node.title), text=fill(node.notes), task_type=node.task_type)
        if isinstance(node, AddToCampaign):
            return Payload(campaign=node.campaign)
        return Payload()
    except _Missing:
        return Substatus.LEAD_NOT_SCRAPED


class _Missing(Exception):
    pass


def _needs_linkedin(node: Node, lead: LeadFacts) -> Substatus | None:
    if CHANNEL[kind_of(node)] == "linkedin" and not (lead.linkedin_id.strip() or lead.linkedin_url.strip()):
        return Substatus.LINKEDIN_URL_NOT_FOUND
    return None


# --- the step function -------------------------------------------------------


class _Run:
    """Accumulates one call's jobs and log while the state moves on."""

    def __init__(self, compiled: Compiled, lead: LeadFacts, now: datetime) -> None:
        self.c, self.lead, self.now = compiled, lead, now
        self.jobs: list[Job] = []
        self.log: list[LogEntry] = []

    def finish(self, state: State, substatus: Substatus, what: str) -> State:
        self.log.append(LogEntry(state.node, what))
        return msgspec.structs.replace(
            state, status=LeadStatus.FINISHED, substatus=substatus, node=None, phase="done", due_at=None
        )

    def goto(self, state: State, node_id: str | None, base: datetime, came_from_no: bool = False) -> State:
        """Move to `node_id`, due its delay after `base`, and run it if already due."""
        if node_id is None:
            if came_from_no and state.invited_at is not None and state.accepted_at is None:
                return self.finish(state, Substatus.NOT_CONNECTED, "not connected")
            return self.finish(state, Substatus.NO_RESPONSE, "sequence completed")
        node = self.c.nodes[node_id]
        due = base + node.delay.as_timedelta()
        state = msgspec.structs.replace(
            state, node=node_id, phase="due", due_at=due, attempt=0,
            status=LeadStatus.PAUSED if state.paused else LeadStatus.IN_PROGRESS,
            substatus=None if due <= self.now else Substatus.SCHEDULED,
        )
        return self.run_due(state)

    def run_due(self, state: State) -> State:
        """Execute the current node if it is due (conditions chain at once)."""
        for _ in range(len(self.c.nodes) + 1):
            if state.phase != "due" or state.due_at is None or state.due_at > self.now or state.paused:
                return state
            node = self.c.nodes[state.node]  # type: ignore[index]
            if isinstance(node, AcceptedConnection):
                return self.await_acceptance(state, node)
            if is_condition(node):
                answer = _holds(node, self.lead, self.now)
                self.log.append(LogEntry(node.id, "yes" if answer else "no"))
                nxt = node.yes if answer else node.no
                if nxt is None:
                    return self.goto(state, None, self.now, came_from_no=not answer)
                target = self.c.nodes[nxt]
                due = self.now + target.delay.as_timedelta()
                state = msgspec.structs.replace(
                    state, node=nxt, phase="due", due_at=due, attempt=0,
                    substatus=None if due <= self.now else Substatus.SCHEDULED,
                )
                continue
            return self.emit(state, node)
        raise RuntimeError("condition chain longer than the sequence: not a tree")

    def await_acceptance(self, state: State, node: AcceptedConnection) -> State:
        if state.accepted_at is not None or (state.invited_at is None and self.lead.is_connection):
            self.log.append(LogEntry(node.id, "yes"))
            return self.goto(state, node.yes, self.now)
        if state.invited_at is None:
            self.log.append(LogEntry(node.id, "no (never invited)"))
            return self.goto(state, node.no, self.now, came_from_no=True)
        deadline = state.invited_at + timedelta(days=node.within_days)
        if self.now >= deadline:
            self.log.append(LogEntry(node.id, "no"))
            return self.goto(state, node.no, self.now, came_from_no=True)
        return msgspec.structs.replace(
            state, phase="waiting_accept", due_at=deadline, substatus=Substatus.WAITING_TO_CONNECT
        )

    def emit(self, state: State, node: Node) -> State:
        kind = kind_of(node)
        problem = _needs_linkedin(node, self.lead)
        payload = problem or _payload(node, self.lead, state)
        if isinstance(payload, Substatus):
            self.log.append(LogEntry(node.id, f"error: {payload.label}"))
            return msgspec.structs.replace(state, status=LeadStatus.ERROR, substatus=payload, phase="due")
        self.jobs.append(Job(node.id, kind, CHANNEL[kind], BUCKET.get(kind), state.attempt, payload, kind in MESSAGE_KINDS))
        return msgspec.structs.replace(state, phase="queued", substatus=None, status=LeadStatus.IN_PROGRESS)


def _done(run: _Run, state: State, event: ActionDone) -> State:
    if state.phase != "queued" or state.node != event.node:
        return state  # a late or duplicate result: already applied
    node = run.c.nodes[event.node]
    kind = kind_of(node)
    run.log.append(LogEntry(node.id, "done"))
    state = msgspec.structs.replace(
        state,
        history=state.history + (node.id,),
        message_depth=state.message_depth + (kind in MESSAGE_KINDS),
        invited_at=event.at if kind == "connection_request" else state.invited_at,
        last_email_node=node.id if kind == "email" else state.last_email_node,
    )
    return run.goto(state, node.next, event.at)  # type: ignore[union-attr]


def _withdrawn(run: _Run, state: State) -> State:
    invite = next((n for n in reversed(state.history) if kind_of(run.c.nodes[n]) == "connection_request"), None)
    if invite is None or state.accepted_at is not None:
        return state
    if state.withdrawals >= 1:
        return run.finish(msgspec.structs.replace(state, withdrawals=state.withdrawals + 1), Substatus.NOT_CONNECTED, "invitation withdrawn twice")
    run.log.append(LogEntry(invite, "invitation withdrawn; re-invite after the 3-week cooldown"))
    return msgspec.structs.replace(
        state, node=invite, phase="due", due_at=run.now + INVITE_COOLDOWN, attempt=state.attempt + 1,
        withdrawals=state.withdrawals + 1, invited_at=None, status=LeadStatus.IN_PROGRESS,
        substatus=Substatus.CONNECTION_WITHDRAWN,
    )


def _bounced(run: _Run, state: State, hard: bool) -> State:
    if hard or state.soft_bounces >= SOFT_BOUNCE_RETRIES or state.last_email_node is None:
        return run.finish(state, Substatus.BOUNCED, "email bounced" + ("" if hard else " (soft, retries used up)"))
    run.log.append(LogEntry(state.last_email_node, "soft bounce; the email will be sent again"))
    return msgspec.structs.replace(
        state, node=state.last_email_node, phase="due", due_at=run.now + SOFT_BOUNCE_WAIT,
        attempt=state.attempt + 1, soft_bounces=state.soft_bounces + 1,
        history=state.history[:-1] if state.history and state.history[-1] == state.last_email_node else state.history,
        status=LeadStatus.PAUSED if state.paused else LeadStatus.IN_PROGRESS, substatus=Substatus.SCHEDULED,
    )


def step(compiled: Compiled, state: State, lead: LeadFacts, event: Event, now: datetime) -> Transition:
    run = _Run(compiled, lead, now)
    new = _apply(run, state, event)
    return Transition(new, tuple(run.jobs), tuple(run.log))


def _apply(run: _Run, state: State, event: Event) -> State:
    if state.substatus is Substatus.DELETED:
        return state  # removal is permanent, whatever arrives later
    if isinstance(event, Removed):
        return msgspec.structs.replace(run.finish(state, Substatus.DELETED, "removed from the campaign"), paused=False)
    if isinstance(event, Replied):
        run.log.append(LogEntry(state.node, "replied"))
        return msgspec.structs.replace(state, status=LeadStatus.REPLIED, substatus=None, node=None, phase="done", due_at=None, paused=False)
    if not state.active:
        return state
    if isinstance(event, Blocked):
        return run.finish(state, Substatus.BLOCKED, "blocked")
    if isinstance(event, OutOfOffice):
        return run.finish(state, Substatus.OUT_OF_OFFICE, "out of office")
    if isinstance(event, Bounced):
        return _bounced(run, state, event.hard)
    if isinstance(event, Accepted):
        state = msgspec.structs.replace(state, accepted_at=state.accepted_at or event.at)
        if state.phase == "waiting_accept" and not state.paused:
            node = run.c.nodes[state.node]  # type: ignore[index]
            run.log.append(LogEntry(node.id, "yes"))
            return run.goto(state, node.yes, run.now)  # type: ignore[union-attr]
        return state if state.paused else _due(run, state)
    if isinstance(event, InvitationWithdrawn):
        return _withdrawn(run, state)
    if isinstance(event, Paused):
        return msgspec.structs.replace(state, paused=True, status=LeadStatus.PAUSED)
    if isinstance(event, Resumed):
        if not state.paused:
            return state
        resumed = LeadStatus.NOT_STARTED if state.node is None and not state.history else LeadStatus.IN_PROGRESS
        state = msgspec.structs.replace(state, paused=False, status=resumed)
        if state.phase == "queued":
            # The runtime drops a paused lead's job before sending; emit it again.
            # Same attempt = same outbox key, so a job that did go out is not doubled.
            state = msgspec.structs.replace(state, phase="due", due_at=run.now)
        return _due(run, state) if resumed is LeadStatus.IN_PROGRESS else state
    if isinstance(event, ActionDone):
        return _done(run, state, event)  # applied even while paused; the next node waits for resume
    if isinstance(event, ActionFailed):
        if state.node != event.node or state.phase != "queued":
            return state
        run.log.append(LogEntry(event.node, f"error: {event.substatus.label}"))
        return msgspec.structs.replace(state, status=LeadStatus.ERROR, substatus=event.substatus, phase="due", paused=False)
    if state.paused:
        return state  # nothing new runs while paused
    if isinstance(event, Start):
        if state.status is not LeadStatus.NOT_STARTED:
            return state
        run.log.append(LogEntry(None, "started"))
        return run.goto(state, run.c.sequence.start, run.now)
    if isinstance(event, Retry):
        if state.status is not LeadStatus.ERROR:
            return state
        state = msgspec.structs.replace(
            state, status=LeadStatus.IN_PROGRESS, substatus=None, phase="due", due_at=run.now, attempt=state.attempt + 1
        )
        return run.run_due(state)
    if isinstance(event, Due):
        return _due(run, state)
    raise TypeError(f"unknown event {event!r}")


def _due(run: _Run, state: State) -> State:
    if state.phase == "waiting_accept" and state.due_at is not None and state.due_at <= run.now:
        return run.await_acceptance(msgspec.structs.replace(state, phase="due"), run.c.nodes[state.node])  # type: ignore[arg-type,index]
    if state.phase == "due" and state.status is not LeadStatus.ERROR:
        return run.run_due(state)
    return state
