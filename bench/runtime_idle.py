"""Figures: the CPU an idle `enginy run` burns (the issue's goal: under 0.5 % of one core).

A workspace with 50 identities, their campaigns and 300 leads each
(runtime.simulation.build), every campaign paused: nothing is due, yet the
runtime holds its lease, beats its heartbeat, publishes the queue monitor's
view and polls. The real command runs as a child process for N seconds of
wall time; its CPU time (user + system, from /proc) over the wall time is the
figure. The first seconds (start-up, the first publication) are left out.
Figures only (no assertion).

Measured 2026-12-03 (2 cores shared with other work): 1.10 % before (the
heartbeat's own lease and clock writes made the publisher rebuild all 50
views every second), 0.15 % after (it rebuilds only what the runtime's writes
touched, runtime/queue_publish.py).

    PYTHONPATH=$PWD python bench/runtime_idle.py [--seconds 30] [--identities 50]
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from runtime.simulation import build as build_workspace
from storage.workspace import init_workspace

WARM_UP_S = 5.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and of its children it has waited for (the forecast's), so far
    (/proc/PID/stat, clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def idle_workspace(folder: Path, identities: int) -> Path:
    ws = init_workspace(folder / "ws")
    db = ws.open_db()
    build_workspace(db, identities=identities, leads_per_identity=300, seed=7)
    db.execute("UPDATE campaigns SET status = 'paused'")
    db.conn.commit()
    db.close()
    return ws.dir


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--identities", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = idle_workspace(Path(tmp), args.identities)
        proc = subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws),
                                 "run"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(WARM_UP_S)
            cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
            time.sleep(args.seconds)
            cpu, wall = cpu_seconds(proc.pid) - cpu0, time.monotonic() - wall0
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=30)
        print(f"idle `enginy run`, {args.identities} identities, nothing due: {cpu:.2f} s CPU in {wall:.1f} s"
              f" = {100 * cpu / wall:.2f} % of a core (goal < 0.5 %)")


if __name__ == "__main__":
    main()
