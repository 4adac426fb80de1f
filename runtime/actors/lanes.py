"""An identity's lanes: which queued job may run next, and when.

A lane is a (bucket, inbox) pair: the LinkedIn buckets (visit, reaction,
invitation, message, InMail) share the account, and each connected inbox is
its own email lane with its own caps. Each lane keeps the best `WINDOW`
queued jobs in memory (a `RankedWindow` over the outbox's `outbox_queue`
index, refilled when it runs dry), so a 5,000-lead backlog costs a few
hundred small objects.

A lane's next action runs at the latest of: working hours open, every limit
of its bucket allows it (counted from the action ledger, loaded at start and
appended at each claim — a restart grants nothing), the pacing slot (the
day's allowance spread over the working day), and any back-off after a 429.
Among ready lanes of a queue the job with the smallest sort key runs (message
depth, then campaign priority, then the seeded tie-break).

This module decides; it sends nothing and writes nothing but through the
`WaitingReasons` it is given (what queued leads are told while a lane waits).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from runtime import limits, pacing
from runtime.channels.email.choice import InboxSlot
from runtime.leads import QueuedJob
from runtime.limits import ActionTimes
from runtime.queue_order import RankedWindow
from sequences.working_hours import WorkingHours
from storage import lanes as storage_lanes

if TYPE_CHECKING:
    import sqlite_utils

    from runtime.actors.waiting import WaitingReasons

WINDOW = 128
LINKEDIN_LANES = (limits.VISIT, limits.REACT, limits.INVITE, limits.MESSAGE, limits.INMAIL)
UNKNOWN_FIRST = -1  # sort key of jobs whose last attempt's outcome is unknown: settle them first

Lane = tuple[str, "int | None"]


def queue_of(bucket: str) -> str:
    return "email" if bucket == limits.EMAIL else "linkedin"


def lane_of(job: QueuedJob) -> Lane:
    return (job.bucket, job.inbox_id if job.bucket == limits.EMAIL else None)


class Lanes:
    def __init__(self, db: "sqlite_utils.Database", identity: dict, inboxes: dict[int, dict], seed: str) -> None:
        self.db = db
        self.id: int = identity["id"]
        self.hours = WorkingHours.of_identity(identity)
        self.li_rules = limits.linkedin_rules(identity)
        self.inboxes = inboxes
        self._seed = seed
        # Pacing draws, one generator per lane: the LinkedIn and email loops wake at the same
        # instant at opening time, and which runs first must not change either one's draws.
        self.rngs: dict[Lane, random.Random] = {}
        self.times: dict[Lane, ActionTimes] = {}
        self.windows: dict[Lane, RankedWindow[QueuedJob]] = {}
        self.slot: dict[Lane, datetime] = {}
        self.slot_win: dict[Lane, datetime] = {}
        self._ready: dict[Lane, tuple[datetime, tuple]] = {}  # ready_at's last answer and its fingerprint
        self.backoff: dict[Lane, datetime] = {}
        self.provider_cap: dict[Lane, str] = {}  # a cap the provider said is spent, for the back-off's length
        # Queued jobs per (lane, campaign), counted now — before any campaign actor
        # of this identity can queue more — then kept up to date in memory.
        self.backlog: dict[tuple[Lane, int], int] = {}
        for r in storage_lanes.queued_per_lane(db, self.id):
            self.backlog[((r.bucket, r.inbox_id if r.bucket == limits.EMAIL else None), r.campaign_id)] = r.queued

    # -- limits -----------------------------------------------------------------

    def lanes(self, queue: str) -> list[Lane]:
        if queue == "linkedin":
            return [(b, None) for b in LINKEDIN_LANES]
        return [(limits.EMAIL, i) for i in self.inboxes]

    def rules(self, lane: Lane) -> tuple[limits.Rule, ...]:
        bucket, inbox = lane
        if bucket == limits.EMAIL:
            return limits.email_rules(self.inboxes[inbox]) if inbox in self.inboxes else (limits.day(0),)
        return self.li_rules.get(bucket, ())

    def start(self, now: datetime) -> None:
        """Load the ledger's recent actions per lane; every window reads its jobs on first use."""
        lanes = self.lanes("linkedin") + self.lanes("email") + [(limits.CONVERSATION, None), (limits.EVALUATE, None)]
        for lane in lanes:
            rules = self.li_rules.get(lane[0], ()) if lane[0] != limits.EMAIL else self.rules(lane)
            since = limits.lookback(rules, self.hours, now) - timedelta(days=1)
            self.times[lane] = ActionTimes(storage_lanes.ledger_times(self.db, self.id, lane[0], lane[1], since))
        for queue in ("linkedin", "email"):
            for lane in self.lanes(queue):
                self.windows.setdefault(lane, RankedWindow(WINDOW)).spilled = True

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

    def paced(self, lane: Lane, at: datetime) -> None:
        """An action ran at `at`: the lane's next slot spreads what is left of today's allowance."""
        win = self.hours.current_window(at)
        if win is None:
            return
        remaining = limits.remaining_today(self.rules(lane), self.times[lane], at, self.hours)
        self.slot[lane] = pacing.next_slot(at, win[1], remaining, self._rng(lane).random(),
                                           pacing.retry_margin(win[0], win[1]))
        self.slot_win[lane] = win[0]

    def inbox_slots(self, now: datetime, pending: list[QueuedJob] = ()) -> list[InboxSlot]:
        """Each connected inbox with the sends its day cap still allows today beyond the jobs
        already queued for it, `pending` ones (stepped, not yet filed) included — for the inbox
        choice: a lead given an inbox with room goes today."""
        queued: dict[Lane, int] = {}
        for (lane, _campaign), n in self.backlog.items():
            queued[lane] = queued.get(lane, 0) + n
        for job in pending:
            queued[lane_of(job)] = queued.get(lane_of(job), 0) + 1
        slots = []
        for inbox in self.inboxes:
            lane = (limits.EMAIL, inbox)
            left = limits.remaining_today(self.rules(lane), self.times.setdefault(lane, ActionTimes()), now, self.hours)
            slots.append(InboxSlot(inbox, True, None if left is None else left - queued.get(lane, 0)))
        return slots

    # -- the backlog: how much a campaign may queue ------------------------------

    def high_water(self, lane: Lane) -> int:
        """Queued jobs a campaign may keep in a lane: two days of its cap (enough to
        saturate the lane and still let the queue order choose), or 100."""
        cap = limits.day_cap(self.rules(lane))
        return max(2 * cap, 10) if cap else 100

    def has_room(self, campaign_id: int, pending: list[QueuedJob] = ()) -> bool:
        """May this campaign start more leads? Not while one of its lanes is at its high-water mark."""
        extra: dict[Lane, int] = {}
        for job in pending:
            extra[lane_of(job)] = extra.get(lane_of(job), 0) + 1
        for (lane, cid), n in self.backlog.items():
            if cid == campaign_id and n + extra.get(lane, 0) >= self.high_water(lane):
                return False
        return all(self.backlog.get((lane, campaign_id), 0) + n < self.high_water(lane) for lane, n in extra.items())

    def count(self, job: QueuedJob, delta: int) -> bool:
        """A job entered (+1) or left (-1) its lane. True when it left and its campaign fell to
        half its high-water mark: the campaign may start leads again."""
        k = (lane_of(job), job.campaign_id)
        n = self.backlog.get(k, 0) + delta
        self.backlog[k] = n
        return delta < 0 and n == self.high_water(k[0]) // 2

    # -- the windows of queued jobs ------------------------------------------------

    def offer(self, job: QueuedJob, key: int | None) -> bool:
        """Put a job in its lane's window; True when the lane had no job in view before."""
        lane = lane_of(job)
        window = self.windows.get(lane)
        if window is None:
            window = self.windows[lane] = RankedWindow(WINDOW)
        had_head = window.peek() is not None
        window.offer(job.sort_key if key is None else key, job.outbox_id, job)
        return not had_head

    def _refill(self, lane: Lane, window: RankedWindow) -> None:
        bucket, inbox = lane
        page = storage_lanes.lane_page(self.db, self.id, bucket, inbox, window.capacity)
        window.refill([(UNKNOWN_FIRST, r[0], QueuedJob(r[0], r[1], bucket, inbox, UNKNOWN_FIRST)) for r in page.unknown]
                      + [(r[2], r[0], QueuedJob(r[0], r[1], bucket, inbox, r[2])) for r in page.queued])

    def forget(self, job: QueuedJob) -> None:
        """A queued job left its lane without running (its lead failed)."""
        window = self.windows.get(lane_of(job))
        if window is not None:
            window.discard(job.outbox_id)

    def drop_campaign(self, campaign_id: int) -> None:
        """A campaign stopped: forget its jobs (they stay queued in the outbox)."""
        for w in self.windows.values():
            w.discard_where(lambda j: j.campaign_id == campaign_id)

    def pick(self, queue: str, now: datetime, halted: set[str],
             waiting: "WaitingReasons") -> tuple[tuple[Lane, QueuedJob] | None, datetime | None]:
        """The job to run now in this queue, or (None, when to look again); tells `waiting`
        which lanes wait and which run."""
        if queue in halted:
            return None, None
        best: tuple[int, Lane] | None = None
        wake: datetime | None = None
        for lane in self.lanes(queue):
            window = self.windows.setdefault(lane, RankedWindow(WINDOW))
            if window.needs_refill():
                self._refill(lane, window)
            head = window.peek()
            if head is None:
                continue
            t = self.ready_at(lane, now)
            if t <= now:
                waiting.runs(lane)
                if best is None or head[0] < best[0]:
                    best = (head[0], lane)
            else:
                waiting.waits(lane, now, t)
                if wake is None or t < wake:
                    wake = t
        if best is None:
            return None, wake
        lane = best[1]
        return (lane, self.windows[lane].pop()), None
