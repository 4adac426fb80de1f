"""The invariants of a run, re-derived from what was recorded — independently of the limiter.

Deliberately shares no code with runtime/limits.py, runtime/working_hours.py
or the actors: it reads the ledger, the outbox, the activity log and the
sandbox world's own record, takes the spec's numbers from
sequences/limits.py (the one table of them) but none of the limiter's logic, and
recomputes every window itself (local days with zoneinfo, rolling windows
with two pointers). A bug in the limiter therefore shows up here instead of
being checked by itself.

Violations found: cap (day/month per bucket or inbox), spacing / rolling
windows, working hours, a send after the lead replied (or bounced / went
out-of-office), a duplicate send (a world delivery twice for one step, or a
delivery the outbox does not account for), a lead that waits without a reason
(In progress with no in-progress substatus while its job is not being performed, a job queued
on a disconnected inbox, nothing left to move it; Identity limits without the cap, a wait without
its end; Error without an error substatus).
"""

from __future__ import annotations

import hashlib
import heapq
import math
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from sequences import limits as spec
from sequences.statuses import LeadStatus, Substatus, wait_of
from storage import run_record
from storage.identities import identities_by_id

SPACING = {"profile_visit": spec.VISIT_SPACING_SECONDS, "post_reaction": spec.REACTION_SPACING_SECONDS}
ROLLING = {"connection_evaluation": (spec.EVALUATIONS_PER_WINDOW, spec.EVALUATION_WINDOW_SECONDS)}
STOP_KINDS = ("linkedin_reply_received", "email_reply_received", "email_bounced", "email_auto_reply_received")


def _day_caps(ident: dict) -> dict[str, int]:
    return {"connection_request": ident["daily_connection_limit"], "message": ident["daily_message_limit"],
            "profile_visit": spec.profile_visits_per_day(bool(ident["premium"]))}


def _window(ident: dict, day) -> tuple[datetime, datetime] | None:
    names = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    if names[day.weekday()] not in ident["working_days"].split(","):
        return None
    tz = ZoneInfo(ident["timezone"])
    s, e = time.fromisoformat(ident["work_start"]), time.fromisoformat(ident["work_end"])
    begin = datetime.combine(day, s, tzinfo=tz)
    end = datetime.combine(day if e > s else day + timedelta(days=1), e, tzinfo=tz)
    return begin, end


@dataclass
class Findings:
    """What one database shows; a run split over several databases (a sharded
    simulation) is judged by `summarize` over all of their findings."""

    violations: list[dict]
    ratios: list[float]  # cap utilization of each saturated identity-day
    actions: Counter
    enrollments: Counter
    log: list[tuple[str, int, str]]  # (at, identity, digest line), in ledger order


def check(db, *, start: datetime, end: datetime, world=None) -> dict:
    return summarize([findings(db, start=start, end=end, world=world)])


def summarize(parts: list[Findings]) -> dict:
    """The report over every database of a run. The action log is merged in time order;
    identities never span two databases, so (at, identity) orders it as one ledger would."""
    violations = [v for p in parts for v in p.violations]
    ratios = [r for p in parts for r in p.ratios]
    actions = sum((p.actions for p in parts), Counter())
    enrollments = sum((p.enrollments for p in parts), Counter())
    digest = hashlib.sha256()
    for _, _, line in heapq.merge(*(p.log for p in parts), key=lambda e: (e[0], e[1])):
        digest.update(line.encode())
    utilization = ({"worst": round(min(ratios), 4), "mean": round(sum(ratios) / len(ratios), 4), "days": len(ratios)}
                   if ratios else {"worst": None, "mean": None, "days": 0})
    return {
        "violations": violations[:200],
        "violation_count": len(violations),
        "cap_utilization": utilization,
        "actions": dict(sorted(actions.items())),
        "enrollments": {"total": sum(enrollments.values()), **dict(sorted(enrollments.items()))},
        "log_sha256": digest.hexdigest(),
    }


def findings(db, *, start: datetime, end: datetime, world=None) -> Findings:
    violations: list[dict] = []
    idents = identities_by_id(db)
    inboxes = run_record.inboxes(db)
    ledger = run_record.ledger(db)
    for r in ledger:
        r["t"] = datetime.fromisoformat(r["at"])

    groups: dict[tuple, list[datetime]] = defaultdict(list)
    for r in ledger:
        groups[(r["identity_id"], r["bucket"], r["inbox_id"] if r["bucket"] == "email" else None)].append(r["t"])

    # working hours
    windows: dict[tuple, tuple[datetime, datetime] | None] = {}  # (identity, local day) -> its window
    for r in ledger:
        if r["bucket"] == "conversation":
            continue
        ident = idents[r["identity_id"]]
        local = r["t"].astimezone(ZoneInfo(ident["timezone"]))
        ok = False
        for day in (local.date(), local.date() - timedelta(days=1)):
            key = (r["identity_id"], day)
            if key not in windows:
                windows[key] = _window(ident, day)
            w = windows[key]
            if w and w[0] <= r["t"] < w[1]:
                ok = True
        if not ok:
            violations.append({"kind": "working_hours", "ledger_id": r["id"], "at": r["at"],
                               "identity": r["identity_id"], "local": local.isoformat()})

    # caps and spacing
    day_counts: dict[tuple, Counter] = {}
    for (iid, bucket, inbox), times in groups.items():
        ident = idents[iid]
        tz = ZoneInfo(ident["timezone"])
        per_day = Counter(t.astimezone(tz).date() for t in times)
        day_counts[(iid, bucket, inbox)] = per_day
        cap = inboxes[inbox]["per_day"] if bucket == "email" and inbox in inboxes else _day_caps(ident).get(bucket)
        if cap is not None:
            for d, n in per_day.items():
                if n > cap:
                    violations.append({"kind": "day_cap", "identity": iid, "bucket": bucket, "inbox": inbox,
                                       "day": d.isoformat(), "count": n, "cap": cap})
        if bucket == "conversation" and ident["monthly_conversation_limit"]:
            per_month = Counter((t.astimezone(tz).year, t.astimezone(tz).month) for t in times)
            for m, n in per_month.items():
                if n > ident["monthly_conversation_limit"]:
                    violations.append({"kind": "month_cap", "identity": iid, "month": f"{m[0]}-{m[1]:02d}",
                                       "count": n, "cap": ident["monthly_conversation_limit"]})
        rolling = []
        if bucket in SPACING:
            rolling.append((1, SPACING[bucket]))
        if bucket in ROLLING:
            rolling.append(ROLLING[bucket])
        if bucket == "email" and inbox in inboxes:
            rolling.append((inboxes[inbox]["per_hour"], 3600))
        for limit, seconds in rolling:
            lo = 0
            for hi, t in enumerate(times):
                while times[lo] <= t - timedelta(seconds=seconds):
                    lo += 1
                if hi - lo + 1 > limit:
                    violations.append({"kind": "rolling", "identity": iid, "bucket": bucket, "inbox": inbox,
                                       "at": t.isoformat(), "count": hi - lo + 1, "limit": limit,
                                       "seconds": seconds})
                    break

    # no send after the lead replied / bounced / went out of office
    stops = run_record.first_activity(db, STOP_KINDS)
    sent = run_record.sent_jobs(db)
    for r in sent:
        stop = stops.get(r["enrollment_id"])
        if stop is not None and r["sent_at"] > stop and r["action"] not in ("visit_profile", "react_to_post"):
            violations.append({"kind": "after_reply", "outbox_id": r["id"], "sent_at": r["sent_at"], "stop_at": stop})

    # duplicates: every world delivery is accounted for by exactly one outbox row, one per step attempt
    sent_keys = run_record.maybe_sent_keys(db)
    if world is not None:
        per_step = Counter()
        for d in world.deliveries.values():
            if d.key not in sent_keys:
                violations.append({"kind": "unaccounted_delivery", "key": d.key})
            enrollment, node, _ = d.key.split(":")
            per_step[(enrollment, node)] += 1
        withdrawn = Counter(run_record.enrollments_with(db, "linkedin_invite_withdrawn"))
        soft = Counter()
        for (enrollment, node), n in per_step.items():
            allowed = 1 + withdrawn.get(int(enrollment), 0) + soft.get(int(enrollment), 0)
            if n > allowed:
                violations.append({"kind": "duplicate_send", "enrollment": int(enrollment), "node": node, "count": n})

    violations += _unexplained(db)

    return Findings(
        violations=violations,
        ratios=_utilization(db, idents, inboxes, day_counts, start, end),
        actions=Counter(r["action"] for r in sent),
        enrollments=Counter(run_record.status_counts(db)),
        log=[(r["at"], r["identity_id"],
              f"{r['at']}|{r['identity_id']}|{r['bucket']}|{r['inbox_id']}|{r['enrollment_id']}\n") for r in ledger],
    )


_WAITING = frozenset(s.value for s in Substatus if s.status is LeadStatus.IN_PROGRESS)
_ERRORS = frozenset(s.value for s in Substatus if s.status is LeadStatus.ERROR)


def _unexplained(db) -> list[dict]:
    """No lead waits without a reason (issue 14): an In-progress lead names why it waits (an
    in-progress substatus), unless its job is being performed right now; something will move it (a
    due time or a job on its way), and not a job queued on an inbox that is disconnected; a
    lead that cannot go on is in Error with an error substatus."""
    found = []
    for r in run_record.unfinished_leads(db):
        why = None
        if r["status"] == "error":
            if r["substatus"] not in _ERRORS:
                why = "error_without_reason"
        elif r["substatus"] is None and not r["running"]:
            why = "no_reason"
        elif r["substatus"] is not None and r["substatus"] not in _WAITING:
            why = "not_a_waiting_reason"
        elif r["on_lost_inbox"]:
            why = "queued_on_lost_inbox"
        elif r["due_at"] is None and not r["pending"]:
            why = "nothing_moves_it"
        else:
            why = _detail_missing(r)
        if why is not None:
            found.append({"kind": "unexplained_wait", "why": why, "enrollment": r["id"], "status": r["status"],
                          "substatus": r["substatus"]})
    return found


#: The waits that must say until when (the next opening, the refill, the delay's end, the retry).
_ENDS = frozenset({Substatus.SCHEDULED, Substatus.IDENTITY_LIMITS, Substatus.OUTSIDE_WORKING_HOURS,
                   Substatus.MONTHLY_CONVERSATION_LIMIT, Substatus.CONNECTION_WITHDRAWN, Substatus.DELIVERY_DELAYED})


def _detail_missing(r) -> str | None:
    """A waiting lead's reason carries its detail, read as the app and the CLI read it
    (sequences.statuses.wait_of): Identity limits names the cap that is spent, and every wait
    that ends at a known time says when."""
    wait = wait_of(r["status"], r["substatus"], r["wait_cap"], r["wait_until"], r["due_at"])
    if wait is None:
        return None
    if wait.reason is Substatus.IDENTITY_LIMITS and not wait.cap:
        return "limit_without_cap"
    if wait.reason in _ENDS and wait.until is None:
        return "wait_without_end"
    return None


def _utilization(db, idents, inboxes, day_counts, start: datetime, end: datetime) -> list[float]:
    """done ÷ allowed on identity-days whose demand exceeded the cap all working day.

    Demand exceeded the cap for the whole day when, at the window's end, a job
    of that lane was still waiting that had been queued before the window began."""
    ratios = []
    waiting = run_record.capped_jobs(db)
    by_lane: dict[tuple, list[tuple[str, str | None]]] = defaultdict(list)
    for r in waiting:
        lane = (r["identity_id"], r["bucket"], r["inbox_id"] if r["bucket"] == "email" else None)
        by_lane[lane].append((r["created_at"], r["sent_at"] if r["state"] == "sent" else
                              (None if r["state"] in ("queued", "unknown") else "")))
    for lane, jobs in by_lane.items():
        iid, bucket, inbox = lane
        ident = idents[iid]
        if bucket == "email":
            if inbox not in inboxes:
                continue
            cap = inboxes[inbox]["per_day"]
        else:
            cap = _day_caps(ident)[bucket]
        tz = ZoneInfo(ident["timezone"])
        day = start.astimezone(tz).date()
        while True:
            w = _window(ident, day)
            day += timedelta(days=1)
            if w is None:
                if datetime.combine(day, time(0), tzinfo=tz) > end:
                    break
                continue
            begin, finish = w
            if finish > end:
                break
            if begin < start:
                continue
            b_utc = begin.astimezone(start.tzinfo).isoformat()
            f_utc = finish.astimezone(start.tzinfo).isoformat()
            saturated = any(created <= b_utc and (sent is None or (sent and sent > f_utc)) for created, sent in jobs)
            if not saturated:
                continue
            # The most the rules allow in the half-open window [begin, finish): actions g
            # seconds apart fit ceil(S / g) times (the next would land on `finish` itself),
            # and a rolling cap of n per hour fits n × ceil(S / 3600).
            allowed = cap
            seconds = (finish - begin).total_seconds()
            if bucket in SPACING:
                allowed = min(allowed, math.ceil(seconds / SPACING[bucket]))
            if bucket == "email":
                allowed = min(allowed, inboxes[inbox]["per_hour"] * math.ceil(seconds / 3600))
            done = day_counts.get(lane, Counter()).get(begin.date(), 0)
            ratios.append(min(done / allowed, 1.0) if allowed else 1.0)
    return ratios
