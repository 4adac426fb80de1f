"""`enginy tui`: open the app on the workspace, starting its runtime in the background if none runs.

The runtime is a separate, detached process (its own session, output to
`runtime.log` in the workspace) so campaigns keep running when the SSH
session or the app goes away; the app only reads the database and writes
intents. "Runs" means: the runtime_lease row has a fresh heartbeat.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import typer

LEASE_FRESH = timedelta(seconds=15)


def runtime_alive(db, now: datetime) -> dict | None:
    """The lease row when a runtime holds the workspace (fresh heartbeat), else None."""
    row = db.execute("SELECT holder, pid, host, heartbeat_at FROM runtime_lease WHERE id = 1").fetchone()
    if row is None:
        return None
    try:
        beat = datetime.fromisoformat(row[3])
    except ValueError:
        return None
    if now - beat > LEASE_FRESH and beat - now < timedelta(days=3650):
        return None
    return {"holder": row[0], "pid": row[1], "host": row[2], "heartbeat_at": row[3]}


def start_runtime(workspace_dir: Path, extra: list[str] | None = None) -> subprocess.Popen:
    """`enginy run` detached: new session, no terminal, output to runtime.log in the workspace."""
    log = open(workspace_dir / "runtime.log", "ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(workspace_dir), "run",
             *(extra or [])],
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            cwd=str(workspace_dir), env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
        )
    finally:
        log.close()


def tui(ctx: typer.Context,
        no_runtime: bool = typer.Option(False, "--no-runtime", help="Do not start a runtime (read-only look).")) -> None:
    """Open the full-screen app on the workspace (starts its runtime in the background if none runs)."""
    from cli.main import open_ws
    from runtime.clock import wall_now
    from tui.app import EnginyApp

    workspace = open_ws(ctx)
    db = workspace.open_db()
    try:
        holder = runtime_alive(db, wall_now())
    finally:
        db.close()
    if holder:
        notice = f"Runtime running (pid {holder['pid']} on {holder['host']})."
    elif no_runtime:
        notice = "No runtime is running: campaigns do not advance (enginy run, or enginy tui without --no-runtime)."
    else:
        proc = start_runtime(workspace.dir)
        notice = (f"Started the runtime in the background (pid {proc.pid}, log {workspace.dir / 'runtime.log'}); "
                  "it keeps running after you quit — enginy stop ends it.")
    EnginyApp(workspace, notice=notice).run()
