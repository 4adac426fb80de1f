"""IdentityActor: one per identity; owns its rate limits, working hours and two queues.

Queues (spec: "two execution queues"): LinkedIn — one action at a time for
the account, across the buckets visit / reaction / invitation / message /
InMail; email — each connected inbox is its own lane with its own caps.

The actor runs the two queue loops and applies what happens to each job;
the parts it is made of each do one thing:

- `lanes.Lanes` decides which queued job may run next and when (limits
  counted from the ledger, pacing, back-off, the in-memory window of the
  best queued jobs per lane, and how much a campaign may queue);
- `waiting.WaitingReasons` tells the leads of a waiting lane why they wait;
- `linkedin_jobs.LinkedInJobs` and `email_jobs.EmailJobs` perform one job
  through the channel's driver and turn its result into an `Outcome`;
- this module applies an outcome: the storage writes in one transaction,
  the lane's ledger times and back-off, and the campaign actor's wake-up.

One timer per queue: the loop sleeps until the earliest lane is ready or a
new job is filed.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Awaitable, Callable

import msgspec
import trio

from runtime import limits
from runtime.actors.email_jobs import EmailJobs
from runtime.actors.lanes import LINKEDIN_LANES, UNKNOWN_FIRST, Lane, Lanes, lane_of, queue_of
from runtime.actors.linkedin_jobs import LinkedInJobs, lead_ref
from runtime.actors.outcomes import Bounced, DeferLead, Done, FailLead, InboxLost, LinkedInLost, Outcome, Requeue, Unknown
from runtime.actors.waiting import WaitingReasons
from runtime.clock import Clock
from runtime.leads import CampaignInfo, QueuedJob, advance, projected_due
from runtime.limits import ActionTimes
from runtime import crashpoints
from runtime.results import LINKEDIN_MESSAGES, failed, record_side, settle
from sequences.statuses import Substatus
from sequences.step import ActionDone, Blocked
from sequences.step import Bounced as BouncedEvent
from storage import outbox
from storage.activity import iso
from storage.conversations import has_conversation
from storage.db import transaction
from storage.identities import linkedin_lost
from storage.inboxes import connected_inboxes, list_inboxes, set_connected
from storage.lanes import queued_jobs, restamp
from storage.leads import decode_state, encode, lead_rows, lead_state, load_campaign, save_columns
from storage.replies import REPLY_SORT_KEY, pending_replies

if TYPE_CHECKING:
    import sqlite_utils

    from runtime.actors.campaign import CampaignActor

UNKNOWN_ROUNDS = 5  # unknown outcomes in a row for one job before its lead goes to Error


class IdentityActor:
    def __init__(self, db: "sqlite_utils.Database", clock: Clock, row: dict, *, linkedin, email, seed: int,
                 stopping: Callable[[], bool]) -> None:
        """`linkedin`/`email`: the identity's drivers; `stopping`: true once the runtime drains
        (start no new action)."""
        self.db = db
        self.clock = clock
        self.row = row
        self.id: int = row["id"]
        self.stopping = stopping
        inboxes = {r["id"]: r for r in connected_inboxes(db, self.id)}
        self.lanes = Lanes(db, row, inboxes, f"{seed}:identity:{self.id}")
        self.waiting = WaitingReasons(self.lanes)
        self.linkedin = LinkedInJobs(linkedin, self.lanes.hours, clock.now)
        self.email = EmailJobs(email, inboxes, lambda enrollment_id: outbox.last_sent_email(db, enrollment_id),
                               clock.now)
        self.jobs_in, self._jobs_recv = trio.open_memory_channel(64)
        self._in_flight = 0  # actions claimed whose outcome is not recorded yet
        self._idle = trio.Event()
        self._idle.set()
        self.unknown_rounds: dict[int, int] = {}  # outbox id -> unknown outcomes in a row (this run)
        # a restricted account stays untouched across restarts until the user resumes it
        self.halted: set[str] = {"linkedin"} if row.get("linkedin_queue_paused") else set()
        # The account turned out disconnected (this run): no LinkedIn job can go until the user
        # reconnects (which restarts this actor), so each one errors instead of waiting unseen.
        self.linkedin_gone = False
        self.campaigns: dict[int, "CampaignActor"] = {}
        # wakes any running campaign's actor (leads added to it by Add to another campaign); the supervisor's
        self.wake_campaign: Callable[[int], None] = lambda campaign_id: None
        self._work = {"linkedin": trio.Event(), "email": trio.Event()}
        self.cancel_scope = trio.CancelScope()
        # Tasks that live and die with this actor (its LinkedIn poller), started in its nursery.
        self.companions: list[Callable[[], Awaitable[None]]] = []
        self._replies_filed: set[int] = set()  # replies by hand already in a lane (this run)

    # -- jobs in --------------------------------------------------------------

    def file(self, job: QueuedJob, key: int | None = None, new: bool = True) -> None:
        if new:
            self._count(job, +1)
        lost = self._lost(job)
        if lost is not None:
            self._fail_queued([job], *lost)
            return
        first = self.lanes.offer(job, key)
        # A lane already holding jobs keeps its ready time: the loop, asleep until then or
        # busy, need not look again (a wake-up per filed job was most of a large
        # simulation's picks, all finding nothing to do) — unless the lane waits and the
        # new job's lead must be told why.
        if self.waiting.filed(lane_of(job), job.outbox_id) or first:
            self._work[queue_of(job.bucket)].set()

    def pick_up_replies(self) -> None:
        """File the replies by hand the user queued since (storage/replies.py): ahead of the
        campaign jobs of their lane, under the same caps."""
        for r in pending_replies(self.db, self.id):
            if r.state == "queued" and r.outbox_id not in self._replies_filed:
                self._replies_filed.add(r.outbox_id)
                self.file(QueuedJob(r.outbox_id, r.campaign_id, r.bucket, r.inbox_id, REPLY_SORT_KEY))

    def _count(self, job: QueuedJob, delta: int) -> None:
        if self.lanes.count(job, delta):
            actor = self.campaigns.get(job.campaign_id)
            if actor is not None:
                actor.wake()

    def has_room(self, campaign_id: int, pending: list[QueuedJob] = ()) -> bool:
        return self.lanes.has_room(campaign_id, pending)

    def _lost(self, job: QueuedJob) -> tuple[Substatus, str] | None:
        """Why a job can never go from this identity as it is now (its channel lost), or None."""
        if job.bucket == limits.EMAIL and job.inbox_id not in self.lanes.inboxes:
            return self._inbox_gone(job.inbox_id)
        if job.bucket != limits.EMAIL and self.linkedin_gone:
            return Substatus.LINKEDIN_DISCONNECTED, "the identity's LinkedIn account is disconnected"
        return None

    def _inbox_gone(self, inbox_id: int | None) -> tuple[Substatus, str]:
        """The spec: a lead keeps the inbox it started with; disconnected, the lead errors until it
        is reconnected (Email disconnected); deleted, the account is no longer available (Missing email)."""
        if inbox_id in {r["id"] for r in list_inboxes(self.db, self.id)}:
            return Substatus.EMAIL_DISCONNECTED, "the inbox that started this conversation is not connected"
        return Substatus.MISSING_EMAIL, "the inbox that started this conversation no longer exists"

    def _fail_queued(self, jobs: list[QueuedJob], substatus: Substatus, error: str) -> None:
        """Queued jobs that can never go: each row fails and its lead goes to Error with `substatus`
        (a retry after the user reconnects re-issues the step)."""
        now = self.clock.now()
        for job in jobs:
            row = outbox.load(self.db, job.outbox_id)
            if row is None or row["state"] != "queued":
                continue
            self._count(job, -1)
            info = self.campaign_info(job.campaign_id)
            with transaction(self.db):
                outbox.fail_queued(self.db, job.outbox_id, error, now)
                leads = lead_rows(self.db, [row["enrollment_id"]])
                if info is None or not leads or row["node_id"] is None:  # a reply by hand steps no lead
                    continue
                state, _ = advance(self.db, info, leads[0], failed(row["node_id"], substatus), now,
                                   identity_id=self.id)
            self._settled(job.campaign_id, [], projected_due(state))

    def _fail_lanes(self, buckets: tuple[str, ...], lost: Callable[[QueuedJob], tuple[Substatus, str] | None]) -> None:
        """Fail every queued job of these buckets whose channel is lost, and forget them in the lanes."""
        for r in queued_jobs(self.db, self.id, buckets):
            job = QueuedJob(r.outbox_id, r.campaign_id, r.bucket, r.inbox_id if r.bucket == limits.EMAIL else None,
                            r.sort_key)
            why = lost(job)
            if why is not None:
                self.lanes.forget(job)
                self._fail_queued([job], *why)

    def drop_campaign(self, campaign_id: int) -> None:
        """A campaign stopped: forget its jobs (they stay queued in the outbox)."""
        self.campaigns.pop(campaign_id, None)
        self.lanes.drop_campaign(campaign_id)

    # -- running --------------------------------------------------------------

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        with self.cancel_scope:
            now = self.clock.now()
            with transaction(self.db):
                outbox.recover(self.db, self.id, now)
            self.lanes.start(now)
            self._fail_lanes((limits.EMAIL,), self._lost)  # queued on an inbox disconnected since
            self.pick_up_replies()
            async with trio.open_nursery() as nursery:
                nursery.start_soon(self._receive)
                nursery.start_soon(self._loop, "linkedin")
                nursery.start_soon(self._loop, "email")
                for companion in self.companions:
                    nursery.start_soon(companion)
                task_status.started()

    async def _receive(self) -> None:
        async with self._jobs_recv:
            async for job in self._jobs_recv:
                self.file(job)

    async def idle(self) -> None:
        """Return once no action of this identity is between its claim and its recorded outcome."""
        await self._idle.wait()

    async def _loop(self, queue: str) -> None:
        while True:
            if self.stopping():  # a stop is draining: start nothing new, wait to be cancelled
                await trio.sleep_forever()
            self._work[queue] = trio.Event()
            now = self.clock.now()
            pick, wake = self.lanes.pick(queue, now, self.halted, self.waiting)
            if pick is not None:
                await self._execute(*pick)
                continue
            deadline = self.clock.trio_deadline(wake) if wake is not None else math.inf
            with trio.move_on_at(deadline):
                await self._work[queue].wait()

    # -- one job ----------------------------------------------------------------

    def campaign_info(self, campaign_id: int) -> CampaignInfo | None:
        actor = self.campaigns.get(campaign_id)
        if actor is not None:
            return actor.info
        row = load_campaign(self.db, campaign_id)
        if row is None:
            return None
        info = CampaignInfo.of(row)
        info.wake_campaign = self.wake_campaign
        return info

    async def _execute(self, lane: Lane, qjob: QueuedJob) -> None:
        now = self.clock.now()
        row = outbox.load(self.db, qjob.outbox_id)
        if row is None or row["state"] not in ("queued", "unknown"):
            return
        self._count(qjob, -1)  # it leaves the queue now: sent, cancelled, or filed again below
        info = self.campaign_info(row["campaign_id"])
        reason = outbox.why_not(row) if info is not None else "campaign gone"
        if reason is None and row["action"] in LINKEDIN_MESSAGES and row["state"] == "queued":
            reason = await self._precheck_message(row, info, now)
            now = self.clock.now()
            row = outbox.load(self.db, qjob.outbox_id)
            if row is None or row["state"] not in ("queued", "unknown"):
                return
            reason = reason or outbox.why_not(row)
        if reason is not None:
            with transaction(self.db):
                outbox.cancel(self.db, row["id"], reason, now)
            return
        if self.stopping():
            return  # a stop began while this job was being checked: it stays queued for the next start
        sender = self.lanes.inboxes.get(row["inbox_id"], {}).get("email") if row["inbox_id"] else None
        li_rules = self.lanes.li_rules
        with transaction(self.db):
            had_ledger = outbox.ledger_time(self.db, row["id"])
            job = outbox.claim(self.db, row, identity_id=self.id, now=now, counted=had_ledger, sender=sender)
            opens = (row["action"] in LINKEDIN_MESSAGES and limits.CONVERSATION in li_rules
                     and not has_conversation(self.db, self.id, row["contact_id"], "linkedin"))
            if opens:
                outbox.spend(self.db, at=now, identity_id=self.id, bucket=limits.CONVERSATION,
                             campaign_id=job.campaign_id, enrollment_id=job.enrollment_id)
        crashpoints.reached("claimed")
        times = self.lanes.times
        if had_ledger is None:
            times[lane].add(now)
        if opens:
            times.setdefault((limits.CONVERSATION, None), ActionTimes()).add(now)
        if not self._in_flight:
            self._idle = trio.Event()
        self._in_flight += 1
        try:
            adapter = self.email if job.channel == "email" else self.linkedin
            outcome = await adapter.perform(job)
            crashpoints.reached("performed")
            self._apply(lane, job, info, had_ledger, outcome)
            crashpoints.reached("settled")
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _precheck_message(self, row: dict, info: CampaignInfo, now: datetime) -> str | None:
        """Monthly conversation limit and "skip contacts with prior conversations", before a first message."""
        if has_conversation(self.db, self.id, row["contact_id"], "linkedin"):
            return None
        rules = self.lanes.li_rules.get(limits.CONVERSATION)
        if rules:
            conv = self.lanes.times.setdefault((limits.CONVERSATION, None), ActionTimes())
            ready = limits.earliest_allowed(rules, conv, now, self.lanes.hours)
            if ready > now:
                self._defer(row, info, ready, Substatus.MONTHLY_CONVERSATION_LIMIT, now)
                return "monthly conversation limit"
        if info.settings.get("skip_prior_conversations"):
            if await self.linkedin.driver.has_prior_conversation(lead_ref(row)):
                with transaction(self.db):
                    rows = lead_rows(self.db, [row["enrollment_id"]])
                    if rows:
                        advance(self.db, info, rows[0], Blocked(), self.clock.now(), identity_id=self.id)
                return "prior conversation with this contact"
        return None

    def _defer(self, row: dict, info: CampaignInfo, until: datetime, why: Substatus, now: datetime) -> None:
        """Put the lead back in the due index until `until` (same attempt: the same outbox key revives)."""
        state = decode_state(row["lead_state"])
        state = msgspec.structs.replace(state, phase="due", due_at=until, substatus=why)
        with transaction(self.db):
            save_columns(self.db, row["enrollment_id"],
                         {"state": encode(state), "substatus": why.value, "due_at": projected_due(state)}, now)
        actor = self.campaigns.get(row["campaign_id"])
        if actor is not None:
            actor.wake()

    # -- outcomes ------------------------------------------------------------------

    def _apply(self, lane: Lane, job: outbox.Claimed, info: CampaignInfo, had_ledger: datetime | None,
               outcome: Outcome) -> None:
        match outcome:
            case Done(external_id, reconciled, member):
                self._succeeded(lane, job, info, external_id, reconciled, had_ledger, member)
            case Requeue(error, until, cap):
                self._requeue(lane, job, error, had_ledger, until, cap)
            case DeferLead(error, until, substatus):
                self._defer_job(lane, job, until, substatus, error, had_ledger)
            case FailLead(error, substatus, retry_at):
                self._fail_lead(lane, job, substatus, error, had_ledger, retry_at=retry_at)
            case Unknown(error, first_wait):
                self._outcome_unknown(lane, job, error, had_ledger, first_wait=first_wait)
            case Bounced(error):
                self._bounced(lane, job, error, had_ledger)
            case LinkedInLost(error, disconnected, substatus):
                self._linkedin_lost(lane, job, error, disconnected, substatus, had_ledger)
            case InboxLost(error):
                self._inbox_lost(lane, job, error, had_ledger)

    def _succeeded(self, lane: Lane, job: outbox.Claimed, info: CampaignInfo, external_id: str | None,
                   reconciled: bool, had_ledger: datetime | None, member: str | None = None) -> None:
        now = self.clock.now()
        with transaction(self.db):
            if had_ledger is not None and not reconciled:
                # an unknown attempt that had not happened after all: it happens now
                restamp(self.db, job.id, now)
            outbox.mark_sent(self.db, job, now, external_id)
            record_side(self.db, job, identity_id=self.id, now=now, external_id=external_id, member=member)
            queued, due = settle(self.db, info, job, ActionDone(node=job.node, at=now), now, identity_id=self.id,
                                 detail={"reconciled": True} if reconciled else None)
        if had_ledger is not None and not reconciled:
            self.lanes.times[lane].remove(had_ledger)
            self.lanes.times[lane].add(now)
        self.lanes.paced(lane, now)
        self._settled(job.campaign_id, queued, due)

    def _settled(self, campaign_id: int, queued: list[QueuedJob], due: str | None) -> None:
        """After a settle's commit: file the jobs its step queued, tell the campaign actor when the lead is due."""
        for q in queued:
            self.file(q)
        actor = self.campaigns.get(campaign_id)
        if actor is not None:
            actor.lead_due(due)

    def _requeue(self, lane: Lane, job: outbox.Claimed, error: str, had_ledger: datetime | None,
                 until: datetime, cap: str | None = None) -> None:
        now = self.clock.now()
        with transaction(self.db):
            if had_ledger is None:
                outbox.release(self.db, job, now, state="queued", error=error)
            else:
                outbox.mark_unknown(self.db, job, now, error)
        if had_ledger is None:
            self.lanes.times[lane].remove(job.claimed_at)
        self.lanes.backoff[lane] = until
        if cap is not None:
            self.lanes.provider_cap[lane] = cap
        else:
            self.lanes.provider_cap.pop(lane, None)
        self.file(QueuedJob(job.id, job.campaign_id, job.bucket, job.inbox_id, job.sort_key),
                  key=UNKNOWN_FIRST if had_ledger is not None else None)

    def _defer_job(self, lane: Lane, job: outbox.Claimed, until: datetime, why: Substatus, error: str,
                   had_ledger: datetime | None) -> None:
        now = self.clock.now()
        with transaction(self.db):
            outbox.release(self.db, job, now, state="cancelled", error=error)
        if had_ledger is None:
            self.lanes.times[lane].remove(job.claimed_at)
        if job.node is None:
            return  # a reply by hand: the user sees its error in the thread; the lead is not stepped
        lead = lead_state(self.db, job.enrollment_id)
        info = self.campaign_info(job.campaign_id)
        if lead is not None and info is not None:
            self._defer({"lead_state": lead.state, "campaign_id": lead.campaign_id, "enrollment_id": job.enrollment_id},
                        info, until, why, now)

    def _fail_lead(self, lane: Lane, job: outbox.Claimed, substatus: Substatus | None, error: str,
                   had_ledger: datetime | None, retry_at: datetime | None = None) -> None:
        """The lead's step failed: Error with the substatus, or (retry_at) re-issued then by the
        step function, whose retry budget ends in Error."""
        now = self.clock.now()
        info = self.campaign_info(job.campaign_id)
        event = failed(job.node, substatus)
        if retry_at is not None:
            event = msgspec.structs.replace(event, retryable=True, retry_at=retry_at)
        with transaction(self.db):
            outbox.release(self.db, job, now, state="failed", error=error)
            queued, due = settle(self.db, info, job, event, now, identity_id=self.id) if info else ([], None)
        self.lanes.times[lane].remove(had_ledger or job.claimed_at)
        self._settled(job.campaign_id, queued, due)

    def _outcome_unknown(self, lane: Lane, job: outbox.Claimed, error: str, had_ledger: datetime | None, *,
                         first_wait: timedelta) -> None:
        """The action may have happened. The row stays `unknown` (its ledger entry too: caps stay
        conservative) so the next try looks up before sending; waits double from `first_wait`;
        after UNKNOWN_ROUNDS in a row the lead goes to Error "System error" instead of looping
        forever on a server that never answers."""
        now = self.clock.now()
        rounds = self.unknown_rounds[job.id] = self.unknown_rounds.get(job.id, 0) + 1
        if rounds > UNKNOWN_ROUNDS:
            self.unknown_rounds.pop(job.id, None)
            self._fail_lead(lane, job, Substatus.SYSTEM_ERROR, error, had_ledger)
            return
        with transaction(self.db):
            outbox.mark_unknown(self.db, job, now, error)
        self.lanes.backoff[lane] = now + first_wait * 2 ** (rounds - 1)
        self.file(QueuedJob(job.id, job.campaign_id, job.bucket, job.inbox_id, UNKNOWN_FIRST), key=UNKNOWN_FIRST)

    def _bounced(self, lane: Lane, job: outbox.Claimed, error: str, had_ledger: datetime | None) -> None:
        """Refused at RCPT: nothing went out, the address is dead."""
        now = self.clock.now()
        info = self.campaign_info(job.campaign_id)
        with transaction(self.db):
            outbox.release(self.db, job, now, state="failed", error=error)
            queued, due = settle(self.db, info, job, BouncedEvent(hard=True), now, identity_id=self.id) \
                if info else ([], None)
        self.lanes.times[lane].remove(had_ledger or job.claimed_at)
        self._settled(job.campaign_id, queued, due)

    def _linkedin_lost(self, lane: Lane, job: outbox.Claimed, error: str, disconnected: bool,
                       substatus: Substatus | None, had_ledger: datetime | None) -> None:
        """The account is disconnected or restricted: the whole LinkedIn queue stops."""
        now = self.clock.now()
        with transaction(self.db):
            linkedin_lost(self.db, self.id, disconnected=disconnected, why=error, now=now)  # the user sees why
        self.halted.add("linkedin")
        if disconnected:
            # every lead whose job needs the account errors with the same reason, now and until
            # the user reconnects (restarting this actor) and retries them
            self.linkedin_gone = True
            self._fail_lead(lane, job, substatus, error, had_ledger)
            self._fail_lanes(LINKEDIN_LANES, self._lost)
        else:
            self._requeue(lane, job, error, had_ledger, now)

    def _inbox_lost(self, lane: Lane, job: outbox.Claimed, error: str, had_ledger: datetime | None) -> None:
        """The inbox's credentials stopped working: it is disconnected, its lane goes, and every lead
        queued on it errors (spec: only reconnecting that inbox fixes them)."""
        set_connected(self.db, job.inbox_id, False, now=iso(self.clock.now()))
        self.lanes.inboxes.pop(job.inbox_id, None)
        self._fail_lead(lane, job, Substatus.EMAIL_DISCONNECTED, error, had_ledger)
        self._fail_lanes((limits.EMAIL,), self._lost)
