"""Figures: one build of the queue monitor's view for 50 identities (the runtime publishes it every real second).

A simulation workspace (runtime.simulation.build: 50 identities, their
campaigns and leads) run for two simulated days so lanes, ledgers and
substatuses are filled, then the view of every identity, timed.
The issue's goal: under 20 ms per tick. Figures only (no assertion).

    PYTHONPATH=$PWD python bench/queue_monitor.py [--identities 50] [--leads 300]
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--identities", type=int, default=50)
    parser.add_argument("--leads", type=int, default=300)
    parser.add_argument("--days", type=float, default=2.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = open_db(Path(folder) / "bench.db")
        build_workspace(db, identities=args.identities, leads_per_identity=args.leads, seed=7)
        end = EPOCH + timedelta(days=args.days)

        async def run() -> None:
            await Runtime(db, world=SandboxWorld(7), poll_interval=600.0).run(epoch=EPOCH, until=end)

        run_simulated(run, 7)
        times = []
        for _ in range(10):
            t = time.perf_counter()
            view = build(db, end)
            times.append((time.perf_counter() - t) * 1000)
        publisher = QueuePublisher(db)
        first = time.perf_counter()
        publisher.publish(end)
        first_ms = (time.perf_counter() - first) * 1000
        again = time.perf_counter()
        written = publisher.publish(end)
        again_ms = (time.perf_counter() - again) * 1000
        depth = sum(ln.depth for i in view.identities for ln in i.lanes)
        print(f"{len(view.identities)} identities, {depth:,} queued jobs: build median {sorted(times)[5]:.1f} ms, "
              f"best {min(times):.1f} ms; publish first {first_ms:.1f} ms, unchanged tick {again_ms:.1f} ms "
              f"({written} written)")


if __name__ == "__main__":
    main()
