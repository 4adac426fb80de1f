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
