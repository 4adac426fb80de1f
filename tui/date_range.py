"""A custom date range typed as text: `2026-11-01..2026-11-20`, `2026-11-01..`, `..2026-11-20` or one day.

Shared by the Activity tab (when actions happened) and the dashboard (when
campaigns were created), so both read a range the same way. Days are UTC
days, as every stored time is UTC; the end day is included.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Callable

HINT = "YYYY-MM-DD..YYYY-MM-DD (either end may be left out; one date: that day)"


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"not a date: {text.strip()!r} (use {HINT})") from None


def _start(day: date) -> str:
    return datetime.combine(day, time(0), tzinfo=timezone.utc).isoformat()


def parse_range(text: str) -> tuple[str | None, str | None, str]:
    """(since, until exclusive, label); ValueError with a one-line message for anything else."""
    text = text.strip()
    if not text:
        raise ValueError(f"give a range: {HINT}")
    first, dots, last = text.partition("..")
    start = _day(first) if first.strip() else None
    end = _day(last) if last.strip() else None
    if not dots:
        end = start
    if start is None and end is None:
        raise ValueError(f"give at least one end: {HINT}")
    if start and end and end < start:
        raise ValueError(f"the range ends ({end}) before it starts ({start})")
    label = (f"{start}" if start == end else f"{start or '…'} – {end or '…'}")
    return (_start(start) if start else None, _start(end + timedelta(days=1)) if end else None, label)


def ask_range(screen, what: str, then: Callable[[str | None, str | None, str], object]) -> None:
    """Ask for a range ("Actions between …"); `then(since, until, label)` once it reads, else a one-line warning."""
    from tui.screens.modals import PromptScreen

    def typed(text: str | None) -> None:
        if text is None:
            return
        try:
            since, until, label = parse_range(text)
        except ValueError as exc:
            screen.notify(str(exc), severity="warning")
            return
        then(since, until, label)

    screen.app.push_screen(PromptScreen(f"{what} ({HINT})", placeholder="2026-11-01..2026-11-20"), typed)
