"""The runtime seen from outside its process: its lease, asking it to stop, starting it detached.

The lease is the single `runtime_lease` row (see runtime/service.py for how a
running runtime keeps it fresh). A runtime takes it when it is absent, stale
(heartbeat older than `LEASE_STALE` of wall time: the holder died), or held by
a pid of this host that no longer exists; otherwise it refuses with who holds
it. This module loads neither Trio nor the engine, so `enginy tui`, `stop` and
the demo ask "does a runtime run?" and start one without loading the runtime.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import sqlite_utils

from runtime.clock import wall_now
from storage import runtime_lease
from storage.db import transaction
from storage.runtime_lease import LEASE_STALE, Holder, holder, process_alive


class LeaseHeld(Exception):
    """Another runtime holds the workspace; the message says who."""


def holder_gone(h: Holder, now: datetime) -> bool:
    """The holder is no longer running: its heartbeat is stale, or its pid on this host has ended
    (a kill -9 or a crash leaves the lease row behind)."""
    stale = datetime.fromisoformat(h.heartbeat_at) < now - LEASE_STALE
    return stale or (h.host == socket.gethostname() and not process_alive(h.pid))


def acquire(db: sqlite_utils.Database) -> None:
    now = wall_now()
    me = (os.getpid(), socket.gethostname())
    with transaction(db):
        h = holder(db)
        if h is not None:
            if not holder_gone(h, now) and (h.pid, h.host) != me:
                raise LeaseHeld(f"another runtime holds this workspace: pid {h.pid} on {h.host}, running since "
                                f"{h.started_at} (last heartbeat {h.heartbeat_at}); stop it with `enginy stop`")
        runtime_lease.take(db, pid=me[0], host=me[1], now=now)


def release(db: sqlite_utils.Database) -> None:
    with transaction(db):
        runtime_lease.drop(db, os.getpid())


def clear_if_gone(db: sqlite_utils.Database) -> Holder | None:
    """Drop the lease of a runtime that ended without releasing it (returns that holder, else None),
    so `enginy stop` can say at once that nothing runs instead of waiting for a dead process."""
    with transaction(db):
        h = holder(db)
        if h is None or not holder_gone(h, wall_now()):
            return None
        runtime_lease.drop(db, h.pid)
    return h


def request_stop(db: sqlite_utils.Database) -> Holder | None:
    """Ask the workspace's runtime to stop (returns the holder, None when none runs)."""
    h = holder(db)
    if h is not None:
        with transaction(db):
            runtime_lease.ask_to_stop(db)
    return h


def spawn_background(workspace: Path, *, speed: float | None = None, log: Path | None = None,
                     stop_with: int | None = None) -> int:
    """Start the workspace's runtime detached (own session: survives the SSH session and the TUI).
    Returns its pid.

    It is `python -m runtime` (runtime/__main__.py), not the CLI: the runtime starts without
    loading the command line's modules. `stop_with`: a pid whose end stops the runtime however
    that process ends (quit, a closed terminal's SIGHUP, kill -9) — the demo's runtime must not
    outlive the demo."""
    args = [sys.executable, "-m", "runtime", "--workspace", str(workspace)]
    if speed:
        args += ["--speed", str(speed)]
    if stop_with is not None:
        args += ["--stop-with", str(stop_with)]
    # 0600 whatever the caller's umask: the log names leads and their companies
    out = os.fdopen(os.open(log or (Path(workspace) / "runtime.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600),
                    "ab")
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=out, stderr=out, start_new_session=True,
                            cwd=Path(__file__).resolve().parent.parent)
    return proc.pid
