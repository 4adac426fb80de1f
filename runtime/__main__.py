"""`python -m runtime --workspace DIR [--speed R] [--stop-with PID]`: a workspace's runtime in this process.

`spawn_background` (runtime/service.py) starts this detached, so the runtime
never goes through the command line's modules; `enginy run` is the same
`run_workspace` for people, with `--until` on top. A mistake ends in one line
on stderr (the runtime log, when detached) and exit code 2, as in the CLI.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m runtime", description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", type=Path, required=True, help="The workspace folder.")
    parser.add_argument("--speed", type=float, default=1.0, help="Workspace seconds per real second.")
    parser.add_argument("--stop-with", type=int, metavar="PID", help="Stop when process PID ends.")
    args = parser.parse_args(argv)
    from storage.private import keep_private

    keep_private()

    from runtime.lease import LeaseHeld
    from runtime.service import RunOptionError, run_workspace
    from storage.workspace import WorkspaceError

    try:
        run_workspace(args.workspace, speed=args.speed, stop_with=args.stop_with)
    except (RunOptionError, WorkspaceError, LeaseHeld) as exc:
        sys.stderr.write(f"enginy: {exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
