"""Benchmark: 200 identities × 5,000 leads (1,000,000 enrollments) × 30 simulated days.

    python -m bench.simulate [--identities 200] [--leads 5000] [--days 30] [--seed 1] [--processes N]

Prints wall time, peak RSS (the sum over the worker processes) and the
checker's verdict. Goal on a 2-core machine: under 3 minutes and under 2 GB,
with no violations. `--processes` defaults to one per core; the result (and
its log_sha256) does not depend on it, so `--processes 1` is the one-core
baseline to compare against.

Measured 2026-11-23 on the shared 2-core dev box (other work running, so
wall time is pessimistic; CPU seconds are the steadier figure):

    before (one process, b7fb0f2)   1,077 s wall, 1.23 GB, worst cap utilization 0.95
    after  (two processes)            432 s wall (657 s CPU), 1.75 GB, worst 0.9926, 0 violations

What changed: the runtime's look-ups use their partial indexes (a scan of
the outbox per refill grew with the run), Identity limits is marked only
when a day/month cap is spent (not at every spacing wait), a job filed into
a waiting lane marks only its own lead, intents are looked for only after
another process committed, working-hour windows and lane ready times are
cached, pacing leaves a retry margin at the end of the day, the scratch
database journals in memory and commits every 30 simulated minutes, and
identities are split over one process per core.

Measured again later that day, host otherwise idle, the two versions run one
after the other with this command:

    0ab6af4 (the version above)   367.6 s wall, 1.74 GB, worst 0.9926, 0 violations
    now                           233.8 s wall, 1.77 GB, worst 0.9926, 0 violations  (1.57x faster)

What changed: actors wake only when there is something to do (a finished
job woke its campaign actor although the lead was due days later: 2 of 3
campaign turns found nothing; a filed job woke its identity queue although
the lane's ready time had not moved; the LinkedIn poller woke every 10
minutes to ask whether its actor still ran); the build rebuilds the search
indexes and counts once instead of by a trigger per row (storage.bulk_load:
a worker's build 10.4 -> 4.5 s of CPU); a step's UPDATE names only the
columns whose value changed (SQLite rewrites the index entries of every
column named, ~40 -> ~12 us a write), milestone updates run only when a bit
is new, the outbox insert and activity record skip look-ups; iso() does not
convert UTC times; identities are dealt to the workers by their work (the
odd/even split gave one worker an eighth more).

The goal (180 s) is still not reached (1.3x). One worker alone spends
~195 s of CPU; with both running at once each takes ~210-230 s. Of a
worker's time about 45 % is SQLite (writes to the enrollments, outbox,
activity and ledger tables with their indexes, ~7 % the grouped commits,
which committing every 6 h instead of 30 min does not change), ~15 % Trio's
scheduling and cancel scopes, the rest the actors' Python. Tried without
gain: commit intervals of 30 min vs 4-6 h; an in-memory database (slower
at 20 identities, and over the memory goal at full size).
"""

from __future__ import annotations

import argparse
import json
import os

from runtime.simulation import run_simulation

GOAL_S = 180
GOAL_MB = 2048


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--identities", type=int, default=200)
    p.add_argument("--leads", type=int, default=5000)
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    a = p.parse_args()
    r = run_simulation(identities=a.identities, leads_per_identity=a.leads, days=a.days, seed=a.seed,
                       processes=a.processes)
    keys = ("wall_s", "run_s", "process_run_s", "processes", "peak_rss_mb", "violation_count", "cap_utilization",
            "actions", "enrollments", "log_sha256")
    print(json.dumps({k: r[k] for k in keys}, indent=1))
    print(f"{r['enrollments']['total']:,} enrollments × {a.days:g} days on {r['processes']} process(es): "
          f"{r['wall_s']} s wall ({r['wall_s'] / GOAL_S:.2f}× the {GOAL_S} s goal), {r['peak_rss_mb']} MB peak RSS "
          f"({r['peak_rss_mb'] / GOAL_MB:.2f}× the {GOAL_MB} MB goal), {r['violation_count']} violations, "
          f"worst cap utilization {r['cap_utilization']['worst']}")


if __name__ == "__main__":
    main()
