"""The one bounded wait of the synchronous tests: poll a condition, never sleep a guessed time.

A fixed sleep is either too short on a loaded machine (a flaky test) or too
long everywhere else (a slow one); a poll returns as soon as the thing has
happened and fails, saying what never happened, when it does not. (Pilot tests
wait with `tests.tui_support.until`; Trio tests bound themselves with
`trio.fail_after`.)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from runtime.lease import holder

T = TypeVar("T")


def wait_until(condition: Callable[[], T], *, timeout: float = 20.0, what: str = "the condition",
               interval: float = 0.05, detail: Callable[[], str] | None = None) -> T:
    """Poll `condition()` until it returns something truthy, and return that. After `timeout`
    seconds fail naming `what`, followed by `detail()` (logs, a screen) when given."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            extra = f"\n{detail()}" if detail is not None else ""
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}{extra}")
        time.sleep(interval)


def wait_heartbeats(db, count: int = 1, *, timeout: float = 20.0) -> None:
    """Wait until the runtime has beaten `count` more times (it beats once a real second:
    each beat saves the clock's position, applies the demo clock rows and checks for a stop)."""
    def beat() -> str | None:
        h = holder(db)
        return h.heartbeat_at if h else None

    for _ in range(count):
        last = beat()
        wait_until(lambda: beat() != last, timeout=timeout, what="the runtime's next heartbeat")
