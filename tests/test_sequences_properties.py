"""Properties of the step function over generated sequences and random event streams.

The runtime will call `step` for a million enrollments with events arriving
in every order the world can produce (late results, replies mid-queue,
pauses around withdrawals …). These invariants are checked after *every*
call, so any event order that breaks one is found and shrunk by hypothesis.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sequences.model import from_json, to_json
from sequences.step import Accepted, ActionDone, ActionFailed, Blocked, Bounced, Due, InvitationWithdrawn, LeadFacts, OutOfOffice, Paused, Removed, Replied, Resumed, Retry, Start, State, compile_sequence, step
from sequences.validate import validate
from sequences.model import (
    AcceptedConnection, AddToCampaign, ConnectionRequest, CustomCondition, Delay, Email, HasBeenContacted,
    HasLinkedInProfile, HasMobilePhone, HasProfessionalEmail, InMail, IsConnection, LinkedInAttachment,
    LinkedInMessage, ReactToPost, Sequence, Task, VisitProfile, VoiceMessage,
)
from sequences.statuses import LeadStatus, Substatus

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)
SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

ACTIONS = [
    lambda i: VisitProfile(id=i),
    lambda i: ReactToPost(id=i, reaction="most_reacted"),
    lambda i: ConnectionRequest(id=i, note="Hi {first_name|there}"),
    lambda i: LinkedInMessage(id=i, chunks=["Hi {first_name}", "more"]),
    lambda i: InMail(id=i, subject="Hello", body="Hi {company|there}"),
    lambda i: LinkedInAttachment(id=i, text="deck", file="deck.pdf"),
    lambda i: VoiceMessage(id=i, file="v.ogg"),
    lambda i: Email(id=i, subject="Hi {first_name}", body="Hello"),
    lambda i: Task(id=i, title="Call {full_name}", task_type="call"),
    lambda i: AddToCampaign(id=i, campaign="nurture"),
]
CONDITIONS = [
    lambda i, y, n: IsConnection(id=i, yes=y, no=n),
    lambda i, y, n: HasProfessionalEmail(id=i, yes=y, no=n),
    lambda i, y, n: HasLinkedInProfile(id=i, yes=y, no=n),
    lambda i, y, n: HasMobilePhone(id=i, yes=y, no=n),
    lambda i, y, n: HasBeenContacted(id=i, channel="email", within_days=30, yes=y, no=n),
    lambda i, y, n: CustomCondition(id=i, field="seniority", operator="greater_than", value="3", yes=y, no=n),
    lambda i, y, n: AcceptedConnection(id=i, within_days=3, yes=y, no=n),
]


@st.composite
def sequences(draw) -> Sequence:
    """Random valid trees (depth <= 8, mostly actions, so streams get far) using every node kind."""
    nodes = []
    counter = [0]

    def build(depth: int) -> str:
        counter[0] += 1
        node_id = f"n{counter[0]}"
        delay = Delay(days=draw(st.sampled_from([0, 0, 0, 1, 3])), hours=draw(st.sampled_from([0, 0, 5])))
        if depth < 5 and draw(st.integers(0, 3)) == 0:
            yes = build(depth + 1) if draw(st.integers(0, 3)) else None
            no = build(depth + 1) if draw(st.integers(0, 3)) else None
            node = draw(st.sampled_from(CONDITIONS))(node_id, yes, no)
        else:
            nxt = build(depth + 1) if depth < 7 and draw(st.integers(0, 3)) else None
            node = msgspec.structs.replace(draw(st.sampled_from(ACTIONS))(node_id), next=nxt)
        nodes.append(msgspec.structs.replace(node, delay=delay))
        return node_id

    start = build(0)
    return Sequence(start=start, nodes=nodes)


FULL = LeadFacts(first_name="Ann", last_name="Lee", company="Acme", email="ann@acme.test", phone="+1 555",
                 linkedin_id="ACoAA1", linkedin_url="https://www.linkedin.com/in/ann/", custom={"seniority": "5"})

partial_leads = st.builds(
    lambda email, li, connected, phone, first: msgspec.structs.replace(
        FULL, email=email, linkedin_id=li, linkedin_url=li and FULL.linkedin_url, is_connection=connected,
        phone=phone, first_name=first),
    st.sampled_from(["ann@acme.test", ""]), st.sampled_from(["ACoAA1", ""]), st.booleans(),
    st.sampled_from(["+1 555", ""]), st.sampled_from(["Ann", ""]),
)
# mostly complete leads, so streams get far into the sequence; some with holes, so errors happen too
leads = st.one_of(st.just(FULL), st.just(msgspec.structs.replace(FULL, is_connection=True)), partial_leads)

# What the world may do next. "done"/"fail"/"due" refer to the lead's current job or timer.
MOVES = st.sampled_from([
    "done", "done", "done", "done", "due", "due", "due", "fail_retry", "fail", "accept", "withdraw", "pause",
    "pause", "resume", "retry", "soft_bounce", "tick",
])
FINAL = {
    "reply": (Replied(), LeadStatus.REPLIED, None),
    "hard_bounce": (Bounced(hard=True), LeadStatus.FINISHED, Substatus.BOUNCED),
    "ooo": (OutOfOffice(), LeadStatus.FINISHED, Substatus.OUT_OF_OFFICE),
    "remove": (Removed(), LeadStatus.FINISHED, Substatus.DELETED),
    "block": (Blocked(), LeadStatus.FINISHED, Substatus.BLOCKED),
}
TERMINAL = (LeadStatus.FINISHED, LeadStatus.REPLIED)


class World:
    """Feeds events to one enrollment and checks the invariants after every call."""

    def __init__(self, seq: Sequence, lead: LeadFacts) -> None:
        self.seq, self.compiled, self.lead = seq, compile_sequence(seq), lead
        self.by_id = {n.id: n for n in seq.nodes}
        self.state, self.now = State(), T0
        self.keys: set[tuple[str, int]] = set()
        self.outstanding: tuple[str, int] | None = None
        self.concluded: set[tuple[str, int]] = set()
        self.calls = 0

    def event_for(self, move: str):
        s = self.state
        if move == "done" and s.phase == "queued":
            return ActionDone(s.node, self.now)
        if move == "fail" and s.phase == "queued":
            return ActionFailed(s.node, Substatus.SYSTEM_ERROR)
        if move == "fail_retry" and s.phase == "queued":
            return ActionFailed(s.node, Substatus.IDENTITY_LIMITS, retryable=True)
        if move == "due":
            if s.due_at is not None and s.due_at > self.now:
                self.now = s.due_at
            return Due()
        if move == "tick":
            self.now += timedelta(hours=9)
            return Due()
        return {
            "accept": Accepted(self.now), "withdraw": InvitationWithdrawn(), "pause": Paused(), "resume": Resumed(),
            "retry": Retry(), "soft_bounce": Bounced(hard=False), "done": Due(), "fail": Due(), "fail_retry": Due(),
        }[move]

    def feed(self, event):
        before = self.state
        self.now += timedelta(minutes=1)
        tr = step(self.compiled, before, self.lead, event, self.now)
        after = self.state = tr.state
        self.calls += 1
        if isinstance(event, (ActionDone, ActionFailed)) and before.phase == "queued" and event.node == before.node:
            self.concluded.add(self.outstanding)  # its result is applied: this key is spent
            self.outstanding = None
        # No job ever for a removed, replied, finished or paused lead.
        if before.status in TERMINAL or before.removed:
            assert tr.jobs == ()
        if before.removed:
            assert after == before
        if tr.jobs:
            (job,) = tr.jobs  # one lead has at most one job out
            assert after.phase == "queued" and after.node == job.node
            assert after.status is LeadStatus.IN_PROGRESS and not after.paused
            key = (job.node, job.attempt)
            # A job whose outcome never came back (dropped while paused) may go out again under
            # the same key — the outbox makes that a no-op if it was sent. A key whose result was
            # applied must never come back: that would be a second send of a finished action.
            assert key not in self.concluded, f"idempotency key {key} reused after its result"
            assert key == self.outstanding or key not in self.keys, f"idempotency key {key} reused"
            self.keys.add(key)
            self.outstanding = key
            # A delay never runs short: it counts from the previous action's completion.
            # (Only for a node's first attempt: a soft-bounce re-send repeats a node already past its delay.)
            if after.last_done_at is not None and job.attempt == 0:
                assert self.now >= after.last_done_at + self.by_id[job.node].delay.as_timedelta()
        if after.status in TERMINAL:
            assert after.due_at is None and after.node is None
        if after.status is LeadStatus.ERROR:
            assert after.substatus is not None and after.substatus.status is LeadStatus.ERROR
        if after.status is LeadStatus.IN_PROGRESS and after.phase != "queued":
            assert after.due_at is not None  # a waiting lead always has a time to be woken at
        if after.status is LeadStatus.IN_PROGRESS:
            # no lead waits without a reason: a substatus, unless it is due this very instant
            assert after.substatus is not None or (after.phase == "due" and after.due_at <= self.now), after
        return tr

    def settle(self) -> None:
        """A cooperative world: every job succeeds, every timer fires, pauses are lifted."""
        for _ in range(8 * len(self.seq.nodes) + 20):
            s = self.state
            if s.status in TERMINAL or s.status is LeadStatus.ERROR:
                return
            if s.paused:
                self.feed(Resumed())
            elif s.status is LeadStatus.NOT_STARTED:
                self.feed(Start())
            elif s.phase == "queued":
                self.feed(ActionDone(s.node, self.now))
            else:
                self.now = max(self.now, s.due_at)
                self.feed(Due())
        raise AssertionError(f"did not settle: {self.state}")


@SETTINGS
@given(seq=sequences(), lead=leads, moves=st.lists(MOVES, min_size=10, max_size=60),
       final=st.sampled_from(sorted(FINAL)), final_at=st.integers(0, 60))
def test_random_event_streams_keep_every_invariant_and_final_events_are_final(seq, lead, moves, final, final_at):
    world = World(seq, lead)
    world.feed(Start())
    for i, move in enumerate(moves + ["due"] * max(0, final_at + 1 - len(moves))):
        if i == final_at:
            event, status, substatus = FINAL[final]
            was = world.state
            world.feed(event)
            if not was.removed and (was.status not in TERMINAL or final in ("reply", "remove")):
                assert (world.state.status, world.state.substatus) == (status, substatus)
            continue
        world.feed(world.event_for(move))
    end = world.state
    assert end.status in TERMINAL
    for move in ["done", "due", "tick", "retry", "resume", "accept", "withdraw", "soft_bounce"]:
        assert world.feed(world.event_for(move)).jobs == ()
    assert world.state.status is end.status


@SETTINGS
@given(seq=sequences(), lead=leads, moves=st.lists(MOVES, min_size=5, max_size=40))
def test_every_path_terminates_or_rests_in_an_error_a_human_can_fix(seq, lead, moves):
    world = World(seq, lead)
    world.feed(Start())
    for move in moves:
        world.feed(world.event_for(move))
    world.settle()
    if world.state.status is LeadStatus.ERROR:
        world.feed(Retry())
        world.settle()
    assert world.state.status in (*TERMINAL, LeadStatus.ERROR)


@SETTINGS
@given(seq=sequences(), accept=st.booleans())
def test_a_lead_with_complete_data_always_finishes_and_each_action_runs_at_most_once(seq, accept):
    world = World(seq, msgspec.structs.replace(FULL, is_connection=accept))
    world.settle()
    assert world.state.status is LeadStatus.FINISHED
    assert world.state.substatus in (Substatus.NO_RESPONSE, Substatus.NOT_CONNECTED)
    assert len(world.state.history) == len(set(world.state.history)) == len(world.keys) == len(world.concluded)


@SETTINGS
@given(seq=sequences())
def test_generated_trees_are_valid_and_round_trip_through_json(seq):
    assert validate(seq) == []
    assert from_json(to_json(seq)) == seq


@SETTINGS
@given(seq=sequences(), data=st.data())
def test_redirecting_any_pointer_to_another_existing_step_is_refused(seq, data):
    """Every step already has one way in, so pointing any pointer at an existing
    step makes a join, a loop or an orphan — whichever it is, validate finds it."""
    victim = data.draw(st.sampled_from(seq.nodes))
    slot = data.draw(st.sampled_from(["yes", "no"] if hasattr(victim, "yes") else ["next"]))
    target = data.draw(st.sampled_from([n.id for n in seq.nodes]))
    if getattr(victim, slot) == target:
        return
    broken = Sequence(start=seq.start, nodes=[
        msgspec.structs.replace(n, **{slot: target}) if n is victim else n for n in seq.nodes])
    errors = validate(broken)
    assert errors and all(e.node is not None for e in errors)
