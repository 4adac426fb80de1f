"""Files enginy creates are readable by their owner only: a workspace holds people's names,
addresses and conversations — the database, its log, the sandbox, exports and backups alike.

Its own module, with nothing to import, so the command's entry point can set the umask first
thing without loading the workspace code.
"""

from __future__ import annotations

import os

PRIVATE_UMASK = 0o077


def keep_private() -> None:
    """Make what this process creates from now on private. Called by enginy's entry points (the
    command, the detached runtime) — not by the library, whose callers (tests, other programs)
    keep their own umask."""
    os.umask(PRIVATE_UMASK)
