"""Faults of the place the workspace lives — not of the user's input: a lock held by another
program, a full disk, a read-only filesystem, an I/O error.

Every part says them the same way (`describe`): the CLI as one line and a clean exit, the app as
a notice, the runtime as a log line while it waits for the fault to pass (runtime/service.py).
"""

from __future__ import annotations

import errno
import os
import sqlite3
from pathlib import Path

#: sqlite's primary result codes (the low byte of `sqlite_errorcode`) that mean "the environment", and
#: what to tell the user. BUSY: another connection holds the write lock past our busy timeout.
_FAULTS = {
    5: "the workspace database is locked by another program",  # SQLITE_BUSY
    6: "the workspace database is locked by another program",  # SQLITE_LOCKED
    13: "the disk holding the workspace is full",  # SQLITE_FULL
    8: "the workspace is read-only",  # SQLITE_READONLY
    10: "the disk holding the workspace reported an I/O error",  # SQLITE_IOERR
    14: "the workspace database cannot be opened (a missing or read-only folder?)",  # SQLITE_CANTOPEN
}
LOCKED = (5, 6)
#: The same faults met by plain file writes, as the sqlite code that says them.
_OS_FAULTS = {errno.ENOSPC: 13, errno.EDQUOT: 13, errno.EROFS: 8, errno.EIO: 10}
#: What the user can do about it, after the reason.
_ADVICE = {5: "try again when it has finished", 6: "try again when it has finished",
           13: "free some space and try again", 8: "only reading works here", 10: "check the disk",
           14: "check the folder"}


class ReadOnlyOutdated(Exception):
    """A read-only workspace database whose schema is older than this enginy's: it cannot be read."""


def storage_error(exc: BaseException | None) -> sqlite3.Error | OSError | None:
    """The sqlite error of the environment behind `exc` (itself, its cause or context, a worker's or an
    exception group's), or None when `exc` is something else."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, sqlite3.Error) and (getattr(e, "sqlite_errorcode", 0) & 0xFF) in _FAULTS:
            return e
        if isinstance(e, OSError) and e.errno in _OS_FAULTS:  # the log, an export, the sandbox file
            return e
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)
        stack.extend([e.__cause__, e.__context__, getattr(e, "error", None)])
    return None


def describe(exc: BaseException, db_path: Path | str | None = None, *, advice: bool = True) -> str | None:
    """One line for a storage fault behind `exc` (None when it is not one), with what the user can do
    about it unless `advice` is False. A lock names the processes that held the database (noted on the
    error when it happened, else looked up from `db_path`), as far as this system shows them."""
    if isinstance(exc, ReadOnlyOutdated):
        return str(exc)
    e = storage_error(exc)
    if e is None:
        return None
    code = _OS_FAULTS[e.errno] if isinstance(e, OSError) else e.sqlite_errorcode & 0xFF
    text = _FAULTS[code]
    if code in LOCKED:
        holders = getattr(e, "lock_holders", None) or (lock_holders(Path(db_path)) if db_path else [])
        if holders:
            text += " (" + ", ".join(f"pid {pid}: {name}" for pid, name in holders) + ")"
    return f"{text}: {_ADVICE[code]}" if advice else text


def note_lock_holders(exc: sqlite3.Error, db_path: str) -> None:
    """Remember on a lock error who held the lock when it happened: by the time it is told (after a
    runtime has wound its tasks down) the holder may have let go."""
    if (getattr(exc, "sqlite_errorcode", 0) & 0xFF) in LOCKED and db_path:
        exc.lock_holders = lock_holders(Path(db_path))


def lock_holders(db_path: Path) -> list[tuple[int, str]]:
    """Other processes with the database (or its WAL) open, from /proc (Linux); [] where unknown."""
    try:
        targets = {os.path.realpath(db_path), os.path.realpath(f"{db_path}-wal")}
        pids = [int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
    except OSError:
        return []
    found = []
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
            if any(os.path.realpath(f"/proc/{pid}/fd/{fd}") in targets for fd in fds):
                with open(f"/proc/{pid}/comm", encoding="utf-8", errors="replace") as comm:
                    name = "".join(c if c.isprintable() else "?" for c in comm.read().strip())
                found.append((pid, name))
        except OSError:
            continue
    return found
