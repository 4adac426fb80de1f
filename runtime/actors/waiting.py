"""Why an identity's queued leads wait, written on the leads themselves.

The spec's substatuses "stay true while waiting": when a lane with queued
jobs cannot run now, every lead queued in it shows Identity limits (a day or
month cap of the lane's bucket is spent) or Outside working hours (closed
now, or the next action falls after today's window); when the lane runs
again they go back to Queued (the step's own word for a job waiting its
turn: its place in the lane is read on demand,
storage/campaign_view.queue_place), and the lead's own step rewrites it
when its job is done.

With the reason goes its detail (a `Wait`): for Identity limits the cap
that is spent ("invitations 20 per day") and when it refills (counted in
working hours); for Outside working hours the next opening. Both stay the
same while the lane waits, so they add no writes.

This is one UPDATE per lane per change of reason (or after new jobs were
filed into a waiting lane), never per lead per tick, so simulations keep
their speed; a lead that already says the same is not rewritten. (Monthly
conversation limit is per lead: the identity actor defers that lead itself.)
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from runtime import limits
from runtime.limits import ActionTimes
from sequences.statuses import Substatus, Wait
from storage import lanes as storage_lanes
from storage.db import transaction

if TYPE_CHECKING:
    from runtime.actors.lanes import Lane, Lanes


class WaitingReasons:
    def __init__(self, lanes: "Lanes") -> None:
        self.lanes = lanes
        self.db = lanes.db
        self.reason: dict[Lane, Wait | None] = {}  # why each lane's queued leads wait (as written)
        self._filed: dict[Lane, list[int]] = {}  # outbox ids filed since the lane's leads were marked

    def filed(self, lane: "Lane", outbox_id: int) -> bool:
        """A job was filed into `lane`. True when the lane waits, so the new lead must be told
        why (the queue's next pick does it)."""
        if self.reason.get(lane) is None:
            return False
        self._filed.setdefault(lane, []).append(outbox_id)
        return True

    def runs(self, lane: "Lane") -> None:
        """The lane runs now: its leads no longer wait for it."""
        if self.reason.get(lane) is not None:
            self._mark(lane, None)

    def waits(self, lane: "Lane", now: datetime, ready: datetime) -> None:
        """The lane cannot run before `ready`: its leads say why, if the reason is worth a write."""
        why = self._why(lane, now, ready)
        if why != self.reason.get(lane):
            self._mark(lane, why)
        elif why is not None and lane in self._filed:
            self._mark_filed(lane, why)

    def _why(self, lane: "Lane", now: datetime, ready: datetime) -> Wait | None:
        """A day or month cap spent: Identity limits (the spec: "the identity has reached its
        daily … limits"), until it refills (the first instant in working hours its rules allow
        an action again, the queue monitor's "refills"; the lane's pacing slot may come later);
        the provider said a cap of its own is spent (LinkedIn's weekly invitations, which no
        ledger here counts): Identity limits naming it, until the lane's back-off ends;
        closed now, or the lane's next action falls after today's window: Outside working hours,
        until the next opening; only pacing, spacing, an hourly window or a back-off: nothing to
        say — those are minutes, and marking them would rewrite the lane's leads twice per action."""
        hours = self.lanes.hours
        if not hours.days:
            return Wait(Substatus.OUTSIDE_WORKING_HOURS)  # no working day at all: no opening to name
        rules, times = self.lanes.rules(lane), self.lanes.times.setdefault(lane, ActionTimes())
        spent = limits.spent_calendar_cap(rules, times, now, hours)
        if spent is not None:
            refill = limits.earliest_allowed(rules, times, now, hours) if spent.limit > 0 else None
            return Wait(Substatus.IDENTITY_LIMITS, f"{self._name(lane)} {spent.describe()}", refill)
        held = self.lanes.backoff.get(lane)
        if lane in self.lanes.provider_cap and held is not None and held > now:
            return Wait(Substatus.IDENTITY_LIMITS, f"{self._name(lane)}: {self.lanes.provider_cap[lane]}", held)
        win = hours.current_window(now)
        if win is None:
            return Wait(Substatus.OUTSIDE_WORKING_HOURS, None, hours.next_open(now))
        return Wait(Substatus.OUTSIDE_WORKING_HOURS, None, hours.next_open(win[1])) if ready >= win[1] else None

    def _name(self, lane: "Lane") -> str:
        """The lane's bucket in words; an inbox's by its address."""
        bucket, inbox = lane
        name = limits.BUCKET_NAMES.get(bucket, bucket)
        row = self.lanes.inboxes.get(inbox) if inbox is not None else None
        return f"{name} from {row['email']}" if row else name

    def _mark(self, lane: "Lane", why: Wait | None) -> None:
        """One UPDATE for every in-progress lead queued in this lane. Only a lead with no
        substatus, Queued or one of these two is touched, so a lead's own reason (e.g. Connection
        withdrawn) is never overwritten."""
        old = self.reason.get(lane)
        self.reason[lane] = why
        self._filed.pop(lane, None)
        if why is None and old is None:
            return
        with transaction(self.db):
            storage_lanes.mark_lane(self.db, self.lanes.id, lane[0], lane[1], why,
                                    old.reason if old is not None else None)

    def _mark_filed(self, lane: "Lane", why: Wait) -> None:
        """Jobs filed into a lane that already waits: only their leads get its reason (the
        rest of the lane says it already; rewriting all of them per new job was the cost)."""
        storage_lanes.mark_jobs(self.db, self._filed.pop(lane), why)
