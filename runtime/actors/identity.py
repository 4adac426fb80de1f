"""IdentityActor: one per identity; owns its rate limits, working hours and two queues.

Queues (spec: "two execution queues"): LinkedIn — one action at a time for
the account, across the buckets visit / reaction / invitation / message /
InMail; email — each connected inbox is its own lane with its own caps.

Each lane (bucket, inbox) keeps the best `WINDOW` queued jobs in memory (a
`RankedWindow` over the outbox's `outbox_queue` index, refilled when it runs
dry), so a 5,000-lead backlog costs a few hundred small objects. A lane's
next action runs at the latest of: working hours open, every limit of its
bucket allows it (counted from the action ledger, loaded at start and
appended at each claim — a restart grants nothing), the pacing slot (the
day's allowance spread over the working day), and any back-off after a 429.
Among ready LinkedIn lanes the job with the smallest sort key runs (message
depth, then campaign priority, then the seeded tie-break).

One timer per queue: the loop sleeps until the earliest lane is ready or a
new job is filed.

Waiting leads say why (spec: substatuses "stay true while waiting"): when a
lane with queued jobs cannot run now, every lead queued in it shows Outside
working hours (closed now, or the next action falls after today's window) or
Identity limits (a cap of the lane's bucket is spent); it is cleared when the
lane runs again, and the lead's own step rewrites it when its job is done.
This is one UPDATE per lane per change of reason (or after new jobs were
filed into a waiting lane), never per lead per tick, so simulations keep their
speed. (Monthly conversation limit is per lead: `_precheck_message` defers.)
"""

from __future__ import annotations

import math
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Awaitable, Callable

import msgspec
import trio

from runtime import limits, outbox, pacing
from runtime.channels.email.protocol import EmailDisconnected, EmailError, OutgoingEmail
from runtime.channels.linkedin.protocol import Attachment, Disposition, GatewayUnavailable, InvitationCooldown, LeadRef, LimitReached, LinkedInError
from runtime.channels.base import SendKey
from runtime.leads import CampaignInfo, QueuedJob, advance, lead_rows, load_campaign
from runtime.limits import ActionTimes
from runtime.queue_order import RankedWindow
from runtime.results import LINKEDIN_MESSAGES, email_outcome, failed, has_conversation, record_side, settle
from runtime.working_hours import WorkingHours
from sequences.model import MOST_REACTED, Reaction
from sequences.statuses import Substatus
from sequences.step import ActionDone, Blocked, Bounced
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.db import transaction

if TYPE_CHECKING:
    from runtime.actors.campaign import CampaignActor
    from runtime.engine import Runtime

WINDOW = 128
LINKEDIN_LANES = (limits.VISIT, limits.REACT, limits.INVITE, limits.MESSAGE, limits.INMAIL)
UNKNOWN_ROUNDS = 5  # unknown outcomes in a row for one job before its lead goes to Error
GATEWAY_RETRY = timedelta(minutes=30)  # gateway down after the driver's retries: the lead tries again then
COOLDOWN_RETRY = timedelta(days=7)  # LinkedIn refused a re-invite (cooldown): ask again a week later
UNKNOWN_FIRST = -1  # sort key of jobs whose last attempt's outcome is unknown: settle them first

Lane = tuple[str, "int | None"]
# A queued lead's substatus the lane may overwrite: none, or one the lane itself wrote
# (a lead's own reason, e.g. Connection withdrawn, stays). Params: LANE_REASONS, the new one.
LANE_REASONS = (Substatus.OUTSIDE_WORKING_HOURS.value, Substatus.IDENTITY_LIMITS.value)
REPLACEABLE = "(substatus IS NULL OR substatus IN (?, ?)) AND substatus IS NOT ?"


class IdentityActor:
    def __init__(self, rt: "Runtime", row: dict) -> None:
        self.rt = rt
        self.db = rt.db
        self.row = row
        self.id: int = row["id"]
        self.hours = WorkingHours.of_identity(row)
        self.li_rules = limits.linkedin_rules(row)
        self.inboxes = {r["id"]: r for r in self.db.query(
            "SELECT * FROM inboxes WHERE identity_id = ? AND connected = 1 ORDER BY id", [self.id])}
        self.jobs_in, self._jobs_recv = trio.open_memory_channel(64)
        self.linkedin = rt.linkedin_driver(row)
        self.email = rt.email_driver(row)
        self._seed = f"{rt.seed}:identity:{self.id}"
        # Pacing draws, one generator per lane: the LinkedIn and email loops wake at the same
        # instant at opening time, and which runs first must not change either one's draws.
        self.rngs: dict[Lane, random.Random] = {}
        self.times: dict[Lane, ActionTimes] = {}
        self.windows: dict[Lane, RankedWindow[QueuedJob]] = {}
        self.slot: dict[Lane, datetime] = {}
        self.slot_win: dict[Lane, datetime] = {}
        self._ready: dict[Lane, tuple[datetime, tuple]] = {}  # ready_at's last answer and its fingerprint
        self._in_flight = 0  # actions claimed whose outcome is not recorded yet
        self._idle = trio.Event()
        self._idle.set()
        self.backoff: dict[Lane, datetime] = {}
        self.unknown_rounds: dict[int, int] = {}  # outbox id -> unknown outcomes in a row (this run)
        # a restricted account stays untouched across restarts until the user resumes it
        self.halted: set[str] = {"linkedin"} if row.get("linkedin_queue_paused") else set()
        self.campaigns: dict[int, "CampaignActor"] = {}
        self._work = {"linkedin": trio.Event(), "email": trio.Event()}
        # Queued jobs per (lane, campaign), counted now — before any campaign actor
        # of this identity can queue more — then kept up to date in memory.
        self.backlog: dict[tuple[Lane, int], int] = {}
        for r in self.db.execute("SELECT bucket, inbox_id, campaign_id, COUNT(*) FROM outbox WHERE identity_id = ?"
                                 " AND state = 'queued' GROUP BY 1, 2, 3", [self.id]).fetchall():
            self.backlog[((r[0], r[1] if r[0] == limits.EMAIL else None), r[2])] = r[3]
        self.cancel_scope = trio.CancelScope()
        # Tasks that live and die with this actor (its LinkedIn poller), started in its nursery.
        self.companions: list[Callable[[], Awaitable[None]]] = []
        self.waiting: dict[Lane, Substatus | None] = {}  # why each lane's queued leads wait (as written)
        self._waiting_dirty: dict[Lane, list[int]] = {}  # outbox ids filed since the lane's leads were marked

    # -- lanes and limits ---------------------------------------------------

    def lanes(self, queue: str) -> list[Lane]:
        if queue == "linkedin":
            return [(b, None) for b in LINKEDIN_LANES]
        return [(limits.EMAIL, i) for i in self.inboxes]

    def rules(self, lane: Lane) -> tuple[limits.Rule, ...]:
        bucket, inbox = lane
        if bucket == limits.EMAIL:
            return limits.email_rules(self.inboxes[inbox]) if inbox in self.inboxes else (limits.day(0),)
        return self.li_rules.get(bucket, ())

    def _load_ledger(self, now: datetime) -> None:
        lanes = self.lanes("linkedin") + self.lanes("email") + [(limits.CONVERSATION, None), (limits.EVALUATE, None)]
        for lane in lanes:
            rules = self.li_rules.get(lane[0], ()) if lane[0] != limits.EMAIL else self.rules(lane)
            since = limits.lookback(rules, self.hours, now) - timedelta(days=1)
            sql = "SELECT at FROM action_ledger WHERE identity_id = ? AND bucket = ? AND at >= ?"
            args: list = [self.id, lane[0], iso(since)]
            if lane[1] is not None:
                sql += " AND inbox_id = ?"
                args.append(lane[1])
            self.times[lane] = ActionTimes(datetime.fromisoformat(r[0]) for r in self.db.execute(sql, args))

    def ready_at(self, lane: Lane, now: datetime) -> datetime:
        """When this lane may run its next action (>= now).

        The answer for an earlier `now` still holds while it lies ahead and nothing of the
        lane changed (its action times, back-off, pacing slot): the earliest allowed instant
        after `now` is the same for any later `now` before it. Every pick asks this of every
        lane, so the answer is kept with a fingerprint of what it was computed from."""
        times = self.times.setdefault(lane, ActionTimes())
        cached = self._ready.get(lane)
        if cached is not None and cached[0] >= now and cached[1] == self._fingerprint(lane, times):
            return cached[0]
        ready = self._compute_ready_at(lane, now, times)
        self._ready[lane] = (ready, self._fingerprint(lane, times))
        return ready

    def _fingerprint(self, lane: Lane, times: ActionTimes) -> tuple:
        return (len(times.times), times.times[-1] if times.times else None, self.backoff.get(lane),
                self.slot.get(lane), self.slot_win.get(lane))

    def _compute_ready_at(self, lane: Lane, now: datetime, times: ActionTimes) -> datetime:
        rules = self.rules(lane)
        t = limits.earliest_allowed(rules, times, max(now, self.backoff.get(lane, now)), self.hours)
        win = self.hours.current_window(t)
        if win is not None and self.slot_win.get(lane) != win[0]:
            remaining = limits.remaining_today(rules, times, t, self.hours)
            self.slot[lane] = pacing.first_slot(win[0], win[1], remaining, self._rng(lane).random())
            self.slot_win[lane] = win[0]
        slot = self.slot.get(lane)
        return slot if slot is not None and slot > t else t

    def _rng(self, lane: Lane) -> random.Random:
        rng = self.rngs.get(lane)
        if rng is None:
            rng = self.rngs[lane] = random.Random(f"{self._seed}:{lane[0]}:{lane[1]}")
        return rng

    def _paced(self, lane: Lane, at: datetime) -> None:
        win = self.hours.current_window(at)
        if win is None:
            return
        remaining = limits.remaining_today(self.rules(lane), self.times[lane], at, self.hours)
        self.slot[lane] = pacing.next_slot(at, win[1], remaining, self._rng(lane).random(),
                                           pacing.retry_margin(win[0], win[1]))
        self.slot_win[lane] = win[0]

    # -- jobs in --------------------------------------------------------------

    def queue_of(self, bucket: str) -> str:
        return "email" if bucket == limits.EMAIL else "linkedin"

    def lane_of(self, job: QueuedJob) -> Lane:
        return (job.bucket, job.inbox_id if job.bucket == limits.EMAIL else None)

    def high_water(self, lane: Lane) -> int:
        """Queued jobs a campaign may keep in a lane: two days of its cap (enough to
        saturate the lane and still let the queue order choose), or 100."""
        cap = limits.day_cap(self.rules(lane))
        return max(2 * cap, 10) if cap else 100

    def has_room(self, campaign_id: int, pending: list[QueuedJob] = ()) -> bool:
        """May this campaign start more leads? Not while one of its lanes is at its high-water mark."""
        extra: dict[Lane, int] = {}
        for job in pending:
            extra[self.lane_of(job)] = extra.get(self.lane_of(job), 0) + 1
        for (lane, cid), n in self.backlog.items():
            if cid == campaign_id and n + extra.get(lane, 0) >= self.high_water(lane):
                return False
        return all(self.backlog.get((lane, campaign_id), 0) + n < self.high_water(lane) for lane, n in extra.items())

    def _count(self, job: QueuedJob, delta: int) -> None:
        k = (self.lane_of(job), job.campaign_id)
        n = self.backlog.get(k, 0) + delta
        self.backlog[k] = n
        if delta < 0 and n == self.high_water(k[0]) // 2:
            actor = self.campaigns.get(job.campaign_id)
            if actor is not None:
                actor.wake()

    def file(self, job: QueuedJob, key: int | None = None, new: bool = True) -> None:
        lane = self.lane_of(job)
        if new:
            self._count(job, +1)
        window = self.windows.get(lane)
        if window is None:
            window = self.windows[lane] = RankedWindow(WINDOW)
        had_head = window.peek() is not None
        window.offer(job.sort_key if key is None else key, job.outbox_id, job)
        if self.waiting.get(lane) is not None:
            # its lead must be told why the lane waits (the loop's next pick marks it)
            self._waiting_dirty.setdefault(lane, []).append(job.outbox_id)
        elif had_head:
            # The lane's ready time depends on the lane, not on its jobs: the loop, asleep
            # until then or busy, need not look again (a wake-up per filed job was
            # most of a large simulation's picks, all finding nothing to do).
            return
        self._work[self.queue_of(job.bucket)].set()

    def choose_inbox(self, row: dict) -> int | None:
        """A new email lead's inbox: the campaign's inboxes (or all), spread over them by lead (spec: Shuffle)."""
        info = self.campaigns.get(row["campaign_id"])
        wanted = (info.info.settings.get("inboxes") if info else None) or list(self.inboxes)
        usable = [i for i in wanted if i in self.inboxes]
        if not usable:
            return None
        # spread by lead, not by a turn counter: two campaign actors asking at the same
        # instant get the same answers whichever runs first, and a restart changes nothing
        return usable[row["id"] % len(usable)]

    def _refill(self, lane: Lane, window: RankedWindow) -> None:
        bucket, inbox = lane
        inbox_sql = "o.inbox_id = ?" if inbox is not None else "o.inbox_id IS NULL"
        args = [self.id, bucket] + ([inbox] if inbox is not None else []) + [window.capacity]
        rows = self.db.execute(
            "SELECT o.id, o.campaign_id, o.sort_key FROM outbox o JOIN campaigns k ON k.id = o.campaign_id"
            f" WHERE o.identity_id = ? AND o.bucket = ? AND {inbox_sql} AND o.state = 'queued'"
            " AND k.status = 'running' ORDER BY o.sort_key LIMIT ?", args).fetchall()
        unknown = self.db.execute(
            "SELECT o.id, o.campaign_id FROM outbox o JOIN campaigns k ON k.id = o.campaign_id"
            f" WHERE o.identity_id = ? AND o.bucket = ? AND {inbox_sql} AND o.state = 'unknown'"
            f" AND o.{outbox.PENDING_INDEX_TERM} AND k.status = 'running' LIMIT ?", args).fetchall()
        window.refill([(UNKNOWN_FIRST, r[0], QueuedJob(r[0], r[1], bucket, inbox, UNKNOWN_FIRST)) for r in unknown]
                      + [(r[2], r[0], QueuedJob(r[0], r[1], bucket, inbox, r[2])) for r in rows])

    def drop_campaign(self, campaign_id: int) -> None:
        """A campaign stopped: forget its jobs (they stay queued in the outbox)."""
        self.campaigns.pop(campaign_id, None)
        for w in self.windows.values():
            w.discard_where(lambda j: j.campaign_id == campaign_id)

    # -- running --------------------------------------------------------------

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        with self.cancel_scope:
            now = self.rt.clock.now()
            with transaction(self.db):
                outbox.recover(self.db, self.id, now)
            self._load_ledger(now)
            for queue in ("linkedin", "email"):
                for lane in self.lanes(queue):
                    self.windows.setdefault(lane, RankedWindow(WINDOW)).spilled = True
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
            if self.rt.stopping:  # a stop is draining: start nothing new, wait to be cancelled
                await trio.sleep_forever()
            self._work[queue] = trio.Event()
            now = self.rt.clock.now()
            pick, wake = self._pick(queue, now)
            if pick is not None:
                await self._execute(*pick)
                continue
            deadline = self.rt.clock.trio_deadline(wake) if wake is not None else math.inf
            with trio.move_on_at(deadline):
                await self._work[queue].wait()

    def _pick(self, queue: str, now: datetime) -> tuple[tuple[Lane, QueuedJob] | None, datetime | None]:
        if queue in self.halted:
            return None, None
        best: tuple[int, Lane] | None = None
        wake: datetime | None = None
        for lane in self.lanes(queue):
            if f"{queue}:{lane[1]}" in self.halted:
                continue
            window = self.windows.setdefault(lane, RankedWindow(WINDOW))
            if window.needs_refill():
                self._refill(lane, window)
            head = window.peek()
            if head is None:
                continue
            t = self.ready_at(lane, now)
            if t <= now:
                if self.waiting.get(lane) is not None:
                    self._mark_waiting(lane, None)
                if best is None or head[0] < best[0]:
                    best = (head[0], lane)
            else:
                why = self._why_waiting(lane, now, t)
                if why is not self.waiting.get(lane):
                    self._mark_waiting(lane, why)
                elif why is not None and lane in self._waiting_dirty:
                    self._mark_filed(lane, why)
                if wake is None or t < wake:
                    wake = t
        if best is None:
            return None, wake
        lane = best[1]
        return (lane, self.windows[lane].pop()), None

    # -- why queued leads wait -------------------------------------------------

    def _why_waiting(self, lane: Lane, now: datetime, ready: datetime) -> Substatus | None:
        """Closed now, or the lane's next action falls after today's window: Outside working
        hours; a day or month cap spent: Identity limits (the spec: "the identity has reached
        its daily … limits"); only pacing, spacing, an hourly window or a back-off: nothing
        to say — those are minutes, and marking them would rewrite the lane's leads twice
        per action."""
        win = self.hours.current_window(now)
        if win is None:
            return Substatus.OUTSIDE_WORKING_HOURS
        if limits.calendar_cap_spent(self.rules(lane), self.times.setdefault(lane, ActionTimes()), now, self.hours):
            return Substatus.IDENTITY_LIMITS
        return Substatus.OUTSIDE_WORKING_HOURS if ready >= win[1] else None

    def _mark_waiting(self, lane: Lane, why: Substatus | None) -> None:
        """One UPDATE for every in-progress lead queued in this lane (see the module docstring).
        Only a lead with no substatus or one of these two is touched, so a lead's own
        reason (e.g. Connection withdrawn) is never overwritten."""
        bucket, inbox = lane
        old = self.waiting.get(lane)
        self.waiting[lane] = why
        self._waiting_dirty.pop(lane, None)
        inbox_sql = "inbox_id = ?" if inbox is not None else "inbox_id IS NULL"
        lane_args = [self.id, bucket] + ([inbox] if inbox is not None else [])
        if why is None:
            if old is None:
                return
            sql, args = "substatus = ?", [old.value]
        else:
            sql, args = REPLACEABLE, [*LANE_REASONS, why.value]
        with transaction(self.db):
            self.db.execute(
                f"UPDATE enrollments SET substatus = ? WHERE status = 'in_progress' AND {sql} AND id IN"
                f" (SELECT enrollment_id FROM outbox WHERE identity_id = ? AND bucket = ? AND {inbox_sql}"
                " AND state = 'queued')", [why.value if why else None, *args, *lane_args])

    def _mark_filed(self, lane: Lane, why: Substatus) -> None:
        """Jobs filed into a lane that already waits: only their leads get its reason (the
        rest of the lane says it already; rewriting all of them per new job was the cost)."""
        ids = self._waiting_dirty.pop(lane)
        for chunk in range(0, len(ids), 500):
            part = ids[chunk:chunk + 500]
            with transaction(self.db):
                self.db.execute(
                    f"UPDATE enrollments SET substatus = ? WHERE status = 'in_progress' AND {REPLACEABLE} AND id IN"
                    f" (SELECT enrollment_id FROM outbox WHERE id IN ({','.join('?' * len(part))}) AND state = 'queued')",
                    [why.value, *LANE_REASONS, why.value, *part])

    # -- one job ----------------------------------------------------------------

    def campaign_info(self, campaign_id: int) -> CampaignInfo | None:
        actor = self.campaigns.get(campaign_id)
        if actor is not None:
            return actor.info
        row = load_campaign(self.db, campaign_id)
        return CampaignInfo.of(row) if row else None

    async def _execute(self, lane: Lane, qjob: QueuedJob) -> None:
        now = self.rt.clock.now()
        row = outbox.load(self.db, qjob.outbox_id)
        if row is None or row["state"] not in ("queued", "unknown"):
            return
        self._count(qjob, -1)  # it leaves the queue now: sent, cancelled, or filed again below
        info = self.campaign_info(row["campaign_id"])
        reason = outbox.why_not(row) if info is not None else "campaign gone"
        if reason is None and row["action"] in LINKEDIN_MESSAGES and row["state"] == "queued":
            reason = await self._precheck_message(row, info, now)
            now = self.rt.clock.now()
            row = outbox.load(self.db, qjob.outbox_id)
            if row is None or row["state"] not in ("queued", "unknown"):
                return
            reason = reason or outbox.why_not(row)
        if reason is not None:
            with transaction(self.db):
                outbox.cancel(self.db, row["id"], reason, now)
            return
        if self.rt.stopping:
            return  # a stop began while this job was being checked: it stays queued for the next start
        sender = self.inboxes.get(row["inbox_id"], {}).get("email") if row["inbox_id"] else None
        with transaction(self.db):
            had_ledger = outbox.ledger_time(self.db, row["id"])
            job = outbox.claim(self.db, row, identity_id=self.id, now=now, counted=had_ledger, sender=sender)
            opens = (row["action"] in LINKEDIN_MESSAGES and limits.CONVERSATION in self.li_rules
                     and not has_conversation(self.db, self.id, row["contact_id"], "linkedin"))
            if opens:
                self.db.execute("INSERT INTO action_ledger (at, identity_id, bucket, campaign_id, enrollment_id,"
                                " outbox_id) VALUES (?, ?, ?, ?, ?, NULL)",
                                [iso(now), self.id, limits.CONVERSATION, job.campaign_id, job.enrollment_id])
        if had_ledger is None:
            self.times[lane].add(now)
        if opens:
            self.times.setdefault((limits.CONVERSATION, None), ActionTimes()).add(now)
        if not self._in_flight:
            self._idle = trio.Event()
        self._in_flight += 1
        try:
            try:
                external_id, reconciled = await self._perform(job)
            except LinkedInError as exc:
                self._linkedin_failed(lane, job, exc, had_ledger)
            except EmailError as exc:
                self._email_failed(lane, job, exc, had_ledger)
            else:
                self._succeeded(lane, job, info, external_id, reconciled, had_ledger)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _precheck_message(self, row: dict, info: CampaignInfo, now: datetime) -> str | None:
        """Monthly conversation limit and "skip contacts with prior conversations", before a first message."""
        if has_conversation(self.db, self.id, row["contact_id"], "linkedin"):
            return None
        rules = self.li_rules.get(limits.CONVERSATION)
        if rules:
            conv = self.times.setdefault((limits.CONVERSATION, None), ActionTimes())
            ready = limits.earliest_allowed(rules, conv, now, self.hours)
            if ready > now:
                self._defer(row, info, ready, Substatus.MONTHLY_CONVERSATION_LIMIT, now)
                return "monthly conversation limit"
        if info.settings.get("skip_prior_conversations"):
            if await self.linkedin.has_prior_conversation(self._lead_ref(row)):
                with transaction(self.db):
                    rows = lead_rows(self.db, [row["enrollment_id"]])
                    if rows:
                        advance(self.db, info, rows[0], Blocked(), self.rt.clock.now(), identity_id=self.id)
                return "prior conversation with this contact"
        return None

    def _defer(self, row: dict, info: CampaignInfo, until: datetime, why: Substatus, now: datetime) -> None:
        """Put the lead back in the due index until `until` (same attempt: the same outbox key revives)."""
        from runtime.leads import decode_state, encode, projected_due

        state = decode_state(row["lead_state"])
        state = msgspec.structs.replace(state, phase="due", due_at=until, substatus=why)
        with transaction(self.db):
            self.db.execute("UPDATE enrollments SET state = ?, substatus = ?, due_at = ?, updated_at = ? WHERE id = ?",
                            [encode(state), why.value, projected_due(state), iso(now), row["enrollment_id"]])
        actor = self.campaigns.get(row["campaign_id"])
        if actor is not None:
            actor.wake()

    def _lead_ref(self, row) -> LeadRef:
        url = row["linkedin_url"] if isinstance(row, dict) else row.linkedin_url
        pid = row["linkedin_id"] if isinstance(row, dict) else row.linkedin_id
        slug = url.rstrip("/").rsplit("/", 1)[-1] if url else None
        return LeadRef(provider_id=pid or None, public_id=slug or None)

    async def _perform(self, job: outbox.Claimed) -> tuple[str | None, bool]:
        """The one network call. Returns (external id, reconciled)."""
        p = job.payload
        if job.channel == "email":
            inbox = self.inboxes.get(job.inbox_id)
            if inbox is None:
                raise EmailDisconnected("the inbox that started this conversation is not connected")
            thread = self.db.execute(
                "SELECT message_id FROM outbox WHERE enrollment_id = ? AND channel = 'email' AND state = 'sent'"
                " ORDER BY id DESC LIMIT 1", [job.enrollment_id]).fetchone() if p.get("thread") else None
            sent = await self.email.send(OutgoingEmail(
                inbox_id=inbox["id"], sender=inbox["email"], to=job.email or "", subject=p.get("subject", ""),
                text=p.get("text", ""), html=p.get("html", ""), message_id=job.message_id or "",
                in_reply_to=thread[0] if thread else None), SendKey(job.key, job.first_attempt_at, job.resumed))
            return sent.message_id, sent.reconciled
        lead = self._lead_ref(job)
        key = SendKey(job.key, job.first_attempt_at, job.resumed)
        d = self.linkedin
        if job.action == "visit_profile":
            prof = await d.visit_profile(lead)
            return prof.provider_id, False
        if job.action == "react_to_post":
            r = p.get("reaction") or "like"
            res = await d.react_to_last_post(lead, None if r == MOST_REACTED else Reaction(r))
            return res.post_id, False
        if job.action == "connection_request":
            inv = await d.send_invitation(lead, p.get("note") or None, key)
            return inv.invitation_id, inv.reconciled
        if job.action == "linkedin_message":
            sent = await d.send_message(lead, list(p.get("chunks") or ()), key)
        elif job.action == "inmail":
            sent = await d.send_inmail(lead, p.get("subject", ""), p.get("text", ""), key)
        elif job.action == "linkedin_attachment":
            sent = await d.send_attachment(lead, p.get("text") or None, _attachment(p.get("file", "")), key)
        elif job.action == "voice_message":
            sent = await d.send_voice_message(lead, _attachment(p.get("file", "")), key)
        else:
            raise ValueError(f"not a channel action: {job.action}")
        return sent.chat_id, sent.reconciled

    # -- outcomes ------------------------------------------------------------------

    def _succeeded(self, lane: Lane, job: outbox.Claimed, info: CampaignInfo, external_id: str | None,
                   reconciled: bool, had_ledger: datetime | None) -> None:
        now = self.rt.clock.now()
        with transaction(self.db):
            if had_ledger is not None and not reconciled:
                # an unknown attempt that had not happened after all: it happens now
                self.db.execute("UPDATE action_ledger SET at = ? WHERE outbox_id = ?", [iso(now), job.id])
            outbox.mark_sent(self.db, job, now, external_id)
            record_side(self.db, job, identity_id=self.id, now=now, external_id=external_id)
            queued, due = settle(self.db, info, job, ActionDone(node=job.node, at=now), now, identity_id=self.id,
                                 detail={"reconciled": True} if reconciled else None)
        if had_ledger is not None and not reconciled:
            self.times[lane].remove(had_ledger)
            self.times[lane].add(now)
        self._paced(lane, now)
        self._settled(job.campaign_id, queued, due)
        self.rt.on_sent(self, job, now)

    def _settled(self, campaign_id: int, queued: list[QueuedJob], due: str | None) -> None:
        """After a settle's commit: file the jobs its step queued, tell the campaign actor when the lead is due."""
        for q in queued:
            self.file(q)
        actor = self.campaigns.get(campaign_id)
        if actor is not None:
            actor.lead_due(due)

    def _requeue(self, lane: Lane, job: outbox.Claimed, error: str, had_ledger: datetime | None,
                 until: datetime) -> None:
        now = self.rt.clock.now()
        with transaction(self.db):
            if had_ledger is None:
                outbox.release(self.db, job, now, state="queued", error=error)
            else:
                self.db.execute("UPDATE outbox SET state = 'unknown', error = ?, updated_at = ? WHERE id = ?",
                                [error, iso(now), job.id])
        if had_ledger is None:
            self.times[lane].remove(self._claimed_at(job))
        self.backoff[lane] = until
        self.file(QueuedJob(job.id, job.campaign_id, job.bucket, job.inbox_id, job.sort_key),
                  key=UNKNOWN_FIRST if had_ledger is not None else None)

    def _claimed_at(self, job: outbox.Claimed) -> datetime:
        return job.claimed_at

    def _defer_job(self, lane: Lane, job: outbox.Claimed, until: datetime, why: Substatus, error: str,
                   had_ledger: datetime | None) -> None:
        now = self.rt.clock.now()
        with transaction(self.db):
            outbox.release(self.db, job, now, state="cancelled", error=error)
        if had_ledger is None:
            self.times[lane].remove(job.claimed_at)
        row = self.db.execute("SELECT state AS lead_state, campaign_id FROM enrollments WHERE id = ?",
                              [job.enrollment_id]).fetchone()
        info = self.campaign_info(job.campaign_id)
        if row is not None and info is not None:
            self._defer({"lead_state": row[0], "campaign_id": row[1], "enrollment_id": job.enrollment_id},
                        info, until, why, now)

    def _fail_lead(self, lane: Lane, job: outbox.Claimed, substatus: Substatus | None, error: str,
                   had_ledger: datetime | None, retry_at: datetime | None = None) -> None:
        """The lead's step failed: Error with the substatus, or (retry_at) re-issued then by the
        step function, whose retry budget ends in Error."""
        now = self.rt.clock.now()
        info = self.campaign_info(job.campaign_id)
        event = failed(job.node, substatus)
        if retry_at is not None:
            event = msgspec.structs.replace(event, retryable=True, retry_at=retry_at)
        with transaction(self.db):
            outbox.release(self.db, job, now, state="failed", error=error)
            queued, due = settle(self.db, info, job, event, now, identity_id=self.id) if info else ([], None)
        self.times[lane].remove(had_ledger or self._claimed_at(job))
        self._settled(job.campaign_id, queued, due)

    def _linkedin_failed(self, lane: Lane, job: outbox.Claimed, exc: LinkedInError,
                         had_ledger: datetime | None) -> None:
        now = self.rt.clock.now()
        d = exc.disposition
        if d is Disposition.RETRY_LATER:
            if isinstance(exc, InvitationCooldown):
                # this person cannot be invited yet: only this lead waits, the lane goes on
                self._defer_job(lane, job, now + COOLDOWN_RETRY, Substatus.CONNECTION_WITHDRAWN, str(exc), had_ledger)
                return
            if isinstance(exc, GatewayUnavailable):
                # the driver's own retries are spent: the lead retries later (its attempts are
                # budgeted by the step function, then Error "System error"); the lane goes on
                retry = now + max(timedelta(seconds=exc.retry_after or 0), GATEWAY_RETRY)
                self._fail_lead(lane, job, exc.substatus, str(exc), had_ledger, retry_at=retry)
                return
            wait = self.hours.next_day_start(now) if isinstance(exc, LimitReached) else \
                now + timedelta(seconds=exc.retry_after or 60)
            self._requeue(lane, job, str(exc), had_ledger, wait)
        elif d is Disposition.OUTCOME_UNKNOWN:
            # The gateway keeps failing (5xx, lost answers) after the driver's retries.
            self._outcome_unknown(lane, job, str(exc), had_ledger, first_wait=timedelta(minutes=5))
        elif d is Disposition.LEAD_ERROR:
            self._fail_lead(lane, job, exc.substatus, str(exc), had_ledger)
        else:  # the account is disconnected or restricted: the whole LinkedIn queue stops
            column = "linkedin_connected = 0" if d is Disposition.IDENTITY_DISCONNECTED else "linkedin_queue_paused = 1"
            with transaction(self.db):
                self.db.execute(f"UPDATE identities SET {column}, updated_at = ? WHERE id = ?", [iso(now), self.id])
                record(self.db, kind=Kind.IDENTITY_EDITED, now=now, identity_id=self.id, actor="runtime",
                       detail={"changed": [column.split()[0]], "why": str(exc)})  # the user sees why
            if d is Disposition.IDENTITY_DISCONNECTED:
                self._fail_lead(lane, job, exc.substatus, str(exc), had_ledger)
            else:
                self._requeue(lane, job, str(exc), had_ledger, now)
            self.halted.add("linkedin")

    def _outcome_unknown(self, lane: Lane, job: outbox.Claimed, error: str, had_ledger: datetime | None, *,
                         first_wait: timedelta) -> None:
        """The action may have happened. The row stays `unknown` (its ledger entry too: caps stay
        conservative) so the next try looks up before sending; waits double from `first_wait`;
        after UNKNOWN_ROUNDS in a row the lead goes to Error "System error" instead of looping
        forever on a server that never answers."""
        now = self.rt.clock.now()
        rounds = self.unknown_rounds[job.id] = self.unknown_rounds.get(job.id, 0) + 1
        if rounds > UNKNOWN_ROUNDS:
            self.unknown_rounds.pop(job.id, None)
            self._fail_lead(lane, job, Substatus.SYSTEM_ERROR, error, had_ledger)
            return
        with transaction(self.db):
            outbox.mark_unknown(self.db, job, now, error)
        self.backoff[lane] = now + first_wait * 2 ** (rounds - 1)
        self.file(QueuedJob(job.id, job.campaign_id, job.bucket, job.inbox_id, UNKNOWN_FIRST), key=UNKNOWN_FIRST)

    def _email_failed(self, lane: Lane, job: outbox.Claimed, exc: EmailError, had_ledger: datetime | None) -> None:
        now = self.rt.clock.now()
        outcome = email_outcome(exc)
        if outcome == "bounced":  # refused at RCPT: nothing went out, the address is dead
            info = self.campaign_info(job.campaign_id)
            with transaction(self.db):
                outbox.release(self.db, job, now, state="failed", error=str(exc))
                queued, due = settle(self.db, info, job, Bounced(hard=True), now, identity_id=self.id) \
                    if info else ([], None)
            self.times[lane].remove(had_ledger or self._claimed_at(job))
            self._settled(job.campaign_id, queued, due)
            return
        if outcome == "unknown":  # maybe sent: keep the ledger entry, settle by look-up in Sent first
            self._outcome_unknown(lane, job, str(exc), had_ledger,
                                  first_wait=timedelta(seconds=exc.retry_after or 60))
            return
        if outcome == "disconnected":
            with transaction(self.db):
                self.db.execute("UPDATE inboxes SET connected = 0, updated_at = ? WHERE id = ?", [iso(now), job.inbox_id])
            self._fail_lead(lane, job, Substatus.EMAIL_DISCONNECTED, str(exc), had_ledger)
            self.halted.add(f"email:{job.inbox_id}")
            return
        self._requeue(lane, job, str(exc), had_ledger, now + timedelta(seconds=exc.retry_after or 60))


def _attachment(path: str) -> Attachment:
    p = Path(path) if path else None
    data = p.read_bytes() if p is not None and p.is_file() else b""
    return Attachment(filename=p.name if p else "attachment", content=data)
