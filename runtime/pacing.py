"""Spreading a day's allowance over the working day, with seeded jitter.

The spec wants sends that look human: paced over the window, never a burst at
opening time. After each action (and at each window opening) the next slot is

    now + (window end - now) / remaining allowance × jitter,  jitter ∈ [0.5, 1.0)

Re-computing from what is actually left after every action self-corrects (a
late action shortens the next gaps), and a jitter below 1 means the last
allowed action still lands before the window closes — so a saturated bucket
uses its whole daily cap (the simulation checks utilization ≥ 0.99).

The plan ends a little before the window does (`retry_margin`): the day's
last action may meet a 429 or a 421 and be retried a minute later, and that
retry must still fall inside working hours, or the cap loses one for the day.
Pure: the caller passes `now` and a random number in [0, 1).
"""

from __future__ import annotations

from datetime import datetime, timedelta

JITTER_LOW = 0.5
JITTER_HIGH = 1.0
# Spacing of actions in a bucket without a daily cap: a little above nothing,
# so that e.g. chunks of work do not all fire in the same instant.
MIN_GAP = timedelta(seconds=20)


# Room left at the end of a window for retrying the day's last action (at most a
# tenth of the window, so short windows keep most of their span).
RETRY_MARGIN = timedelta(minutes=10)


def retry_margin(window_start: datetime, window_end: datetime) -> timedelta:
    return min(RETRY_MARGIN, (window_end - window_start) / 10)


def next_slot(now: datetime, window_end: datetime, remaining: int | None, u: float,
              margin: timedelta) -> datetime:
    """When the bucket's next action may run, given `remaining` allowance today
    (None: no daily cap), `u` uniform in [0, 1) and the window's retry margin."""
    if remaining is None:
        return now + MIN_GAP * (1 + u)
    if remaining <= 0 or window_end <= now:
        return window_end
    plan_end = window_end - margin
    if plan_end <= now:  # inside the margin (a retry, or a late start): no more spreading
        return now + MIN_GAP * u
    gap = (plan_end - now) / remaining
    jitter = JITTER_LOW + (JITTER_HIGH - JITTER_LOW) * u
    return now + max(gap * jitter, MIN_GAP)


def first_slot(window_start: datetime, window_end: datetime, allowance: int | None, u: float) -> datetime:
    """The first action of a window: not at opening time, somewhere in the first gap."""
    if not allowance:
        return window_start + MIN_GAP * u
    gap = (window_end - retry_margin(window_start, window_end) - window_start) / allowance
    return window_start + gap * (JITTER_LOW * u)
