"""The long crash matrix: 200+ kill -9s of `enginy run`, at every point of a send on both channels
and at random, against the real mail servers (Dovecot/Postfix on loopback) and the LinkedIn gateway
contract server. Needs root (the mail stack) and takes about ten minutes; CI runs the short version
(tests/test_crash_matrix.py).

    python -m bench.crash_matrix [--kills 200] [--seed 1]

Prints, per channel, the kills at each point, the steps that had to be delivered, and how many were
lost or delivered twice (both must be 0), then the wall time per kill. A duplicate or a loss makes
it exit 1.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from tests.support.crash_matrix import (EMAIL_POINTS, LINKEDIN_POINTS, Tally, check_email, check_linkedin,
                                        email_workspace, finish, linkedin_workspace, run_matrix)
from tests.support.gateway_server import start_gateway
from tests.support.mailstack import destroy_stack, missing_reason, start_stack


def _progress(channel: str):
    def show(n: int, total: int, elapsed: float) -> None:
        sys.stderr.write(f"\r{channel}: {n}/{total} kills, {elapsed:.0f} s")
        sys.stderr.flush()
    return show


def _row(channel: str, tally: Tally, seconds: float) -> str:
    kills = sum(tally.kills.values())
    points = ", ".join(f"{p} {n}" for p, n in sorted(tally.kills.items()))
    return (f"{channel:<9} {kills:>5} kills ({points})\n{'':<9} {tally.steps_expected:>5} steps, "
            f"{tally.delivered} delivered, lost {tally.lost}, duplicated {tally.duplicated}; "
            f"{seconds:.0f} s ({seconds / max(kills, 1):.1f} s a kill)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=200, help="Kills in all, shared by the two channels.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    reason = missing_reason()
    if reason:
        print(f"bench.crash_matrix: {reason}", file=sys.stderr)
        return 2
    half = args.kills // 2
    results = []
    stack, gateway = start_stack(), start_gateway()
    try:
        with tempfile.TemporaryDirectory() as folder:
            for channel, points in (("email", EMAIL_POINTS), ("linkedin", LINKEDIN_POINTS)):
                per_point = max(1, (half * 2 // 3) // len(points))  # two thirds at the points, a third at random
                randoms = max(1, half - per_point * len(points))
                leads = per_point * len(points) + randoms * 2  # room for every round to reach its point
                tally, started = Tally(), time.monotonic()
                if channel == "email":
                    ws, recipients = email_workspace(stack, Path(folder) / channel, leads)
                else:
                    ws = linkedin_workspace(gateway, Path(folder) / channel, leads)
                run_matrix(ws, points, per_point=per_point, randoms=randoms, seed=args.seed, tally=tally,
                           progress=_progress(channel))
                failure = ""
                try:
                    finish(ws, until="7d")
                    if channel == "email":
                        check_email(stack, ws, recipients, tally)
                    else:
                        check_linkedin(gateway, ws, leads, tally)
                except AssertionError as exc:  # reported with the figures, not instead of them
                    failure = str(exc)[:500]
                sys.stderr.write("\n")
                results.append((channel, tally, time.monotonic() - started, failure))
    finally:
        gateway.stop()
        destroy_stack(stack)
    for channel, tally, seconds, failure in results:
        print(_row(channel, tally, seconds))
        if tally.wrong:
            print(f"{'':<9} received other than once: {', '.join(tally.wrong[:10])}")
        if failure:
            print(f"{'':<9} FAILED: {failure}")
    tallies = [t for _, t, _, _ in results]
    print(f"total: {sum(sum(t.kills.values()) for t in tallies)} kills, lost {sum(t.lost for t in tallies)}, "
          f"duplicated {sum(t.duplicated for t in tallies)}")
    return 1 if any(t.lost or t.duplicated for t in tallies) or any(f for *_, f in results) else 0


if __name__ == "__main__":
    sys.exit(main())
