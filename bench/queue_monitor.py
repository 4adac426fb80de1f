"""Figures: the queue monitor's cost per tick with 50 identities and 1M leads (the issue's goal: under 20 ms).

A simulation workspace (runtime.simulation.build: 50 identities × 20,000
leads, their campaigns) run for a simulated day so lanes, ledgers and
substatuses are filled. Then:

* a full build of every identity's view (what every tick cost before; now
  only on another process's commit);
* the runtime running on within one minute, the publisher ticking beside it
  every second as the Service's heartbeat does: it rebuilds only the
  identities the runtime's writes touched (runtime/queue_publish.py) — the
  per-second cost of a live run;
* a tick with nothing written (an idle runtime's heartbeat);
* a new minute with nothing written: every view built again (local times,
  windows) from what was read (`runtime.queue_view.Reads`).

Figures only (no assertion). Measured 2026-12-03, 1M leads, on 2 cores at a
load of ~6 from other work (read ratios; unloaded, the full build was 42 ms):
before, every tick built every view, 74.5 ms median; after, 48 ticks of a
live runtime: median 0.0 ms, 90th percentile 6.9 ms, worst 9.4 ms; a new
minute (every view from what was read) 12.3 ms median, 29.2 ms worst; an idle
tick 0.04 ms. A full read remains on another process's commit (the app's
intents, a CLI command): the "before" figure.

    PYTHONPATH=$PWD python bench/queue_monitor.py [--identities 50] [--leads 20000] [--days 1]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import timedelta
from pathlib import Path

import trio

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
        idle = ms(lambda: publisher.publish(end + timedelta(seconds=1)))
        ticks, written = [], []

        async def live() -> None:
            """The runtime on, the publisher ticking every second beside it as the Service's heartbeat does."""
            rt = Runtime(db, world=SandboxWorld(7), poll_interval=600.0)
            async with trio.open_nursery() as nursery:
                async def runtime(task_status=trio.TASK_STATUS_IGNORED) -> None:
                    await rt.run(epoch=end + timedelta(seconds=1), until=end + timedelta(seconds=58),
                                 task_status=task_status)
                    nursery.cancel_scope.cancel()

                await nursery.start(runtime)
                await trio.sleep(9)  # past the runtime's start: it reloads every identity's lanes (writes to all)
                publisher.publish(rt.clock.now())
                while True:
                    await trio.sleep(1)
                    t = time.perf_counter()
                    written.append(publisher.publish(rt.clock.now()))
                    ticks.append((time.perf_counter() - t) * 1000)

        run_simulated(live, 7)
        ticks.sort()
        minute = sorted(ms(lambda k=k: publisher.publish(end + timedelta(minutes=k))) for k in range(2, 9))
        view = build(db, end)
        depth = sum(ln.depth for i in view.identities for ln in i.lanes)
        print(f"{len(view.identities)} identities, {args.identities * args.leads:,} leads, {depth:,} queued jobs")
        print(f"before — every view built each tick: median {full[3]:.1f} ms, best {full[0]:.1f} ms"
              f" (now only on another process's commit; first publish {first:.1f} ms)")
        n = len(ticks)
        print(f"after — {n} ticks of a live runtime, one a second: median {ticks[n // 2]:.1f} ms,"
              f" 90th percentile {ticks[n * 9 // 10]:.1f} ms, worst {ticks[-1]:.1f} ms"
              f" ({sum(written)} views written); a tick with nothing written {idle:.2f} ms")
        print(f"after — a new minute, every view built from what was read: median {minute[3]:.1f} ms,"
              f" worst {minute[-1]:.1f} ms")


if __name__ == "__main__":
    main()
