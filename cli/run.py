"""`enginy run`, `enginy stop`, `enginy simulate`: the runtime in the foreground, stopping it, a simulated run.

`run` holds the workspace lease (a second `run` refuses, naming the holder)
and stops cleanly on `enginy stop`, SIGTERM, SIGINT or SIGHUP. `--speed R`
runs workspace time R× faster (starting from the later of the wall time and
the workspace's last clock position, so time never goes backwards);
`--until 3d` stops after that much workspace time.
"""

from __future__ import annotations

import os
import re
import time
from datetime import timedelta
from typing import Optional

import typer

from sequences.limits import RUN_DAYS_MAX, SEED_MAX, WAIT_MAX_S
from cli.output import UserError, emit
from cli.workspace import open_ws, workspace_dir

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    m = _DURATION.match(text or "")
    if not m:
        raise UserError(f"--until takes a duration like 90m, 12h or 3d, not {text!r}")
    return timedelta(seconds=float(m.group(1)) * _UNITS[m.group(2)])


def run(
    ctx: typer.Context,
    speed: float = typer.Option(1.0, "--speed", help="Workspace seconds per real second (e.g. 3600: an hour a second)."),
    until: Optional[str] = typer.Option(None, "--until", help="Stop after this much workspace time (90m, 12h, 3d)."),
    stop_with: Optional[int] = typer.Option(
        None, "--stop-with", metavar="PID",
        help="Stop when process PID ends (the demo ties its runtime to its own life this way)."),
) -> None:
    """Run the campaigns of the workspace in the foreground until stopped."""
    from runtime.lease import LeaseHeld
    from runtime.service import RunOptionError, run_workspace
    from storage.workspace import WorkspaceError

    limit = parse_duration(until) if until else None
    try:
        run_workspace(workspace_dir(ctx), speed=speed, until=limit, stop_with=stop_with)
    except (RunOptionError, WorkspaceError, LeaseHeld) as exc:
        raise UserError(str(exc)) from None


def stop(
    ctx: typer.Context,
    wait: float = typer.Option(30.0, "--wait", min=0, max=WAIT_MAX_S, help="Seconds to wait for the runtime to finish."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Ask the workspace's runtime to stop cleanly, and wait until it has.

    A runtime that already ended without releasing the workspace (killed, crashed) is said so at
    once and its lease cleared; one that dies while we wait counts as stopped."""
    from runtime.lease import clear_if_gone, holder, holder_gone, request_stop
    from runtime.clock import wall_now

    db = open_ws(ctx).open_db()
    dead = clear_if_gone(db)
    if dead is not None:
        emit({"stopped": False, "reason": "not running", "pid": dead.pid, "stale_lease_cleared": True}, json_out,
             f"no runtime is running: pid {dead.pid} on {dead.host} ended without releasing the workspace "
             "(killed or crashed); its lease is cleared")
        return
    h = request_stop(db)
    if h is None:
        emit({"stopped": False, "reason": "no runtime is running"}, json_out, "no runtime is running")
        return
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if holder(db) is None or holder_gone(h, wall_now()):
            clear_if_gone(db)
            emit({"stopped": True, "pid": h.pid}, json_out, f"runtime (pid {h.pid}) stopped")
            return
        time.sleep(0.2)
    raise UserError(f"the runtime (pid {h.pid} on {h.host}) did not stop within {wait:g} s")


def simulate(
    identities: int = typer.Option(5, "--identities", min=1),
    leads_per_identity: int = typer.Option(500, "--leads-per-identity", min=1),
    days: float = typer.Option(30.0, "--days", min=0.1, max=RUN_DAYS_MAX),
    seed: int = typer.Option(1, "--seed", min=0, max=SEED_MAX),
    processes: int = typer.Option(
        os.cpu_count() or 1, "--processes", min=1,
        help="Worker processes; identities are split between them. The result does not depend on it."),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Run a throw-away sandbox workspace for DAYS simulated days and check every invariant."""
    from runtime.simulation import run_simulation

    report = run_simulation(identities=identities, leads_per_identity=leads_per_identity, days=days, seed=seed,
                            processes=processes)
    human = (f"{report['enrollments']['total']} enrollments, {days:g} days in {report['wall_s']} s; "
             f"violations: {report['violation_count']}; cap utilization worst {report['cap_utilization']['worst']}"
             f" mean {report['cap_utilization']['mean']}; actions {report['actions']}")
    emit(report, json_out, human)
    if report["violation_count"]:
        raise typer.Exit(1)
