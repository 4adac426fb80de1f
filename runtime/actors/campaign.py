"""CampaignActor: one per running campaign; turns due leads into jobs for its identity.

It streams due enrollments from the due index (`enrollments_due_status`:
campaign, status, due_at) in batches — never the whole audience — steps each through the
sequence (conditions resolve at once), commits the batch in one transaction,
and only then sends the new outbox jobs to its identity actor over a bounded
Trio memory channel (back-pressure: a busy identity slows the feeder down).

One timer per actor: it sleeps until the earliest `due_at` of its campaign, or
until woken (new leads, a resumed lead, an inbound event, a changed sequence).
A lead whose job just ended wakes it only if that lead is now due before the
timer (`lead_due`): most are due days later, and waking for each of them was a
third of a large simulation's campaign turns, all finding nothing to do.
Results of jobs come back through `leads.advance` inside the identity actor's
result transaction, so "sent" and "the lead moved on" commit together.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import TYPE_CHECKING

import trio

from runtime.ai.generate import AIClientSource, generate_leads
from runtime.channels.email.choice import choose_inbox
from runtime.clock import Clock
from runtime.leads import CampaignInfo, QueuedJob, advance, projected_due, state_of
from sequences.statuses import Substatus
from sequences.step import Due, Start
from storage import leads as store
from storage.activity import iso
from storage.db import transaction
from storage.lead_intents import EVENT_OF, clear_intent, intent_of, pending_intents
from storage.leads import lead_rows

if TYPE_CHECKING:
    import sqlite_utils

    from runtime.actors.identity import IdentityActor

BATCH = 256
START_CHUNK = 16
INTENT_PAGE = 256


class CampaignActor:
    def __init__(self, db: "sqlite_utils.Database", clock: Clock, row: dict, identity: "IdentityActor", *,
                 ai: AIClientSource = lambda: None) -> None:
        self.db = db
        self.clock = clock
        self.identity = identity
        self.ai = ai  # the AI endpoint's client (None: none configured), asked only when a step needs it
        self._to_generate: dict[int, None] = {}  # leads stepped in this turn that wait for their AI variables
        self._batch: list[QueuedJob] = []  # jobs stepped in this turn, not yet handed to the identity
        self.info = self._info(row)
        self.jobs_out = identity.jobs_in.clone()
        self._wake = trio.Event()
        self._asleep = False
        self._sleep_until: str | None = None  # while asleep: the timer, ISO as stored (None: until woken)
        self.cancel_scope = trio.CancelScope()
        # Intents (resume / retry) are written by other processes: look for them at start and
        # after the supervisor saw another connection commit, not at every turn.
        self.intents_maybe = True

    @property
    def id(self) -> int:
        return self.info.id

    def wake(self, *, intents: bool = False) -> None:
        self.intents_maybe = self.intents_maybe or intents
        self._wake.set()

    def lead_due(self, due: str | None) -> None:
        """A lead of this campaign now waits until `due` (ISO, as stored; None: not for time).
        Awake, the actor reads the earliest due lead itself before it sleeps again."""
        if due is not None and self._asleep and (self._sleep_until is None or due < self._sleep_until):
            self.wake()

    def refresh(self, row: dict) -> None:
        """The campaign row changed (priority, texts, delays): later steps use the new version."""
        if row["updated_at"] != self.info.updated_at:
            self.info = self._info(row)
            self.wake()

    def _info(self, row: dict) -> CampaignInfo:
        info = CampaignInfo.of(row)
        settings = info.settings

        def inbox_for(lead: dict) -> int | None:
            """A new email lead's inbox: the campaign's inbox policy over what each inbox has left today."""
            slots = self.identity.lanes.inbox_slots(self.clock.now(), pending=self._batch)
            return choose_inbox(slots, allowed=settings.get("inboxes"), shuffle=settings.get("shuffle_inboxes", True),
                                turn=lead["id"]).inbox_id

        info.choose_inbox = inbox_for
        info.wake_campaign = self.identity.wake_campaign
        return info

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        with self.cancel_scope:
            async with self.jobs_out:
                task_status.started()
                while True:
                    self._wake = trio.Event()
                    now = self.clock.now()
                    n = await self.step_due(now)
                    if n >= BATCH:
                        await trio.lowlevel.checkpoint()
                        continue
                    nxt = self.next_due()
                    deadline = self.clock.trio_deadline(nxt) if nxt is not None else math.inf
                    self._asleep, self._sleep_until = True, iso(nxt) if nxt is not None else None
                    try:
                        with trio.move_on_at(deadline):
                            await self._wake.wait()
                    finally:
                        self._asleep = False

    def next_due(self) -> datetime | None:
        statuses = ("in_progress", "not_started") if self.identity.has_room(self.id) else ("in_progress",)
        found = [due for status in statuses if (due := store.earliest_due(self.db, self.id, status))]
        return datetime.fromisoformat(min(found)) if found else None

    def _due_ids(self, status: str, now: datetime, limit: int) -> list[int]:
        return store.due_ids(self.db, self.id, status, now, limit)

    async def step_due(self, now: datetime) -> int:
        """Step due leads (in progress first; new ones only while the identity has room).

        New leads are started in small chunks and only while the identity's
        queue for this campaign is below its high-water mark, so a 5,000-lead
        audience is not turned into 5,000 queued jobs at launch: leads start as
        capacity frees up, in order. Returns how many leads were stepped."""
        jobs: list[QueuedJob] = self._apply_intents(now)
        self._batch = jobs
        n = self._step(self._due_ids("in_progress", now, BATCH), now, jobs)
        started = 0
        while n + started < BATCH and self.identity.has_room(self.id, pending=jobs):
            ids = self._due_ids("not_started", now, START_CHUNK)
            if not ids:
                break
            started += self._step(ids, now, jobs)
        self._batch = []
        for job in jobs:
            await self.jobs_out.send(job)
        if self._to_generate:
            ids, self._to_generate = list(self._to_generate), {}
            for job in await generate_leads(self.db, self.info, ids, self.clock, self.ai):
                await self.jobs_out.send(job)
        return n + started

    def _apply_intents(self, now: datetime) -> list[QueuedJob]:
        """Resume / retry asked by the CLI or TUI (`enrollments.intent`, see storage/lead_intents.py):
        step the lead with that event and clear the intent, in one transaction per lead."""
        jobs: list[QueuedJob] = []
        if not self.intents_maybe:
            return jobs
        page = pending_intents(self.db, self.id, limit=INTENT_PAGE)
        self.intents_maybe = len(page) == INTENT_PAGE  # a full page: more may wait, look again next turn
        for pending in page:
            with transaction(self.db):
                intent = intent_of(self.db, pending["id"])
                rows = lead_rows(self.db, [pending["id"]])
                if intent in EVENT_OF and rows:
                    new, queued = advance(self.db, self.info, rows[0], EVENT_OF[intent], now,
                                          identity_id=self.info.identity_id)
                    jobs.extend(queued)
                    self._wants_ai(pending["id"], new)
                clear_intent(self.db, pending["id"])
        return jobs

    def _wants_ai(self, enrollment_id: int, state) -> bool:
        """The lead waits for its AI variables: generate them once this turn's steps are committed."""
        if state.substatus is Substatus.GENERATING_AI:
            self._to_generate[enrollment_id] = None  # (a retried lead is also due: once)
            return True
        return False

    def _step(self, ids: list[int], now: datetime, jobs: list[QueuedJob]) -> int:
        if not ids:
            return 0
        with transaction(self.db):
            for row in lead_rows(self.db, ids):
                old = state_of(row)
                event = Start() if row["status"] == "not_started" and old.node is None else Due()
                new, queued = advance(self.db, self.info, row, event, now, identity_id=self.info.identity_id)
                jobs.extend(queued)
                if self._wants_ai(row["id"], new):
                    continue  # due until its texts are written (this turn, after the commit)
                if new == old and not queued:
                    due = projected_due(new)
                    if due is None or due <= iso(now):
                        # Nothing can move this lead now (e.g. its column and state disagree):
                        # take it out of the due index rather than spin on it.
                        store.set_due(self.db, row["id"], due if due and due > iso(now) else None)
        return len(ids)
