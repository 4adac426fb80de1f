"""An inbox's warm-up: its daily cap ramps from 5 to the configured cap over two to three weeks.

The spec's warm-up trains an address through an external network; what a local
tool can do well is not to burn a new address: send little at first and more
each day, and step back when receivers push back. Pure (no I/O, no clock):
`runtime/limits.email_rules` turns the schedule into the inbox's day rule; the
CLI, the identity screen and the queue monitor show `state` (here, so that
every layer reads one definition).

- `schedule(cap, days)`: day 0 sends START_CAP, the last day `cap`, linearly
  between; after `days` days the configured cap holds.
- `stepped_down(caps, sent, bounced)`: when bounces and complaints among the
  inbox's recent emails reach STEP_DOWN_RATE the whole ramp is halved, at
  BACK_TO_START_RATE it goes back to START_CAP (judged from MIN_SAMPLE emails on).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

START_CAP = 5
DAYS = 21
DAYS_RANGE = (14, 28)
STEP_DOWN_RATE = 0.05
BACK_TO_START_RATE = 0.10
MIN_SAMPLE = 10

#: The spec's requirements during warm-up (identities.md, Warm-Up), shown wherever it is.
WARNING = ("During warm-up, pause the campaigns that use this identity (not mandatory but highly recommended) "
           "and do not send from this address outside enginy; do not run campaigns at full volume.")


def schedule(cap: int, days: int = DAYS) -> tuple[int, ...]:
    """The daily caps of the warm-up, day 0 first (never above `cap`)."""
    if cap <= START_CAP or days <= 1:
        return (min(cap, START_CAP),) * max(days, 1)
    return tuple(round(START_CAP + (cap - START_CAP) * i / (days - 1)) for i in range(days))


def stepped_down(caps: tuple[int, ...], sent: int, bounced: int) -> tuple[int, ...]:
    """The ramp after receivers' push-back: bounces and complaints among the recent `sent` emails."""
    if sent < MIN_SAMPLE:
        return caps
    rate = bounced / sent
    if rate >= BACK_TO_START_RATE:
        return tuple(min(c, START_CAP) for c in caps)
    if rate >= STEP_DOWN_RATE:
        return tuple(max(min(c, START_CAP), c // 2) for c in caps)
    return caps


def ramp_of(inbox: dict, cap: int) -> tuple[int, ...]:
    """The inbox row's ramp (empty when it is not warming up)."""
    if not inbox.get("warmup_start"):
        return ()
    caps = schedule(cap, int(inbox.get("warmup_days") or DAYS))
    return stepped_down(caps, int(inbox.get("warmup_sent") or 0), int(inbox.get("warmup_bounced") or 0))


@dataclass(frozen=True)
class WarmupState:
    """Where an inbox is in its warm-up on one local day."""

    day: int  # 1-based
    days: int
    cap_today: int
    cap: int  # the configured daily cap, in force after the warm-up
    caps: tuple[int, ...]
    stepped_down: bool  # receivers pushed back: the ramp is lowered

    def line(self) -> str:
        """'day 3 of 21 · 9 today (then 40/day)': the same words wherever it is shown."""
        return (f"day {self.day} of {self.days} · {self.cap_today} today (then {self.cap}/day)"
                + (" · stepped down: bounces" if self.stepped_down else ""))


def state(inbox: dict, cap: int, today: date) -> WarmupState | None:
    """The inbox's warm-up on its local day `today`; None when it is not warming up that day."""
    caps = ramp_of(inbox, cap)
    if not caps:
        return None
    index = (today - date.fromisoformat(inbox["warmup_start"])).days
    if not 0 <= index < len(caps):
        return None
    full = schedule(cap, int(inbox.get("warmup_days") or DAYS))
    return WarmupState(index + 1, len(caps), caps[index], cap, caps, caps != full)
