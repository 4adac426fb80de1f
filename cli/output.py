"""How every command speaks to the user: JSON for scripts, plain lines for people.

A user mistake must end in one clear line and exit code 2, never a traceback;
commands raise `UserError` and the root command turns it into that line.
"""

from __future__ import annotations

import sys
from typing import Any

import msgspec


class UserError(Exception):
    """A mistake the user can fix (bad file, unknown id, invalid option).

    The message is shown as-is on stderr; the process exits with code 2.
    """


def emit(obj: Any, json_mode: bool, human: str | None = None) -> None:
    """Print `obj` as one JSON document, or `human` (default: str(obj)) for people."""
    if json_mode:
        sys.stdout.write(msgspec.json.encode(obj).decode() + "\n")
    else:
        sys.stdout.write((human if human is not None else str(obj)) + "\n")
    sys.stdout.flush()


def emit_line(obj: Any) -> None:
    """Print one JSON object on its own line (JSON Lines output)."""
    sys.stdout.write(msgspec.json.encode(obj).decode() + "\n")
    sys.stdout.flush()


def contact_json(c) -> dict:
    """A contact as `contacts list` / `lists show` print it with --json."""
    return {"id": c.id, "first_name": c.first_name, "last_name": c.last_name, "company": c.company,
            "job_title": c.job_title, "email": c.email, "linkedin_url": c.linkedin_url, "phone": c.phone,
            "custom": c.custom}


def contact_line(c) -> str:
    """A contact as one line of a page for people."""
    name = f"{c.first_name} {c.last_name}".strip() or "—"
    return f"{c.id:>7}  {name[:30]:<30}  {(c.email or '')[:34]:<34}  {c.company[:24]}"
