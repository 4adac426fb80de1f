"""Benchmark: 200 identities × 5,000 leads (1,000,000 enrollments) × 30 simulated days.

    python -m bench.simulate [--identities 200] [--leads 5000] [--days 30] [--seed 1]

Prints wall time, peak RSS and the checker's verdict. Goal on a 2-core
machine: under 3 minutes and under 2 GB, with no violations.
"""

from __future__ import annotations

import argparse
import json

from runtime.simulation import run_simulation


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--identities", type=int, default=200)
    p.add_argument("--leads", type=int, default=5000)
    p.add_argument("--days", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args()
    r = run_simulation(identities=a.identities, leads_per_identity=a.leads, days=a.days, seed=a.seed)
    print(json.dumps({k: r[k] for k in ("wall_s", "run_s", "peak_rss_mb", "violation_count", "cap_utilization",
                                        "actions", "enrollments", "log_sha256")}, indent=1))
    print(f"{r['enrollments']['total']:,} enrollments × {a.days:g} days: {r['wall_s']} s wall, "
          f"{r['peak_rss_mb']} MB peak RSS, {r['violation_count']} violations")


if __name__ == "__main__":
    main()
