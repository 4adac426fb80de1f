"""How every command speaks to the user: JSON for scripts, plain lines for people.

A user mistake must end in one clear line and exit code 2, never a traceback;
commands raise `UserError` and the root command turns it into that line.

Everything printed goes through `sequences.inert`: a contact named with an
escape sequence prints as "�[2J…", never clears the screen. JSON escapes what
it must (C0) by itself; DEL, the C1 controls and bidi overrides are valid raw in
JSON but act on a terminal that shows it, so they are written as \\u escapes
too (the same string for any JSON reader).
"""

from __future__ import annotations

import re
import sys
from typing import Any

import msgspec

from sequences.inert import inert

_RAW_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def json_text(obj: Any) -> str:
    """`obj` as one JSON document that is safe to show on a terminal."""
    return _RAW_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", msgspec.json.encode(obj).decode())


def error_line(exc: BaseException) -> str:
    """The one line a refused command prints on stderr."""
    return f"enginy: {inert(exc)}\n"


class UserError(Exception):
    """A mistake the user can fix (bad file, unknown id, invalid option).

    The message is shown as-is on stderr; the process exits with code 2.
    """


def emit(obj: Any, json_mode: bool, human: str | None = None) -> None:
    """Print `obj` as one JSON document, or `human` (default: str(obj)) for people."""
    if json_mode:
        sys.stdout.write(json_text(obj) + "\n")
    else:
        sys.stdout.write(inert(human if human is not None else str(obj), lines=True) + "\n")
    sys.stdout.flush()


def emit_line(obj: Any) -> None:
    """Print one JSON object on its own line (JSON Lines output)."""
    sys.stdout.write(json_text(obj) + "\n")
    sys.stdout.flush()


def contact_json(c) -> dict:
    """A contact as `contacts list` / `lists show` print it with --json."""
    return {"id": c.id, "first_name": c.first_name, "last_name": c.last_name, "company": c.company,
            "job_title": c.job_title, "email": c.email, "linkedin_url": c.linkedin_url, "phone": c.phone,
            "custom": c.custom}


def contact_line(c) -> str:
    """A contact as one line of a page for people."""
    name = inert(f"{c.first_name} {c.last_name}".strip()) or "—"
    return f"{c.id:>7}  {name[:30]:<30}  {inert(c.email)[:34]:<34}  {inert(c.company)[:24]}"
