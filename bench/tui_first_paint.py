"""How long the TUI takes to show its dashboard: `python -m bench.tui_first_paint [--rounds N]`.

Runs, N rounds in turn, in a real terminal (tmux on a private socket, 120×40):

* `enginy tui --no-runtime` on an empty workspace (made in a temporary folder),
  until the painted dashboard shows its sort line ("sort: launch date");
* a Textual hello-world app with a Header and a Footer (written by the bench
  into a temporary file), until its text shows — the floor Textual itself sets.

Each time runs from just before tmux starts the process to the first
`capture-pane` that holds the text (polled every 10 ms). Prints the medians
and the median of the per-round ratios (goal, issue 12: ≤ 1.5×). It prints
figures and asserts nothing; CI does not run it.
"""

from __future__ import annotations

import argparse
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOCKET = f"enginy-bench-{os.getpid()}"
HELLO = '''
from textual.app import App
from textual.widgets import Footer, Header, Static


class Hello(App):
    BINDINGS = [("q", "quit", "Quit")]

    def compose(self):
        yield Header()
        yield Static("hello, first paint")
        yield Footer()


Hello().run()
'''


def _tmux(*args: str) -> str:
    return subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True).stdout


def _first_paint(command: str, marker: str, timeout: float = 60.0) -> float:
    """Seconds from starting `command` in a fresh tmux window until `marker` is on screen."""
    start = time.perf_counter()
    _tmux("new-session", "-d", "-s", "bench", "-x", "120", "-y", "40", command)
    try:
        while time.perf_counter() - start < timeout:
            if marker in _tmux("capture-pane", "-p", "-t", "bench"):
                return time.perf_counter() - start
            time.sleep(0.01)
        raise TimeoutError(f"{marker!r} never showed: {command}")
    finally:
        _tmux("kill-session", "-t", "bench")
        time.sleep(0.2)  # let the killed app restore the terminal and exit before the next round


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="Rounds of each (default 9).")
    args = parser.parse_args()
    py = shlex.quote(sys.executable)
    # A user's shell does not forbid bytecode caches (without them every start compiles this
    # checkout's modules again), so the warm-up round writes them, as a user's first start would.
    env = f"env -u PYTHONDONTWRITEBYTECODE PYTHONPATH={shlex.quote(str(ROOT))} TERM=xterm-256color"
    with tempfile.TemporaryDirectory(prefix="enginy-tui-paint-") as tmp:
        ws, hello = Path(tmp) / "ws", Path(tmp) / "hello.py"
        hello.write_text(HELLO)
        subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), "init"],
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.DEVNULL, check=True)
        cases = {
            "enginy tui --no-runtime": (f"{env} {py} -c 'from cli.main import run; run()' --workspace "
                                        f"{shlex.quote(str(ws))} tui --no-runtime", "sort: launch date"),
            "textual hello world": (f"{env} {py} {shlex.quote(str(hello))}", "hello, first paint"),
        }
        _tmux("start-server")
        try:
            for command, marker in cases.values():  # warm the bytecode caches
                _first_paint(command, marker)
            times: dict[str, list[float]] = {name: [] for name in cases}
            for _ in range(args.rounds):
                for name, (command, marker) in cases.items():
                    times[name].append(_first_paint(command, marker))
        finally:
            _tmux("kill-server")
    floor = times["textual hello world"]
    print(f"{args.rounds} rounds, {ROOT}")
    for name, samples in times.items():
        ratio = statistics.median(t / f for t, f in zip(samples, floor))
        print(f"  {name:<26} median {statistics.median(samples) * 1000:7.0f} ms   {ratio:5.2f}× the hello world")


if __name__ == "__main__":
    main()
