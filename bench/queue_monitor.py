"""Figures: the queue monitor's cost per tick with 50 identities and 1M leads (the issue's goal: under 20 ms).

A simulation workspace (runtime.simulation.build: 50 identities × 20,000
leads, their campaigns) run for a simulated day so lanes, ledgers and
substatuses are filled. Then:

* a full build of every identity's view (what the runtime's publisher does
  on another process's commit or a new minute of the clock);
* the runtime running on, 50 simulated seconds inside one minute, then the
  publisher's tick: it rebuilds only the identities the runtime's writes
  touched (runtime/queue_publish.py) — the per-second cost of a live run;
* a tick with nothing written (an idle runtime's heartbeat).

Figures only (no assertion). Measured 2026-12-03 (2 cores shared with other
work; read ratios): before, every tick rebuilt every view, 42 ms (1M leads);
after, a tick after 50 busy seconds rebuilds the few touched identities
(see the output: a few ms), an idle tick 0.1 ms, a full build unchanged
(~40 ms, once a minute).

    PYTHONPATH=$PWD python bench/queue_monitor.py [--identities 50] [--leads 20000] [--days 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from runtime.clock import run_simulated
from runtime.engine import Runtime
from runtime.queue_publish import QueuePublisher
from runtime.queue_view import build
from runtime.sandbox.world import SandboxWorld
from runtime.simulation import EPOCH
from runtime.simulation import build as build_workspace
from storage.db import open_db


def ms(fn) -> float:
    t = time.perf_counter()
    fn()
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--identities", type=int, default=50)
    parser.add_argument("--leads", type=int, default=20_000, help="per identity (50 × 20,000 = 1M)")
    parser.add_argument("--days", type=float, default=1.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "bench.db")
        build_workspace(db, identities=args.identities, leads_per_identity=args.leads, seed=7)
        # a busy hour: 10:00 UTC, working hours in most of the identities' zones
        end = EPOCH + timedelta(days=args.days, hours=10)

        def run(since, until) -> None:
            async def main() -> None:
                await Runtime(db, world=SandboxWorld(7), poll_interval=600.0).run(epoch=since, until=until)
            run_simulated(main, 7)

        run(EPOCH, end)
        full = sorted(ms(lambda: build(db, end)) for _ in range(7))
        publisher = QueuePublisher(db)
        first = ms(lambda: publisher.publish(end))
        idle = ms(lambda: publisher.publish(end + timedelta(seconds=5)))
        ticks, written = [], 0
        for second in range(5, 55):  # the heartbeat's ticks during 50 s of a live run
            run(end + timedelta(seconds=second), end + timedelta(seconds=second + 1))
            t = time.perf_counter()
            written += publisher.publish(end + timedelta(seconds=second + 1))
            ticks.append((time.perf_counter() - t) * 1000)
        ticks.sort()
        view = build(db, end)
        depth = sum(ln.depth for i in view.identities for ln in i.lanes)
        print(f"{len(view.identities)} identities, {args.identities * args.leads:,} leads, {depth:,} queued jobs")
        print(f"full build of every view: median {full[3]:.1f} ms, best {full[0]:.1f} ms; first publish {first:.1f} ms")
        print(f"tick, nothing written: {idle:.2f} ms")
        print(f"ticks during 50 s of the runtime, one a second: median {ticks[25]:.1f} ms, 90th percentile"
              f" {ticks[45]:.1f} ms, worst {ticks[-1]:.1f} ms ({written} views written)")


if __name__ == "__main__":
    main()
