"""How counts and ages read, in the app and in the CLI alike: one function each.

Why here: both `storage` (the dashboard's rows, which the CLI prints) and `tui`
show them, and the two disagreed ("1 errors"; "2d ago" in one, "1 mo ago" in the
other). Pure: the caller passes the time (the workspace clock's now).
"""

from __future__ import annotations

from datetime import datetime, timezone


def plural(n: int, noun: str, many: str | None = None) -> str:
    """'1 lead', '2 leads', '1,204 errors', plural(2, 'company', 'companies')."""
    return f"{n:,} {noun if n == 1 else (many or noun + 's')}"


def ago(then: datetime | str | None, now: datetime) -> str:
    """'just now', '5m ago', '14h ago', '3d ago', '1 mo ago', '2y ago' (the spec's "Created (relative)")."""
    if then is None or then == "":
        return "—"
    if isinstance(then, str):
        try:
            then = datetime.fromisoformat(then)
        except ValueError:
            return "—"
    if then.tzinfo is None:
        then = then.replace(tzinfo=timezone.utc)
    seconds = max(0, int((now - then).total_seconds()))
    for size, unit in ((365 * 86400, "y"), (30 * 86400, " mo"), (86400, "d"), (3600, "h"), (60, "m")):
        if seconds >= size:
            return f"{seconds // size}{unit} ago"
    return "just now"
