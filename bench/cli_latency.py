"""How fast `enginy` starts: `python -m bench.cli_latency [--rounds N]`.

Creates an empty workspace in a temporary folder, then runs, N rounds
interleaved (so a busy moment of the host hits every command alike), each as
a subprocess with this interpreter:

* `python -c pass`                      the floor: the interpreter alone,
* `enginy campaigns list --json`        a command that opens the workspace,
* `enginy --help`                       the root help (every command's one-liner).

Prints each one's median wall time and its median ratio to `python -c pass`
(the ratio of each round, then the median, so a slow round of the host does not
skew it). The goal (issue 12): each command ≤ 5× `python -c pass`. It prints
figures and asserts nothing; CI does not run it.

`enginy` is `python -c "from cli.main import run; run()"`: the console script
does the same import, and this way the checkout run is the one measured
(PYTHONPATH is set to this checkout).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENGINY = [sys.executable, "-c", "from cli.main import run; run()"]


def _time(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=21, help="Interleaved rounds (default 21).")
    args = parser.parse_args()
    # A user's shell does not forbid bytecode caches: without them every run compiles
    # this checkout's modules again (~20 ms of each command here), which is not what users see.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"} | {"PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="enginy-cli-latency-") as tmp:
        ws = str(Path(tmp) / "ws")
        subprocess.run([*ENGINY, "--workspace", ws, "init"], env=env, stdout=subprocess.DEVNULL, check=True)
        cases = {
            "python -c pass": [sys.executable, "-c", "pass"],
            "enginy campaigns list --json": [*ENGINY, "--workspace", ws, "campaigns", "list", "--json"],
            "enginy --help": [*ENGINY, "--help"],
        }
        for cmd in cases.values():  # warm the bytecode caches and the page cache
            _time(cmd, env)
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, cmd in cases.items():
                times[name].append(_time(cmd, env))
    floor = times["python -c pass"]
    print(f"{args.rounds} rounds, {ROOT}")
    for name, samples in times.items():
        ratio = statistics.median(t / f for t, f in zip(samples, floor))
        print(f"  {name:<30} median {statistics.median(samples) * 1000:7.1f} ms   {ratio:5.2f}× python -c pass")


if __name__ == "__main__":
    main()
