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
- A withdrawn invitation, while the lead waits for the acceptance, waits
  out LinkedIn's 3-week cooldown (Connection withdrawn) and the connection
  request is sent once more ("do this sparingly"): a second withdrawal takes
  the condition's No branch. A withdrawal after the lead moved on only
  records the cooldown (`withdrawn_until`); a later connection request step
  due inside it waits for its end.
- A delivery-delay notice for an email ("still being retried") never finishes
  the lead: its next step, if it waits for time, waits longer (Delivery
  delayed) until `Delayed.until`, at most `DELIVERY_DELAY_WAIT`; a later bounce
  ends it as Bounced, else it goes on. A job already out, an acceptance awaited
  or an error is left as it is (only logged).
- A failure the runtime marks `retryable` (rate limit, gateway down) keeps the
  lead In progress and re-issues the job at `retry_at` (default one hour
  later), at most `MAX_RETRIES` times, then the lead goes to Error. A
  permanent failure errors the lead at once; `Retry` re-runs the node.
- Content is checked again at send time, after personalisation: a variable
  without a value (Lead not scraped, `error_detail` names the variable), a
  note over 300 or a message over 1,900 characters (Message too long / InMail
  message too long) stop the lead with an error instead of a bad send.
- No job is ever emitted for a paused, removed, replied or finished lead.
- A Paused lead shows no substatus (spec: "--"); the one it had is kept in
  `held_substatus` and shown again on resume.
- A permanent failure always leaves an Error substatus: one reported with a
  non-error substatus becomes System error (its label kept in `error_detail`).
- A connection request to a lead already connected (`LeadFacts.is_connection`)
  is done without a job (logged "skipped: already connected").
- An email needs a syntactically valid contact address (`is_valid_email`),
  else Missing contact email; "Has professional email" uses the same check.
- `message_depth` / `Job.depth` count LinkedIn messages only (the LinkedIn
  queue orders by them); emails do not add depth.

`step` takes either a `Sequence` (compiled once and cached by identity, see
`compiled_for`) or an already `Compiled` one; it never re-validates content.
Compiling checks the structure (ids, start, pointers, no loops or joins) and
raises `ValueError` naming the step.

The runtime combines `Job.attempt` with the enrollment id and node id into
the outbox idempotency key.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Callable, Union

import msgspec

from sequences.model import (
    BUCKET, CHANNEL, MESSAGE_KINDS, AcceptedConnection, AddToCampaign, ConnectionRequest,
    CustomCondition, Email, HasBeenContacted, HasLinkedInProfile, HasMobilePhone,
    HasProfessionalEmail, InMail, IsConnection, LinkedInAttachment, LinkedInMessage, Node,
    ReactToPost, Sequence, Task, VoiceMessage, is_condition, kind_of,
)
from sequences.limits import INMAIL_MAX_CHARS, INVITATION_COOLDOWN, INMAIL_SUBJECT_MAX_CHARS, MESSAGE_MAX_CHARS, NOTE_MAX_CHARS
from sequences.render import LeadData, MissingVariable, render
from sequences.statuses import LeadStatus, Substatus

SOFT_BOUNCE_RETRIES = 2
SOFT_BOUNCE_WAIT = timedelta(days=1)
#: The longest a delivery-delay notice holds the lead's next step: Postfix's and
#: sendmail's default queue lifetime, after which the server bounces the email
#: (and the bounce ends the lead) or has delivered it (and the lead goes on).
DELIVERY_DELAY_WAIT = timedelta(days=5)
#: re-invitations after a withdrawal, per enrollment (spec: "do this sparingly").
MAX_REINVITES = 1
#: retryable failures of one node before the lead goes to Error.
MAX_RETRIES = 5
RETRY_WAIT = timedelta(hours=1)
#: actions that count towards the LinkedIn queue's "message depth" (spec: "the lead
#: who has already received more LinkedIn messages earlier in the sequence").
LINKEDIN_MESSAGE_KINDS = frozenset(k for k in MESSAGE_KINDS if CHANNEL[k] == "linkedin")


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
    #: a LinkedIn conversation with this lead already exists (sent through enginy);
    #: with `skip_prior_conversations`, LinkedIn message steps are skipped for it.
    prior_conversation: bool = False


class State(msgspec.Struct, frozen=True, kw_only=True):
    """Where a lead is. `phase`: due (node runs at due_at), queued (its job is
    out), waiting_accept (an acceptance condition waits until due_at), done."""

    status: LeadStatus = LeadStatus.NOT_STARTED
    substatus: Substatus | None = None
    node: str | None = None
    phase: str = "due"
    due_at: datetime | None = None
    attempt: int = 0
    #: LinkedIn messages (message, InMail, attachment, voice) done so far; emails do not count.
    message_depth: int = 0
    invited_at: datetime | None = None
    accepted_at: datetime | None = None
    withdrawals: int = 0
    soft_bounces: int = 0
    paused: bool = False
    last_email_node: str | None = None
    history: tuple[str, ...] = ()
    #: why the lead is in Error, in words (e.g. which variable has no value).
    error_detail: str = ""
    #: end of LinkedIn's 3-week cooldown after a withdrawn invitation.
    withdrawn_until: datetime | None = None
    #: when the last action completed (the base of the next node's delay).
    last_done_at: datetime | None = None
    #: attempt numbers the last email / connection request went out with, so a
    #: re-send (soft bounce, re-invite) gets a fresh idempotency key.
    last_email_attempt: int = 0
    invite_attempt: int = 0
    #: a Paused lead shows no substatus (spec: "--"); the one it had (Scheduled,
    #: an error ...) is kept here and shown again on resume.
    held_substatus: Substatus | None = None

    @property
    def active(self) -> bool:
        return self.status not in (LeadStatus.FINISHED, LeadStatus.REPLIED)

    @property
    def removed(self) -> bool:
        return self.substatus is Substatus.DELETED

    @property
    def acceptance_deadline(self) -> datetime | None:
        """When an "accepted within X days" condition gives up (No), while it waits."""
        return self.due_at if self.phase == "waiting_accept" else None


class Start(msgspec.Struct, frozen=True, tag=True):
    pass


class Due(msgspec.Struct, frozen=True, tag=True):
    pass


class ActionDone(msgspec.Struct, frozen=True, tag=True):
    node: str
    at: datetime


class ActionFailed(msgspec.Struct, frozen=True, tag=True):
    """The node's job failed; `substatus` explains it.

    `retryable=False` (default): the lead goes to Error until a `Retry`.
    `retryable=True`: the job is re-issued at `retry_at` (default: one hour
    later) with the next attempt number, up to `MAX_RETRIES` times."""

    node: str
    substatus: Substatus
    retryable: bool = False
    retry_at: datetime | None = None
    detail: str = ""


class Replied(msgspec.Struct, frozen=True, tag=True):
    pass


class Bounced(msgspec.Struct, frozen=True, tag=True):
    """A hard bounce ends the lead; a soft one re-sends the last email a day
    later (if nothing was sent since), up to `SOFT_BOUNCE_RETRIES` times."""

    hard: bool = True


class OutOfOffice(msgspec.Struct, frozen=True, tag=True):
    pass


class Delayed(msgspec.Struct, frozen=True, tag=True):
    """The receiving server has not delivered the lead's email yet and keeps
    retrying: the next step waits until `until` (capped at `DELIVERY_DELAY_WAIT`
    from now), when the server will have bounced or delivered it."""

    until: datetime | None = None


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
    Start, Due, ActionDone, ActionFailed, Replied, Bounced, OutOfOffice, Delayed, Accepted,
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
    due_days: int | None = None
    campaign: str = ""
    thread: bool = False  # an email without its own subject replies in the thread


class Job(msgspec.Struct, frozen=True):
    """One channel action to run. The runtime's idempotency key is
    (enrollment id, `node`, `attempt`); `depth` is the number of LinkedIn
    messages the lead received before this job (LinkedIn queue order: deeper
    conversations first; emails do not count)."""

    node: str
    action: str
    channel: str
    bucket: str | None
    attempt: int
    payload: Payload
    counts_as_message: bool
    depth: int = 0


class LogEntry(msgspec.Struct, frozen=True):
    """Something worth recording in the lead's timeline (conditions included)."""

    node: str | None
    what: str
    at: datetime | None = None


class Transition(msgspec.Struct, frozen=True):
    state: State
    jobs: tuple[Job, ...] = ()
    log: tuple[LogEntry, ...] = ()


# --- the compiled sequence ---------------------------------------------------


class Compiled:
    """A sequence indexed for the step function; build once per sequence version.

    Raises `ValueError` naming the step when the tree is broken (a duplicate id,
    a start or a pointer to no step, a loop or join), so a bad sequence fails
    once here instead of with a KeyError in the middle of a lead's progress.
    Content is not checked: that is `validate`'s job, before launch."""

    __slots__ = ("sequence", "nodes", "parents")

    def __init__(self, sequence: Sequence) -> None:
        self.sequence = sequence
        self.nodes: dict[str, Node] = {n.id: n for n in sequence.nodes}
        self.parents: dict[str, str] = {}
        problems: list[str] = []
        if len(self.nodes) != len(sequence.nodes):
            seen: set[str] = set()
            dups = sorted({n.id for n in sequence.nodes if n.id in seen or seen.add(n.id)})
            problems.append("two steps share the id " + ", ".join(map(repr, dups)))
        if sequence.nodes and sequence.start not in self.nodes:
            problems.append(f"the sequence starts at {sequence.start!r}, which is not a step")
        for node in sequence.nodes:
            for child in ((node.yes, node.no) if is_condition(node) else (node.next,)):
                if child is None:
                    continue
                if child not in self.nodes:
                    problems.append(f"step {node.id!r} points to {child!r}, which is not a step")
                elif child in self.parents or child == sequence.start:
                    problems.append(f"step {child!r} is reached twice (from {node.id!r}): a sequence is a tree, without loops or joins")
                else:
                    self.parents[child] = node.id
        if problems:
            raise ValueError("broken sequence: " + "; ".join(problems))


def compile_sequence(sequence: Sequence) -> Compiled:
    return Compiled(sequence)


# --- conditions --------------------------------------------------------------


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")


def is_valid_email(address: str) -> bool:
    """A cheap syntactic check (spec "Missing contact email": not set *or invalid*):
    one @, something before it, a dot inside the domain, no spaces."""
    return _EMAIL.fullmatch(address.strip()) is not None


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
        return is_valid_email(lead.email)
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


class _Stop(Exception):
    """Content that must not be sent: the lead goes to Error with this substatus."""

    def __init__(self, substatus: Substatus, detail: str = "") -> None:
        self.substatus, self.detail = substatus, detail


def _fill(text: str, lead: LeadFacts) -> str:
    result = render(text, lead)
    if isinstance(result, MissingVariable):
        raise _Stop(Substatus.LEAD_NOT_SCRAPED, result.reason)
    return result


def _limit(text: str, limit: int, substatus: Substatus, what: str) -> str:
    if len(text) > limit:
        raise _Stop(substatus, f"{what} has {len(text)} characters after personalisation; the limit is {limit}")
    return text


def _payload(node: Node, lead: LeadFacts, state: State) -> Payload:
    """The job's rendered content; raises `_Stop` with the substatus that stops the lead."""
    if isinstance(node, ConnectionRequest):
        return Payload(note=_limit(_fill(node.note, lead), NOTE_MAX_CHARS, Substatus.MESSAGE_TOO_LONG, "the connection note"))
    if isinstance(node, LinkedInMessage):
        chunks = tuple(c for c in (_fill(c, lead).strip() for c in node.chunks) if c)
        if not chunks:
            raise _Stop(Substatus.MISSING_LINKEDIN_MESSAGE)
        for i, chunk in enumerate(chunks, 1):
            _limit(chunk, MESSAGE_MAX_CHARS, Substatus.MESSAGE_TOO_LONG, f"message chunk {i}")
        return Payload(chunks=chunks)
    if isinstance(node, InMail):
        if not node.subject.strip():
            raise _Stop(Substatus.MISSING_INMAIL_SUBJECT)
        body = _fill(node.body, lead).strip()
        if not body:
            raise _Stop(Substatus.MISSING_INMAIL_MESSAGE)
        _limit(body, INMAIL_MAX_CHARS, Substatus.INMAIL_MESSAGE_TOO_LONG, "the InMail")
        subject = _limit(_fill(node.subject, lead), INMAIL_SUBJECT_MAX_CHARS, Substatus.INMAIL_MESSAGE_TOO_LONG,
                         "the InMail subject")
        return Payload(subject=subject, text=body)
    if isinstance(node, LinkedInAttachment):
        text = _limit(_fill(node.text, lead), MESSAGE_MAX_CHARS, Substatus.MESSAGE_TOO_LONG, "the message")
        return Payload(text=text, file=node.file)
    if isinstance(node, VoiceMessage):
        return Payload(file=node.file)
    if isinstance(node, Email):
        if not lead.email.strip():
            raise _Stop(Substatus.MISSING_CONTACT_EMAIL, "the contact has no professional email")
        if not is_valid_email(lead.email):
            raise _Stop(Substatus.MISSING_CONTACT_EMAIL, f"the contact's email {lead.email.strip()!r} is not a valid address")
        thread = not node.subject.strip()
        if thread and state.last_email_node is None:
            raise _Stop(Substatus.MISSING_EMAIL_SUBJECT, "the first email to this lead needs a subject")
        body = _fill(node.body, lead)
        if not body.strip() and not node.html.strip():
            raise _Stop(Substatus.EMPTY_MESSAGE)
        return Payload(subject=_fill(node.subject, lead), text=body, html=_fill(node.html, lead), thread=thread)
    if isinstance(node, ReactToPost):
        return Payload(reaction=node.reaction)
    if isinstance(node, Task):
        return Payload(title=_fill(node.title, lead), text=_fill(node.notes, lead), task_type=node.task_type,
                       due_days=node.due_days)
    if isinstance(node, AddToCampaign):
        return Payload(campaign=node.campaign)
    return Payload()


#: actions a prior LinkedIn conversation skips (campaign setting "Skip contacts with prior conversations").
_CONVERSATION_KINDS = frozenset({"linkedin_message", "linkedin_attachment", "voice_message", "inmail"})


def _needs_linkedin(node: Node, lead: LeadFacts) -> Substatus | None:
    if CHANNEL[kind_of(node)] == "linkedin" and not (lead.linkedin_id.strip() or lead.linkedin_url.strip()):
        return Substatus.LINKEDIN_URL_NOT_FOUND
    return None


# --- the step function -------------------------------------------------------


class _Run:
    """Accumulates one call's jobs and log while the state moves on."""

    def __init__(self, compiled: Compiled, lead: LeadFacts, now: datetime, skip_prior: bool = False,
                 skip_reactions: bool = False) -> None:
        self.c, self.lead, self.now, self.skip_prior = compiled, lead, now, skip_prior
        self.skip_reactions = skip_reactions
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
        if state.last_done_at is not None and base < state.last_done_at:
            base = state.last_done_at  # a delay never counts from before the previous action completed
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
                    return self.goto(state, None, self.now, came_from_no=False)
                target = self.c.nodes[nxt]
                # delays add up along the path from the last completed action
                due = state.due_at + target.delay.as_timedelta()
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
            return self.goto(state, node.no, deadline, came_from_no=True)
        return msgspec.structs.replace(
            state, phase="waiting_accept", due_at=deadline, substatus=Substatus.WAITING_TO_CONNECT
        )

    def emit(self, state: State, node: Node) -> State:
        kind = kind_of(node)
        if kind == "connection_request" and self.lead.is_connection:
            # LinkedIn refuses an invitation to a 1st-degree connection ("already
            # connected"): the step is done without a job and the sequence moves on.
            self.log.append(LogEntry(node.id, "skipped: already connected"))
            return self.goto(state, node.next, self.now)  # type: ignore[union-attr]
        if kind == "connection_request" and state.withdrawn_until is not None and self.now < state.withdrawn_until:
            # LinkedIn refuses a new invitation within 3 weeks of a withdrawal: wait it out.
            return msgspec.structs.replace(state, due_at=state.withdrawn_until, substatus=Substatus.CONNECTION_WITHDRAWN)
        if self.skip_prior and self.lead.prior_conversation and kind in _CONVERSATION_KINDS:
            self.log.append(LogEntry(node.id, "skipped: a LinkedIn conversation with this lead already exists"))
            return self.goto(state, node.next, self.now)  # type: ignore[union-attr]
        if self.skip_reactions and kind == "react_to_post":
            self.log.append(LogEntry(node.id, "skipped: the identity opted out of likings"))
            return self.goto(state, node.next, self.now)  # type: ignore[union-attr]
        problem = _needs_linkedin(node, self.lead)
        try:
            if problem is not None:
                raise _Stop(problem, "the lead has no LinkedIn profile id or URL")
            payload = _payload(node, self.lead, state)
        except _Stop as stop:
            self.log.append(LogEntry(node.id, f"error: {stop.substatus.label}" + (f" ({stop.detail})" if stop.detail else "")))
            return msgspec.structs.replace(
                state, status=LeadStatus.ERROR, substatus=stop.substatus, error_detail=stop.detail, phase="due"
            )
        self.jobs.append(Job(
            node.id, kind, CHANNEL[kind], BUCKET.get(kind), state.attempt, payload, kind in MESSAGE_KINDS,
            state.message_depth,
        ))
        return msgspec.structs.replace(
            state, phase="queued", substatus=Substatus.QUEUED, error_detail="",
            status=LeadStatus.PAUSED if state.paused else LeadStatus.IN_PROGRESS,
        )


def _done(run: _Run, state: State, event: ActionDone) -> State:
    if state.phase != "queued" or state.node != event.node:
        return state  # a late or duplicate result: already applied
    node = run.c.nodes[event.node]
    kind = kind_of(node)
    run.log.append(LogEntry(node.id, "done"))
    state = msgspec.structs.replace(
        state,
        history=state.history + (node.id,),
        message_depth=state.message_depth + (kind in LINKEDIN_MESSAGE_KINDS),
        invited_at=event.at if kind == "connection_request" else state.invited_at,
        invite_attempt=state.attempt if kind == "connection_request" else state.invite_attempt,
        last_email_node=node.id if kind == "email" else state.last_email_node,
        last_email_attempt=state.attempt if kind == "email" else state.last_email_attempt,
        last_done_at=event.at,
    )
    return run.goto(state, node.next, event.at)  # type: ignore[union-attr]


def _withdrawn(run: _Run, state: State) -> State:
    """LinkedIn's cooldown starts now; re-invite only while the acceptance is awaited."""
    state = msgspec.structs.replace(state, withdrawn_until=run.now + INVITATION_COOLDOWN)
    if state.phase != "waiting_accept" or state.accepted_at is not None:
        run.log.append(LogEntry(state.node, "invitation withdrawn"))
        return state  # the lead already moved on: nothing to re-send
    condition = run.c.nodes[state.node]  # type: ignore[index]
    # The invitation to re-send is the connection request this condition waits on,
    # reached back through conditions only: re-running any other action in between
    # would repeat it (and reuse its idempotency key).
    invite = run.c.parents.get(condition.id)
    while invite is not None and is_condition(run.c.nodes[invite]):
        invite = run.c.parents.get(invite)
    if invite is not None and kind_of(run.c.nodes[invite]) != "connection_request":
        invite = None
    if invite is None or state.withdrawals >= MAX_REINVITES:
        run.log.append(LogEntry(condition.id, "no (invitation withdrawn)"))
        return run.goto(msgspec.structs.replace(state, withdrawals=state.withdrawals + 1),
                        condition.no, run.now, came_from_no=True)  # type: ignore[union-attr]
    run.log.append(LogEntry(invite, "invitation withdrawn; re-invite after the 3-week cooldown"))
    return msgspec.structs.replace(
        state, node=invite, phase="due", due_at=state.withdrawn_until, attempt=state.invite_attempt + 1, invited_at=None,
        withdrawals=state.withdrawals + 1, status=LeadStatus.PAUSED if state.paused else LeadStatus.IN_PROGRESS,
        substatus=Substatus.CONNECTION_WITHDRAWN,
    )


def _bounced(run: _Run, state: State, hard: bool) -> State:
    """Hard: Finished/Bounced. Soft: re-send the last email a day later when it
    is the last thing done and no job is out (re-running later steps would
    double them); after `SOFT_BOUNCE_RETRIES` soft bounces, Bounced."""
    if not hard and state.last_email_node is None:
        return state  # no email went out in this sequence: nothing of ours bounced
    if hard or state.soft_bounces >= SOFT_BOUNCE_RETRIES:
        return run.finish(state, Substatus.BOUNCED, "email bounced" + ("" if hard else " (soft, retries used up)"))
    state = msgspec.structs.replace(state, soft_bounces=state.soft_bounces + 1)
    # Re-send only when nothing happened since the email: it was the last action
    # done, no job is out, and the node after it was never attempted (else its
    # attempt-0 key would be spent and re-running it would reuse it).
    resendable = (state.history and state.history[-1] == state.last_email_node
                  and state.phase != "queued" and state.attempt == 0)
    if not resendable or state.status is LeadStatus.ERROR:
        run.log.append(LogEntry(state.last_email_node, "soft bounce"))
        return state
    run.log.append(LogEntry(state.last_email_node, "soft bounce; the email will be sent again"))
    return msgspec.structs.replace(
        state, node=state.last_email_node, phase="due", due_at=run.now + SOFT_BOUNCE_WAIT,
        attempt=state.last_email_attempt + 1, history=state.history[:-1],
        status=LeadStatus.PAUSED if state.paused else LeadStatus.IN_PROGRESS, substatus=Substatus.SCHEDULED,
    )


def _delayed(run: _Run, state: State, until: datetime | None) -> State:
    """Hold the next step (only one that waits for time) until the delay resolves; never finish."""
    horizon = run.now + DELIVERY_DELAY_WAIT
    until = horizon if until is None else max(run.now, min(until, horizon))
    if state.last_email_node is None or state.phase != "due" or state.status is LeadStatus.ERROR:
        run.log.append(LogEntry(state.last_email_node, "delivery delayed; the server keeps retrying"))
        return state
    run.log.append(LogEntry(state.last_email_node, f"delivery delayed; the next step waits until {until.isoformat()}"))
    return msgspec.structs.replace(
        state, due_at=max(until, state.due_at or until), substatus=Substatus.DELIVERY_DELAYED,
    )


_CACHE: dict[int, tuple[Sequence, Compiled]] = {}
_CACHE_SIZE = 256


def compiled_for(sequence: Sequence) -> Compiled:
    """The compiled form of `sequence`, built once per Sequence object (cached by
    identity; a Sequence is immutable, and the cache holds it so the id stays valid)."""
    hit = _CACHE.get(id(sequence))
    if hit is not None and hit[0] is sequence:
        return hit[1]
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    compiled = Compiled(sequence)
    _CACHE[id(sequence)] = (sequence, compiled)
    return compiled


def step(
    sequence: Compiled | Sequence, state: State, lead: LeadFacts, event: Event, now: datetime,
    *, skip_prior_conversations: bool = False, skip_reactions: bool = False,
) -> Transition:
    """The lead's next state and the jobs to run, given what happened at `now`.

    `sequence` must have passed `validate` (it is never re-validated here).
    `skip_prior_conversations` is the campaign setting of that name: LinkedIn
    message steps are skipped for a lead with `prior_conversation`. `skip_reactions` is the
    identity's likings opt-out: its "React to last post" steps are skipped, logged as such."""
    compiled = sequence if isinstance(sequence, Compiled) else compiled_for(sequence)
    run = _Run(compiled, lead, now, skip_prior_conversations, skip_reactions)
    if state.held_substatus is not None:
        # the rules work with the lead's real substatus; Paused only hides it
        state = msgspec.structs.replace(state, substatus=state.held_substatus, held_substatus=None)
    new = _apply(run, state, event)
    if new.status is LeadStatus.PAUSED and new.substatus is not None:
        new = msgspec.structs.replace(new, substatus=None, held_substatus=new.substatus)
    log = tuple(e if e.at is not None else LogEntry(e.node, e.what, now) for e in run.log)
    return Transition(new, tuple(run.jobs), log)


def system_error(state: State, detail: str, now: datetime) -> Transition:
    """The lead stops in Error / System error, `detail` saying why: what the runtime does with a
    lead its campaign's sequence cannot move (a value that bypassed the validator, a bug), so that
    one broken campaign errors its own leads and nothing else. A Retry runs the step again."""
    failed = msgspec.structs.replace(state, status=LeadStatus.ERROR, substatus=Substatus.SYSTEM_ERROR,
                                     held_substatus=None, error_detail=detail, phase="due", paused=False)
    return Transition(failed, (), (LogEntry(state.node, f"error: {Substatus.SYSTEM_ERROR.label} ({detail})", now),))


def _apply(run: _Run, state: State, event: Event) -> State:
    if state.substatus is Substatus.DELETED:
        return state  # removal is permanent, whatever arrives later
    try:
        handler, when = _HANDLERS[event.__class__]
    except KeyError:
        raise TypeError(f"unknown event {event!r}") from None
    if when and not state.active:
        return state  # finished and replied leads only take a removal or a (late) reply
    if when == 2 and state.paused:
        return state  # nothing new runs while paused
    return handler(run, state, event)


def _on_removed(run: _Run, state: State, event: Removed) -> State:
    return msgspec.structs.replace(run.finish(state, Substatus.DELETED, "removed from the campaign"), paused=False)


def _on_replied(run: _Run, state: State, event: Replied) -> State:
    run.log.append(LogEntry(state.node, "replied"))
    return msgspec.structs.replace(state, status=LeadStatus.REPLIED, substatus=None, node=None, phase="done", due_at=None, paused=False)


def _on_accepted(run: _Run, state: State, event: Accepted) -> State:
    state = msgspec.structs.replace(state, accepted_at=state.accepted_at or event.at)
    if state.phase == "waiting_accept" and not state.paused:
        node = run.c.nodes[state.node]  # type: ignore[index]
        run.log.append(LogEntry(node.id, "yes"))
        return run.goto(state, node.yes, min(event.at, run.now))  # type: ignore[union-attr]
    return state if state.paused else _due(run, state)


def _on_resumed(run: _Run, state: State, event: Resumed) -> State:
    if not state.paused:
        return state
    if state.substatus is not None and state.substatus.status is LeadStatus.ERROR:
        return msgspec.structs.replace(state, paused=False, status=LeadStatus.ERROR)  # needs a Retry
    resumed = LeadStatus.NOT_STARTED if state.node is None and not state.history else LeadStatus.IN_PROGRESS
    state = msgspec.structs.replace(state, paused=False, status=resumed)
    if state.phase == "queued":
        # The runtime drops a paused lead's job before sending; emit it again.
        # Same attempt = same outbox key, so a job that did go out is not doubled.
        state = msgspec.structs.replace(state, phase="due", due_at=run.now)
    return _due(run, state) if resumed is LeadStatus.IN_PROGRESS else state


def _failed(run: _Run, state: State, event: ActionFailed) -> State:
    if state.node != event.node or state.phase != "queued":
        return state
    if event.retryable and state.attempt < MAX_RETRIES:
        when = event.retry_at or run.now + RETRY_WAIT
        run.log.append(LogEntry(event.node, f"retry at {when.isoformat()}: {event.substatus.label}"))
        waiting = event.substatus if event.substatus.status is LeadStatus.IN_PROGRESS else Substatus.SCHEDULED
        return msgspec.structs.replace(
            state, phase="due", due_at=max(when, run.now), attempt=state.attempt + 1, substatus=waiting,
        )
    substatus, detail = event.substatus, event.detail
    if substatus.status is not LeadStatus.ERROR:
        # An Error lead must say why with an error substatus; a runtime that
        # reported e.g. Scheduled as permanent gets System error, its words kept.
        detail = f"{substatus.label}" + (f": {detail}" if detail else "")
        substatus = Substatus.SYSTEM_ERROR
    run.log.append(LogEntry(event.node, f"error: {substatus.label}" + (f" ({detail})" if detail else "")))
    return msgspec.structs.replace(
        state, status=LeadStatus.ERROR, substatus=substatus, error_detail=detail,
        phase="due", paused=False,
    )


def _on_start(run: _Run, state: State, event: Start) -> State:
    if state.status is not LeadStatus.NOT_STARTED:
        return state
    run.log.append(LogEntry(None, "started"))
    return run.goto(state, run.c.sequence.start, run.now)


def _on_retry(run: _Run, state: State, event: Retry) -> State:
    if state.status is not LeadStatus.ERROR:
        return state
    state = msgspec.structs.replace(
        state, status=LeadStatus.IN_PROGRESS, substatus=None, phase="due", due_at=run.now, attempt=state.attempt + 1
    )
    return run.run_due(state)


#: event type -> (handler, when): when 0 = always (removal, reply), 1 = while the
#: lead is active (paused or not), 2 = only while active and not paused.
_HANDLERS: dict[type, tuple[Callable[[_Run, State, Event], State], int]] = {
    Removed: (_on_removed, 0),
    Replied: (_on_replied, 0),
    Blocked: (lambda run, state, event: run.finish(state, Substatus.BLOCKED, "blocked"), 1),
    OutOfOffice: (lambda run, state, event: run.finish(state, Substatus.OUT_OF_OFFICE, "out of office"), 1),
    Bounced: (lambda run, state, event: _bounced(run, state, event.hard), 1),
    Delayed: (lambda run, state, event: _delayed(run, state, event.until), 1),
    Accepted: (_on_accepted, 1),
    InvitationWithdrawn: (lambda run, state, event: _withdrawn(run, state), 1),
    Paused: (lambda run, state, event: msgspec.structs.replace(state, paused=True, status=LeadStatus.PAUSED), 1),
    Resumed: (_on_resumed, 1),
    # applied even while paused; the next node waits for resume
    ActionDone: (lambda run, state, event: _done(run, state, event), 1),
    ActionFailed: (_failed, 1),
    Start: (_on_start, 2),
    Retry: (_on_retry, 2),
    Due: (lambda run, state, event: _due(run, state), 2),
}


def _due(run: _Run, state: State) -> State:
    if state.phase == "waiting_accept" and (
        state.accepted_at is not None or (state.due_at is not None and state.due_at <= run.now)
    ):
        return run.await_acceptance(msgspec.structs.replace(state, phase="due"), run.c.nodes[state.node])  # type: ignore[arg-type,index]
    if state.phase == "due" and state.status is not LeadStatus.ERROR:
        return run.run_due(state)
    return state
