"""Spreading a day's allowance over the working day, with seeded jitter.

The spec wants sends that look human: paced over the window, never a burst at
opening time. After each action (and at each window opening) the next slot is

    now + (window end - now) / remaining allowance × jitter,  jitter ∈ [0.5, 1.0)

Re-computing from what is actually left after every action self-corrects (a
late action shortens the next gaps), and a jitter below 1 means the last
allowed action still lands before the window closes — so a saturated bucket
uses its whole daily cap (the simulation checks utilization ≥ 0.99). Pure:
the caller passes `now` and a random number in [0, 1).
"""

from __future__ import annotations

from datetime import datetime, timedelta

JITTER_LOW = 0.5
JITTER_HIGH = 1.0
# Spacing of actions in a bucket without a daily cap: a little above nothing,
# so that e.g. chunks of work do not all fire in the same instant.
MIN_GAP = timedelta(seconds=20)


def next_slot(now: datetime, window_end: datetime, remaining: int | None, u: float) -> datetime:
    """When the bucket's next action may run, given `remaining` allowance today
    (None: no daily cap) and `u` uniform in [0, 1)."""
    if remaining is None:
        return now + MIN_GAP * (1 + u)
    if remaining <= 0 or window_end <= now:
        return window_end
    gap = (window_end - now) / remaining
    jitter = JITTER_LOW + (JITTER_HIGH - JITTER_LOW) * u
    return now + max(gap * jitter, MIN_GAP)


def first_slot(window_start: datetime, window_end: datetime, allowance: int | None, u: float) -> datetime:
    """The first action of a window: not at opening time, somewhere in the first gap."""
    if not allowance:
        return window_start + MIN_GAP * u
    gap = (window_end - window_start) / allowance
    return window_start + gap * (JITTER_LOW * u)
