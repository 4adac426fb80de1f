"""The queue monitor's view of an identity, computed once for the CLI, the runtime and the TUI.

Per identity: its working-hour clock, every bucket (used / limit / window /
next refill, counted from the stored action ledger with the same rules the
identity actor enforces, `runtime.limits`), each lane's depth and next jobs
in the order the actor runs them (`storage.lanes.lane_page`: unknown
outcomes first, then the `sort_key`, decoded into message depth, campaign
priority and tie-break) with what each waits for, and the leads that wait or
stopped, counted by substatus.

Everything is read from storage, so `enginy queue` shows the same view
whether a runtime runs or not; the runtime publishes it for the TUI
(`runtime/queue_publish.py`). What only a running actor knows (its pacing
slot, a back-off after a 429) is not in it: a lane that may run "now" runs
at its next pacing slot.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import msgspec
import sqlite_utils

from runtime import limits, queue_order
from runtime.actors.lanes import LINKEDIN_LANES
from runtime.limits import ActionTimes, Rule
from sequences import warmup
from sequences.working_hours import WorkingHours
from sequences.statuses import Substatus
from storage.replies import REPLY_SORT_KEY
from storage import queue_view as store
from storage.forecast import live as live_forecast
from storage.queue_view import (Blocked, Bucket, CampaignForecast, Forecast, IdentityQueue, Lane, NextJob, QueueView,
                                WorkingHoursView)
from storage.identities import get_identity, inboxes_of, list_identities
from storage.inboxes import with_warmup
from storage.lanes import lane_page, ledger_times

NEXT_JOBS = 5  # jobs shown per lane
HOURS_SHOWN = 24  # actions per hour over the last day
# Every counted action; a new conversation is not one (it is a message, counted again for the monthly cap).
ACTION_BUCKETS = limits.LINKEDIN_BUCKETS + (limits.EMAIL,)

LANE_NAMES = {b: limits.BUCKET_NAMES[b] for b in LINKEDIN_LANES}
# The identity's buckets in the order the monitor shows them: (name, bucket).
LINKEDIN_BUCKETS = tuple((limits.BUCKET_NAMES[b], b)
                         for b in (limits.INVITE, limits.MESSAGE, limits.VISIT, limits.REACT, limits.EVALUATE))


def build(db: sqlite_utils.Database, now: datetime, *, identity: int | str | None = None,
          next_jobs: int = NEXT_JOBS) -> QueueView:
    """Every identity's view (or the one named by id or name: storage's IdentityError if none)."""
    rows = [get_identity(db, identity)] if identity is not None else list_identities(db)
    report = stored_forecast(db)
    return QueueView([identity_queue(db, row, now, next_jobs, report) for row in rows])


def stored_forecast(db: sqlite_utils.Database) -> dict | None:
    """The runtime's last forecast report (runtime/forecast_live.py), if it made one."""
    text = live_forecast(db)
    return msgspec.json.decode(text) if text else None


def identity_queue(db: sqlite_utils.Database, row: dict, now: datetime, next_jobs: int = NEXT_JOBS,
                   report: dict | None = None, reads: Reads | None = None) -> IdentityQueue:
    """One identity's view at `now`. `reads`: what an earlier build read of it, still true when nothing of
    the identity was written since (the publisher's next minute); else read afresh."""
    reads = reads or Reads(db, row, now, next_jobs)
    row, hours, times, depths = reads.row, reads.hours, reads, reads.depths
    li_rules = limits.linkedin_rules(row)
    buckets = [_bucket(name, _shown_rule(li_rules.get(b, ())), times.of(b, None, li_rules.get(b, ())), now, hours)
               for name, b in LINKEDIN_BUCKETS]
    credits = limits.month(int(row["inmail_credits"] or 0))
    buckets.append(_bucket("InMail credits", credits, times.of(limits.INMAIL, None, (credits,)), now, hours))
    monthly = li_rules.get(limits.CONVERSATION, ())
    conv = monthly[0] if monthly else None
    buckets.append(_bucket("monthly conversations", conv,
                           times.of(limits.CONVERSATION, None, (conv or limits.month(0),)), now, hours))
    for inbox in reads.inboxes:
        if inbox["connected"]:
            per_day, per_hour = limits.email_rules(inbox)
            log = times.of(limits.EMAIL, inbox["id"], (per_day, per_hour))
            warming = warmup.state(inbox, per_day.limit, now.astimezone(hours.tz).date())
            buckets.append(_bucket(f"{inbox['email']} per day", per_day, log, now, hours,
                                   warming_up=warming.line() if warming else None))
            buckets.append(_bucket(f"{inbox['email']} per hour", per_hour, log, now, hours))
    lanes = [_lane(reads, LANE_NAMES[b], (b, None), li_rules.get(b, ()), now) for b in LINKEDIN_LANES]
    for inbox in reads.inboxes:
        key = (limits.EMAIL, inbox["id"])
        if inbox["connected"] or depths.get(key):
            rules = limits.email_rules(inbox) if inbox["connected"] else ()
            lanes.append(_lane(reads, f"email {inbox['email']}", key, rules, now, inbox=inbox))
    blocked = [Blocked(Substatus(sub).label, n) for _status, sub, n in reads.blocked]
    return IdentityQueue(id=row["id"], name=row["name"], timezone=row["timezone"],
                         working_hours=_working_hours(hours, now), buckets=buckets, lanes=lanes, blocked=blocked,
                         per_hour=hourly_actions(reads.hourly, now), forecast=_forecast(report, row["id"], hours))


class Reads:
    """What one identity's view reads from storage at `now`: the identity, its inboxes, lane depths,
    blocked counts, actions per hour (read at once), ledger times and each lane's next jobs (read when
    first asked, then kept).

    All of it stays true while nothing of the identity is written (the publisher's TEMP triggers say
    when), whatever the clock does: every ledger window looks back no further as time passes (the
    day's and month's starts, `now` minus a rolling window, the first of the last 24 hours), and
    `runtime.limits` counts inside its own window, so times read for an earlier `now` still count right.
    """

    def __init__(self, db: sqlite_utils.Database, row: dict, now: datetime, next_jobs: int) -> None:
        self.db, self.row, self.now, self.next_jobs = db, row, now, next_jobs
        self.hours = WorkingHours.of_identity(row)
        self.inboxes = with_warmup(db, inboxes_of(db, row["id"]))  # warm-up caps, stepped as the actor steps them
        self.depths = store.lane_depths(db, row["id"])
        self.blocked = store.blocked_counts(db, row["id"])
        self.hourly = store.actions_per_hour(db, row["id"], ACTION_BUCKETS, first_hour(now))
        self._times: dict[tuple[str, int | None], ActionTimes] = {}
        self._jobs: dict[tuple[str, int | None], list[tuple[store.JobRow, int | None]]] = {}

    def of(self, bucket: str, inbox: int | None, rules: tuple[Rule, ...]) -> ActionTimes:
        """The ledger times of a bucket (of one inbox for email) that its rules can see."""
        key = (bucket, inbox)
        if key not in self._times:
            since = limits.lookback(rules, self.hours, self.now)
            self._times[key] = ActionTimes(ledger_times(self.db, self.row["id"], bucket, inbox, since))
        return self._times[key]

    def next_jobs_of(self, bucket: str, inbox: int | None) -> list[tuple[store.JobRow, int | None]]:
        """A lane's next jobs in execution order, named, each with its sort key (None: outcome unknown)."""
        key = (bucket, inbox)
        if key not in self._jobs:
            page = lane_page(self.db, self.row["id"], bucket, inbox, self.next_jobs)
            order = [(i, None) for i, _campaign in page.unknown] + [(i, skey) for i, _campaign, skey in page.queued]
            order = order[:self.next_jobs]
            named = store.job_rows(self.db, [i for i, _ in order])
            self._jobs[key] = [(named[i], skey) for i, skey in order if i in named]
        return self._jobs[key]


BUCKET_NAMES = {b: name for name, b in LINKEDIN_BUCKETS} | {limits.EMAIL: "email"}


def _forecast(report: dict | None, identity_id: int, hours: WorkingHours) -> Forecast | None:
    """The identity's campaigns in a forecast report (`enginy forecast --json`'s shape), its times in the
    identity's zone like the rest of its view."""
    if report is None:
        return None

    def local(at: str | None) -> str | None:
        return _iso(datetime.fromisoformat(at), hours) if at else None

    mine = [c for c in report["campaigns"] if c.get("identity_id") == identity_id]
    return Forecast(local(report["start"]), report["sim_days"], [CampaignForecast(
        c["campaign"], c["name"], c["remaining_leads_now"], local(c["finishes_at"]),
        BUCKET_NAMES.get(c["bottleneck"]["cap"], c["bottleneck"]["cap"]) if c["bottleneck"] else None,
        c["bottleneck"]["utilization"] if c["bottleneck"] else None) for c in mine])


def first_hour(now: datetime) -> datetime:
    """The start of the oldest of the last 24 clock hours (UTC hours: every zone's whole hours but for
    the few at :30 or :45)."""
    return now.astimezone(timezone.utc).replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS_SHOWN - 1)


def hourly_actions(counts: dict[str, int], now: datetime) -> list[int]:
    """The identity's actions in each of the last 24 clock hours, oldest first, the last being the
    current hour so far, from its counts by UTC hour (storage.queue_view.actions_per_hour)."""
    first = first_hour(now)
    return [counts.get((first + timedelta(hours=h)).isoformat()[:13], 0) for h in range(HOURS_SHOWN)]  # 'YYYY-MM-DDTHH'


def _shown_rule(rules: tuple[Rule, ...]) -> Rule | None:
    """The rule a bucket's bar shows: its calendar cap if it has one (visits: 50 a day, not the 4-minute
    spacing), else its rolling window (reactions, acceptance checks)."""
    calendar = [r for r in rules if r.kind in ("day", "month")]
    return (calendar or list(rules) or [None])[0]


def _bucket(name: str, rule: Rule | None, log: ActionTimes, now: datetime, hours: WorkingHours,
            warming_up: str | None = None) -> Bucket:
    if rule is None:  # no cap: count this month's
        used = log.count_since(hours.month_start(now))
        return Bucket(name, used, None, "month", None)
    used, refill = limits.usage(rule, log, now, hours)
    return Bucket(name, used, rule.limit_at(now, hours), window_name(rule), _iso(refill, hours), warming_up)


def window_name(rule: Rule) -> str:
    if rule.kind != "rolling":
        return rule.kind
    if rule.seconds == 3600:
        return "hour"
    return f"{rule.seconds / 60:g} min"


def _working_hours(hours: WorkingHours, now: datetime) -> WorkingHoursView:
    local = now.astimezone(hours.tz).isoformat(timespec="seconds")
    if not hours.days:
        return WorkingHoursView(False, local, None)
    win = hours.current_window(now)
    change = win[1] if win is not None else hours.next_open(now)
    return WorkingHoursView(win is not None, local, _iso(change, hours))


def _lane(reads: Reads, name: str, key: tuple[str, int | None], rules: tuple[Rule, ...], now: datetime,
          inbox: dict | None = None) -> Lane:
    depth = reads.depths.get(key, 0)
    if not depth:
        return Lane(name, 0, [])
    wait = lane_wait(reads.row, key[0], rules, reads.of(key[0], key[1], rules), now, reads.hours, inbox)
    jobs = []
    for place, (job, skey) in enumerate(reads.next_jobs_of(*key), start=1):
        then = wait if place == 1 else f"goes after #{place - 1}"
        jobs.append(NextJob(job.campaign, job.lead, job.action, f"{_place(place, skey)}; {then}"))
    return Lane(name, depth, jobs)


def _place(place: int, skey: int | None) -> str:
    """Why a job stands where it does in its lane."""
    if skey is None:
        return f"#{place}, its last attempt's outcome is unknown: looked up before anything else"
    if skey == REPLY_SORT_KEY:
        return f"#{place}, a reply by hand: ahead of the campaign jobs"
    depth, priority, tiebreak = queue_order.decode(skey)
    return f"#{place}: message depth {depth}, {priority} priority, tie-break {tiebreak:08x}"


def lane_wait(row: dict, bucket: str, rules: tuple[Rule, ...], log: ActionTimes, now: datetime,
              hours: WorkingHours, inbox: dict | None) -> str:
    """What the head of a lane waits for, in words."""
    if bucket == limits.EMAIL:
        if inbox is None or not inbox["connected"]:
            return "waits: the inbox is disconnected (reconnect it)"
    elif not row["linkedin_connected"]:
        return "waits: LinkedIn is not connected"
    elif row["linkedin_queue_paused"]:
        return "waits: the LinkedIn queue is paused"
    if not hours.days:
        return "waits: no working day is configured"
    ready = limits.earliest_allowed(rules, log, now, hours)
    if ready <= now:
        return "runs at its next pacing slot"
    if not hours.is_open(now):
        return f"waits: outside working hours, opens {short(hours.next_open(now), hours)}" + (
            f", runs from {short(ready, hours)}" if ready > hours.next_open(now) else "")
    spent = [r for r in rules if r.kind in ("day", "month") and limits.usage(r, log, now, hours)[0] >= r.limit]
    if spent:
        return f"waits: {spent[0].limit} per {spent[0].kind} spent, refills {short(ready, hours)}"
    if ready >= (hours.current_window(now) or (now, now))[1]:
        return f"waits: today's window closes first, runs {short(ready, hours)}"
    return f"waits: spacing, next slot {short(ready, hours)}"


def short(at: datetime, hours: WorkingHours) -> str:
    """'Tue 24 09:00' in the identity's time zone (a week ahead at most matters here)."""
    return at.astimezone(hours.tz).strftime("%a %d %H:%M")


def _iso(at: datetime | None, hours: WorkingHours) -> str | None:
    return at.astimezone(hours.tz).isoformat(timespec="seconds") if at is not None else None


def encode(view: QueueView | IdentityQueue) -> bytes:
    return msgspec.json.encode(view)
