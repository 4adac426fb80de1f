"""Showing text that comes from outside (contacts, companies, subjects, messages) literally.

A contact named "[bold red]X[/]" or carrying terminal escape sequences must not
change the screen: such text only ever reaches Textual as a `rich.text.Text`
built without markup parsing, after control characters (ESC, BEL, CR, …) are
replaced by a visible placeholder. Every widget that shows outside data goes
through `literal()`; nothing in the TUI formats outside data into a markup string.
"""

from __future__ import annotations

from datetime import datetime, timezone

from rich.text import Text

from sequences.inert import inert
from sequences.mail_text import fold


def clean(value: object) -> str:
    """The string with every control character replaced by '�' (so it stays visible, on one
    line): `sequences.inert`, the rule every output shares."""
    return inert(value)


def literal(value: object, style: str = "") -> Text:
    """A Text showing `value` exactly as written: no markup, no escapes, no controls."""
    return Text(clean(value), style=style, no_wrap=True, overflow="ellipsis", end="")


def snippet(text: str, width: int = 120) -> str:
    """A message's own words on one line: quoted history and signature folded away, spaces
    collapsed, cut at `width` (still raw: show it through `literal()` or `clean()`)."""
    return " ".join(fold(text).text.split())[:width]


def joined(*parts: Text | str, sep: str = "") -> Text:
    """Join our own fixed strings and `literal()` pieces into one Text."""
    out = Text(end="")
    for i, part in enumerate(parts):
        if i and sep:
            out.append(sep)
        out.append(part if isinstance(part, Text) else Text(part))
    return out


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo else at.replace(tzinfo=timezone.utc)


def short_time(value: str | None) -> str:
    """'2026-11-23 14:00' from stored ISO text (UTC)."""
    at = parse_time(value)
    return at.strftime("%Y-%m-%d %H:%M") if at else "—"
