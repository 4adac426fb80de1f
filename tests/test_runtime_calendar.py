"""Working hours, caps and pacing: the pure arithmetic the identity actor trusts.

DST weeks in Europe/Madrid and America/New_York, weekend gaps, midnight
resets in the identity's zone, rolling windows, and that pacing spreads a
day's allowance over the window and still fits it all in.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from runtime import limits, pacing
from runtime.limits import ActionTimes, earliest_allowed, rolling, day, month
from runtime.queue_order import RankedWindow, sort_key
from sequences.working_hours import WorkingHours

UTC = timezone.utc


def madrid() -> WorkingHours:
    return WorkingHours.parse("Europe/Madrid", "mon,tue,wed,thu,fri", "09:00", "18:00")


def test_madrid_spring_forward_keeps_local_nine_oclock():
    wh = madrid()
    # Friday before the change (CET, UTC+1) and Monday after (CEST, UTC+2): 2026-03-29 is the switch.
    fri = wh.window_on(datetime(2026, 3, 27).date())
    mon = wh.window_on(datetime(2026, 3, 30).date())
    assert fri == (datetime(2026, 3, 27, 8, tzinfo=UTC), datetime(2026, 3, 27, 17, tzinfo=UTC))
    assert mon == (datetime(2026, 3, 30, 7, tzinfo=UTC), datetime(2026, 3, 30, 16, tzinfo=UTC))


def test_new_york_fall_back_and_weekend_gap():
    wh = WorkingHours.parse("America/New_York", "mon,tue,wed,thu,fri", "09:00", "17:00")
    # 2026-11-01 (Sunday) clocks go back: Friday EDT (UTC-4), Monday EST (UTC-5).
    fri_evening = datetime(2026, 10, 30, 21, 30, tzinfo=UTC)  # 17:30 EDT: closed
    assert not wh.is_open(fri_evening)
    assert wh.next_open(fri_evening) == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)  # Monday 09:00 EST
    assert wh.is_open(datetime(2026, 10, 30, 20, 59, tzinfo=UTC))


def test_day_start_is_local_midnight_across_dst():
    wh = madrid()
    at = datetime(2026, 3, 29, 12, tzinfo=UTC)  # Sunday of the change, 14:00 CEST
    assert wh.day_start(at) == datetime(2026, 3, 28, 23, tzinfo=UTC)  # 00:00 CET
    assert wh.next_day_start(at) == datetime(2026, 3, 29, 22, tzinfo=UTC)  # 00:00 CEST
    assert wh.month_start(datetime(2026, 4, 1, 0, 30, tzinfo=UTC)) == datetime(2026, 3, 31, 22, tzinfo=UTC)


def test_start_inside_a_spring_forward_gap_opens_after_the_gap():
    wh = WorkingHours.parse("Europe/Madrid", "sun", "02:30", "05:00")
    begin, end = wh.window_on(datetime(2026, 3, 29).date())
    assert begin == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 03:30 CEST, the first real instant after 02:30 CET
    assert end == datetime(2026, 3, 29, 3, 0, tzinfo=UTC)


def test_daily_cap_resets_at_local_midnight_not_utc():
    wh = WorkingHours.parse("America/New_York", "mon,tue,wed,thu,fri,sat,sun", "00:00", "23:59")
    log = ActionTimes()
    for i in range(3):
        log.add(datetime(2026, 6, 10, 14, i, tzinfo=UTC))  # 10:0x EDT on June 10
    rules = (day(3),)
    at = datetime(2026, 6, 10, 23, tzinfo=UTC)  # 19:00 EDT, still June 10 locally
    assert earliest_allowed(rules, log, at, wh) == datetime(2026, 6, 11, 4, tzinfo=UTC)


def test_rolling_windows_and_spacing():
    wh = WorkingHours.parse("UTC", "mon,tue,wed,thu,fri,sat,sun", "00:00", "23:59")
    t0 = datetime(2026, 6, 10, 9, tzinfo=UTC)
    log = ActionTimes([t0])
    assert earliest_allowed((rolling(1, 240),), log, t0, wh) == t0 + timedelta(seconds=240)
    log = ActionTimes([t0 + timedelta(minutes=m) for m in (0, 1, 2, 3, 4)])
    # 5 evaluations per 30 minutes: the 6th waits until the first leaves the window
    assert earliest_allowed((rolling(5, 1800),), log, t0 + timedelta(minutes=5), wh) == t0 + timedelta(minutes=30)


def test_monthly_limit_waits_for_next_local_month():
    wh = madrid()
    log = ActionTimes([datetime(2026, 6, 3, 10, tzinfo=UTC), datetime(2026, 6, 4, 10, tzinfo=UTC)])
    nxt = earliest_allowed((month(2),), log, datetime(2026, 6, 20, 10, tzinfo=UTC), wh)
    assert nxt == datetime(2026, 7, 1, 7, tzinfo=UTC)  # Wednesday July 1st, 09:00 CEST


def test_identity_limits_means_a_day_or_month_cap_is_spent_not_a_spacing_wait():
    wh = WorkingHours.parse("America/New_York", "mon,tue,wed,thu,fri,sat,sun", "00:00", "23:59")
    t0 = datetime(2026, 6, 10, 14, tzinfo=UTC)  # 10:00 EDT
    visits = (rolling(1, 240), day(2))
    log = ActionTimes([t0])
    # one visit done: the next waits 4 minutes for spacing, but no cap is spent
    assert earliest_allowed(visits, log, t0 + timedelta(minutes=1), wh) > t0 + timedelta(minutes=1)
    assert not limits.calendar_cap_spent(visits, log, t0 + timedelta(minutes=1), wh)
    log.add(t0 + timedelta(minutes=5))
    assert limits.calendar_cap_spent(visits, log, t0 + timedelta(minutes=6), wh)
    # local midnight (04:00 UTC) resets it, UTC midnight does not
    assert limits.calendar_cap_spent(visits, log, datetime(2026, 6, 11, 1, tzinfo=UTC), wh)
    assert not limits.calendar_cap_spent(visits, log, datetime(2026, 6, 11, 4, 30, tzinfo=UTC), wh)
    conversations = (month(2),)
    assert limits.calendar_cap_spent(conversations, log, datetime(2026, 6, 30, 12, tzinfo=UTC), wh)
    assert not limits.calendar_cap_spent(conversations, log, datetime(2026, 7, 1, 12, tzinfo=UTC), wh)


def test_limits_of_an_identity_row():
    row = {"daily_connection_limit": 20, "daily_message_limit": 100, "premium": 1,
           "monthly_conversation_limit": 300}
    rules = limits.linkedin_rules(row)
    assert limits.day_cap(rules[limits.VISIT]) == 150
    assert rules[limits.CONVERSATION] == (month(300),)
    assert limits.email_rules({"per_day": 95, "per_hour": 20}) == (day(80), rolling(10, 3600))


@settings(max_examples=60, deadline=None)
@given(cap=st.integers(1, 120), start_h=st.integers(5, 11), hours=st.integers(4, 12), seed=st.integers(0, 10**6))
def test_pacing_spreads_and_fits_the_whole_allowance(cap, start_h, hours, seed):
    """Saturated demand: the pacer places exactly `cap` actions inside the window, not a burst."""
    rng = random.Random(seed)
    begin = datetime(2026, 6, 10, start_h, tzinfo=UTC)
    end = begin + timedelta(hours=hours)
    margin = pacing.retry_margin(begin, end)
    t = pacing.first_slot(begin, end, cap, rng.random())
    done = []
    while t < end and len(done) < cap:
        done.append(t)
        t = pacing.next_slot(t, end, cap - len(done), rng.random(), margin)
    assert len(done) == cap
    assert all(begin <= x < end for x in done)
    # the whole plan ends before the retry margin: a 429 on the last action can be retried today
    assert done[-1] < end - margin
    if cap >= 4:
        assert done[0] > begin  # not at opening time
        assert done[cap // 2] - begin > (end - begin) / 8  # spread, not a burst


def test_sort_key_orders_depth_then_priority_then_tiebreak():
    keys = {
        "deep-low": sort_key(2, "low", 5),
        "shallow-high": sort_key(0, "high", 1),
        "shallow-medium": sort_key(0, "medium", 0),
        "shallow-high-2": sort_key(0, "high", 9),
    }
    assert sorted(keys, key=keys.get) == ["deep-low", "shallow-high", "shallow-high-2", "shallow-medium"]


def test_ranked_window_keeps_the_best_and_knows_when_to_refill():
    w: RankedWindow[str] = RankedWindow(capacity=2)
    assert w.offer(5, "a", "a") and w.offer(3, "b", "b")
    assert not w.offer(9, "c", "c")  # worse than the window while full: stays in storage
    assert w.spilled
    assert w.offer(1, "d", "d")  # better: enters, pushing out the worst
    assert [w.pop(), w.pop()] == ["d", "b"]
    assert w.needs_refill()
    w.refill([(5, "a", "a"), (9, "c", "c")])
    assert w.items() == ["a", "c"] and w.spilled
