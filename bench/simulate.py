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

Measured once more on 2026-11-23 (a later session), host otherwise idle:

    47747e1 (the "now" above)     212.0 s wall, 1.77 GB  (measured again that day)
    now                           159.3 / 167.8 / 169.9 s wall (three runs), 1.73 GB,
                                  worst 0.9926, 0 violations, the same log_sha256 each run

The goal (180 s, 2 GB) is met. The workers' own figures ("process_run_s")
vary by about 5 % between runs of the same version on this host.

What changed: inside the scratch database's commit groups a transaction
joins the group without a savepoint and the rollback journal is off (copying
every touched page into the journal and the savepoints' sub-journals was
~10 %; a failed write now voids the run instead, storage.db.GroupVoid);
commits every 6 simulated hours instead of 30 minutes (~6 %); 16 KiB pages
in a new scratch database (~4 %); the unused index enrollments_metrics is
dropped (m046, ~5 % of a 25-identity run); a finished action does not look
its lead up again for milestones it has; iso() and Clock.now() reuse their
last answer; the sandbox's per-call failure draw hashes its key instead of
seeding a Random (this changed the world's transient failures, so the log
hash of a given seed changed once); the checker builds a working window once
per identity-day.

What is left of a worker (py-spy): ~40 % SQLite (each action writes the
outbox three times, the ledger, the activity log and its lead, through their
indexes), ~13 % Trio's scheduling (about five run-loop turns per action), the
rest the actors' Python. Not tried: fewer activity indexes (the TUI's pages
use them), batching the campaign actor's channel sends.
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
