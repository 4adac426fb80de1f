"""Every rate limit of the spec as data, and the arithmetic of when the next action may run.

A bucket is a named set of rules; an action is allowed at instant `t` when
every rule of its bucket allows it and `t` is inside working hours:

- `day` / `month`: at most `limit` actions in the identity's local calendar
  day / month (so caps reset at local midnight, DST-correct);
- `rolling`: at most `limit` actions in any `seconds`-long window — this also
  expresses spacing ("1 visit every 4 min" = rolling(1, 240)) and hourly caps.

The times of past actions come from the stored action ledger (the identity
actor loads them at start and appends as it records), so a restart never
grants a fresh allowance. Pure: callers pass `now`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterable

from sequences import warmup
from sequences.working_hours import WorkingHours
from sequences import limits as spec
from sequences.model import BUCKET

# Bucket names as stored in action_ledger.bucket and outbox.bucket: the
# action buckets are the sequences model's (sequences.model.BUCKET); the
# runtime adds acceptance polling and the monthly conversation count.
VISIT = BUCKET["visit_profile"]
REACT = BUCKET["react_to_post"]
INVITE = BUCKET["connection_request"]
MESSAGE = BUCKET["linkedin_message"]
INMAIL = BUCKET["inmail"]
EMAIL = BUCKET["email"]
EVALUATE = "connection_evaluation"
CONVERSATION = "conversation"  # a new LinkedIn conversation (monthly limit)
LINKEDIN_BUCKETS = (VISIT, REACT, INVITE, MESSAGE, INMAIL, EVALUATE)
#: A bucket in words, as the queue monitor and a waiting lead's cap name it.
BUCKET_NAMES = {VISIT: "visits", REACT: "reactions", INVITE: "invitations", MESSAGE: "messages", INMAIL: "InMail",
                EVALUATE: "acceptance checks", CONVERSATION: "monthly conversations", EMAIL: "emails"}


@dataclass(frozen=True)
class Rule:
    kind: str  # "day" | "month" | "rolling"
    limit: int
    seconds: float = 0.0
    # A "day" rule's caps for the local days from `ramp_start` (a date ordinal) on — an inbox's
    # warm-up (sequences/warmup.py); before and after them, `limit` holds.
    ramp: tuple[int, ...] = ()
    ramp_start: int = 0

    def limit_at(self, t: datetime, hours: WorkingHours) -> int:
        """The cap in force on the local day of `t`."""
        if not self.ramp:
            return self.limit
        i = t.astimezone(hours.tz).date().toordinal() - self.ramp_start
        return self.ramp[i] if 0 <= i < len(self.ramp) else self.limit

    def describe(self) -> str:
        if self.kind == "rolling":
            return f"{self.limit} per {int(self.seconds)} s"
        return f"{self.limit} per {self.kind}"

def day(limit: int) -> Rule:
    return Rule("day", limit)


def month(limit: int) -> Rule:
    return Rule("month", limit)


def rolling(limit: int, seconds: float) -> Rule:
    return Rule("rolling", limit, seconds)


def linkedin_rules(identity: dict) -> dict[str, tuple[Rule, ...]]:
    """The LinkedIn buckets of an identity row (spec: "LinkedIn actions that can be rate-limited")."""
    visits = spec.profile_visits_per_day(bool(identity.get("premium")))
    rules = {
        VISIT: (rolling(1, spec.VISIT_SPACING_SECONDS), day(visits)),
        REACT: (rolling(1, spec.REACTION_SPACING_SECONDS),),
        INVITE: (day(int(identity["daily_connection_limit"])),),
        MESSAGE: (day(int(identity["daily_message_limit"])),),
        INMAIL: (),  # limited by credits, checked by the actor
        EVALUATE: (rolling(spec.EVALUATIONS_PER_WINDOW, spec.EVALUATION_WINDOW_SECONDS),),
    }
    monthly = identity.get("monthly_conversation_limit")
    if monthly:
        rules[CONVERSATION] = (month(int(monthly)),)
    return rules


def email_rules(inbox: dict) -> tuple[Rule, ...]:
    """An inbox's caps, never above the spec's maxima whatever was stored; while it warms up, its
    day cap follows the warm-up ramp (`warmup_start` is the local date of the ramp's first day)."""
    per_day = spec.EMAIL_PER_DAY.clamp(inbox["per_day"])
    per_hour = spec.EMAIL_PER_HOUR.clamp(inbox["per_hour"])
    ramp = warmup.ramp_of(inbox, per_day)
    if not ramp:
        return (day(per_day), rolling(per_hour, 3600))
    start = date.fromisoformat(inbox["warmup_start"]).toordinal()
    return (Rule("day", per_day, ramp=ramp, ramp_start=start), rolling(per_hour, 3600))


def day_cap(rules: Iterable[Rule]) -> int | None:
    caps = [r.limit for r in rules if r.kind == "day"]
    return min(caps) if caps else None


class ActionTimes:
    """Sorted times of one bucket's past actions, pruned to what the rules can still see."""

    __slots__ = ("times",)

    def __init__(self, times: Iterable[datetime] = ()) -> None:
        self.times: list[datetime] = sorted(times)

    def add(self, at: datetime) -> None:
        if not self.times or at >= self.times[-1]:
            self.times.append(at)
        else:
            bisect.insort(self.times, at)

    def remove(self, at: datetime) -> None:
        i = bisect.bisect_left(self.times, at)
        if i < len(self.times) and self.times[i] == at:
            del self.times[i]

    def count_since(self, since: datetime, until: datetime | None = None) -> int:
        lo = bisect.bisect_left(self.times, since)
        hi = len(self.times) if until is None else bisect.bisect_left(self.times, until)
        return max(0, hi - lo)

    def prune(self, keep_since: datetime) -> None:
        i = bisect.bisect_left(self.times, keep_since)
        if i:
            del self.times[:i]


def lookback(rules: Iterable[Rule], hours: WorkingHours, now: datetime) -> datetime:
    """The oldest instant any rule can still see at or after `now`."""
    since = now
    for r in rules:
        if r.kind == "day":
            since = min(since, hours.day_start(now))
        elif r.kind == "month":
            since = min(since, hours.month_start(now))
        elif r.kind == "rolling":
            since = min(since, now - timedelta(seconds=r.seconds))
    return since


def _rule_ok_from(rule: Rule, log: ActionTimes, t: datetime, hours: WorkingHours) -> datetime:
    """The earliest instant >= t at which `rule` allows one more action (ignoring hours)."""
    if rule.limit <= 0:
        return datetime.max.replace(tzinfo=t.tzinfo)
    if rule.kind == "day":
        if log.count_since(hours.day_start(t)) < (rule.limit_at(t, hours) if rule.ramp else rule.limit):
            return t
        return hours.next_day_start(t)
    if rule.kind == "month":
        if log.count_since(hours.month_start(t)) < rule.limit:
            return t
        return hours.next_month_start(t)
    window = timedelta(seconds=rule.seconds)
    # actions in (t - window, t]: a new one at t is allowed if fewer than `limit`
    times = log.times
    lo = bisect.bisect_right(times, t - window)
    recent = len(times) - lo
    if recent < rule.limit:
        return t
    # wait until enough of them leave the window: the (recent - limit + 1)-th oldest
    return times[lo + recent - rule.limit] + window


def earliest_allowed(
    rules: Iterable[Rule], log: ActionTimes, now: datetime, hours: WorkingHours
) -> datetime:
    """The earliest instant >= now inside working hours at which every rule allows an action."""
    rules = tuple(rules)
    t = hours.next_open(now)
    for _ in range(1000):
        moved = t
        for rule in rules:
            moved = max(moved, _rule_ok_from(rule, log, moved, hours))
        moved = hours.next_open(moved)
        if moved == t:
            return t
        t = moved
    raise RuntimeError("limits never allow an action (a limit of zero?)")


def spent_calendar_cap(rules: Iterable[Rule], log: ActionTimes, now: datetime, hours: WorkingHours) -> Rule | None:
    """The day or month cap used up at `now`, if one is. Rolling rules (spacing, hourly caps)
    are not "limits reached": they free up within minutes."""
    return next((rule for rule in rules
                 if rule.kind in ("day", "month") and _rule_ok_from(rule, log, now, hours) > now), None)


def calendar_cap_spent(rules: Iterable[Rule], log: ActionTimes, now: datetime, hours: WorkingHours) -> bool:
    return spent_calendar_cap(rules, log, now, hours) is not None


def remaining_today(rules: Iterable[Rule], log: ActionTimes, now: datetime, hours: WorkingHours) -> int | None:
    """Actions the day cap still allows in the local day of `now` (None: no day cap)."""
    caps = [r.limit_at(now, hours) for r in rules if r.kind == "day"]
    if not caps:
        return None
    return max(0, min(caps) - log.count_since(hours.day_start(now)))


def usage(rule: Rule, log: ActionTimes, now: datetime, hours: WorkingHours) -> tuple[int, datetime | None]:
    """What `rule` has counted at `now` and when it next gives some back (None: nothing counted):
    the next local midnight / first of the month for a calendar cap, the oldest counted action
    leaving the window for a rolling one (the queue monitor's bucket bars)."""
    if rule.kind == "day":
        used = log.count_since(hours.day_start(now))
        return used, hours.next_day_start(now) if used else None
    if rule.kind == "month":
        used = log.count_since(hours.month_start(now))
        return used, hours.next_month_start(now) if used else None
    window = timedelta(seconds=rule.seconds)
    lo = bisect.bisect_right(log.times, now - window)
    used = len(log.times) - lo
    return used, log.times[lo] + window if used else None
