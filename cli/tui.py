"""`enginy tui`: open the app on the workspace, starting its runtime in the background if none runs.

The runtime is a separate, detached process (its own session, output to
`runtime.log` in the workspace) so campaigns keep running when the SSH
session or the app goes away; the app only reads the database and writes
intents. "Runs" means: the runtime_lease row has a fresh heartbeat.
"""

from __future__ import annotations

from datetime import datetime

import typer

from cli.workspace import open_ws


def runtime_alive(db, now: datetime) -> dict | None:
    """The lease holder when a runtime holds the workspace (heartbeat fresher than the runtime's LEASE_STALE)."""
    from runtime.lease import LEASE_STALE, holder

    h = holder(db)
    if h is None or datetime.fromisoformat(h.heartbeat_at) < now - LEASE_STALE:
        return None
    return {"pid": h.pid, "host": h.host, "heartbeat_at": h.heartbeat_at}


def tui(ctx: typer.Context,
        no_runtime: bool = typer.Option(False, "--no-runtime", help="Do not start a runtime (read-only look).")) -> None:
    """Open the full-screen app on the workspace (starts its runtime in the background if none runs)."""
    from runtime.clock import wall_now
    from tui.app import EnginyApp

    from storage.db import read_only

    workspace = open_ws(ctx)
    db = workspace.open_db()
    try:
        holder = runtime_alive(db, wall_now())
        frozen = read_only(db)
    finally:
        db.close()
    if frozen:
        notice = "This workspace is read-only: you can look around, not change anything; no runtime was started."
    elif holder:
        notice = f"Runtime running (pid {holder['pid']} on {holder['host']})."
    elif no_runtime:
        notice = "No runtime is running: campaigns do not advance (enginy run, or enginy tui without --no-runtime)."
    else:
        from runtime.lease import spawn_background

        pid = spawn_background(workspace.dir)
        notice = (f"Started the runtime in the background (pid {pid}, log {workspace.dir / 'runtime.log'}); "
                  "it keeps running after you quit — enginy stop ends it.")
    from runtime.inbox_connect import InboxConnection

    EnginyApp(workspace, notice=notice, connect_inbox=InboxConnection.of_fields).run()
