"""`enginy demo` and the app in a real terminal (tmux on a private socket): what a user sees,
changing over time.

Keys go through tmux and the screen is read back with capture-pane
(tests/support/terminal.py), so this covers what Pilot cannot: the real driver,
the detached runtime process, and quitting, which must stop the demo's runtime.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.terminal import Terminal, enginy_in_tmux
from tests.support.waits import wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def _runtime_pid(folder: Path) -> int | None:
    import sqlite3

    try:
        conn = sqlite3.connect(folder / "enginy.db")
        row = conn.execute("SELECT pid FROM runtime_lease WHERE id = 1").fetchone()
        conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _runtime_of(pid: int, folder: Path) -> bool:
    """Whether `pid` is still the runtime of `folder`: a lease row outliving its runtime may name a
    pid the system has since given to another process (pids wrap at 32,768 here), never to be killed."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"runtime" in argv and os.fsencode(folder) in argv


@contextmanager
def demo_in_tmux(folder: Path, cols: int, rows: int, *, speed: int = 7200) -> Iterator[Terminal]:
    """`enginy demo --speed S` on `folder` in a `cols`×`rows` terminal; afterwards the terminal is
    gone, and so is the demo's runtime if it outlived it (a failed test must not leave one running)."""
    try:
        with enginy_in_tmux(folder, f"demo --speed {speed}", cols, rows, log=folder / "runtime.log") as term:
            yield term
    finally:
        runtime = _runtime_pid(folder)  # its lease row: still there only while it runs
        if runtime is not None and _runtime_of(runtime, folder):
            os.kill(runtime, signal.SIGTERM)


def test_demo_in_a_real_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    # 80×24, the default SSH terminal (issue 18): the columns that matter, the chips and "? Help" fit
    with demo_in_tmux(folder, 80, 24) as term:
        screen = term.wait_for(lambda s: "Q4 Fintech CFOs" in s and "Active 4" in s and "? Help" in s, timeout=30)
        assert "Spain SaaS founders" in screen and "Contacted" in screen and "Channels" in screen and "Tags" in screen
        assert all(len(line) <= 80 for line in screen.splitlines())
        runtime = _runtime_pid(folder)

        def contacted(s: str) -> int:  # (at 80 columns the status shows as its symbol, then Contacted)
            m = re.search(r"US logistics re-engage\s+▶\s+(\d+)", s)
            return int(m.group(1)) if m else -1

        first = contacted(screen)
        term.wait_for(lambda s: contacted(s) > first, timeout=30)  # the runtime moves the numbers

        term.keys("/")
        term.wait_for("Search campaigns")  # the prompt is open
        term.keys("logistics", "Enter")
        term.wait_for(lambda s: "Q4 Fintech CFOs" not in s and "US logistics re-engage" in s)
        term.keys("Enter")
        term.wait_for(lambda s: "Total cont" in s and "Progress by step" in s and "Next tab" in s)
        term.keys("]", literal=True)

        def chips(s: str) -> tuple[int, ...]:
            m = re.search(r"Σ Total ([\d,]+)\s+1 ○ Not started ([\d,]+)\s+2 ▶ In progress ([\d,]+)", s)
            return tuple(int(x.replace(",", "")) for x in m.groups()) if m else ()

        before = chips(term.wait_for(lambda s: bool(chips(s))))
        assert "6 ✉ Replied" in term.screen()  # the chips after Error wrap instead of running off the edge
        term.wait_for(lambda s: chips(s) and chips(s) != before, timeout=30)  # chips move over time
        term.keys("Enter")
        # the side panel (at 80×24 its timeline is further down: it scrolls)
        term.wait_for(lambda s: "│ Email " in s and "│ LinkedIn " in s and "│ Status " in s)
        runtime = runtime or _runtime_pid(folder)
        assert runtime is not None, "the demo started a runtime"
        term.keys("Escape", "Escape", "q")
        term.wait_for(lambda s: "Q4 Fintech CFOs" not in s, timeout=15)
        # the terminal goes away at once (as when an SSH session drops): the demo may be cut off
        # before its own clean-up, and its runtime must still end (it is tied to the demo's pid)
        term.close()
        wait_until(lambda: not _alive(runtime), timeout=15, interval=0.2,
                   what="the demo's runtime to end: it must not outlive the demo")


def test_the_sequence_editor_through_the_palette_in_an_80x24_terminal(tmp_path: Path) -> None:
    """A user at 80×24: ':' → "Edit sequence of …" → the tree; a structural key on a launched
    campaign is refused in words, a delay is changed and is in the workspace at once."""
    import sqlite3

    from tests.tui_support import make

    folder = make(tmp_path / "ws")
    with enginy_in_tmux(folder, "tui --no-runtime") as term:
        term.wait_for("Q4 Fintech CFOs")
        term.keys(":")
        term.wait_for(lambda s: "Search for commands" in s or "Edit sequence" in s)
        term.keys("Edit sequence of Q4", literal=True)
        term.wait_for("Edit sequence of Q4 Fintech CFOs")
        term.keys("Enter")
        screen = term.wait_for(lambda s: "locked: texts and delays only" in s and "▶ Start" in s)
        assert "◎ Visit profile  visit  · as soon as possible" in screen and "■ End" in screen
        assert "Edit step" in screen.splitlines()[-1]  # the footer, at 80 columns
        term.keys("x")  # delete "visit" (the cursor starts on the first step): a launched campaign's steps are locked

        def toast(s: str) -> str:  # the notification's lines, joined (it wraps at 80 columns)
            return " ".join(line.split("▌", 1)[1].strip() for line in s.splitlines() if "▌" in line)

        term.wait_for(lambda s: "step visit (Visit profile) was removed" in toast(s) and "steps are locked" in toast(s))
        # typed ahead, as fast fingers or an SSH packet bring them: the delay's keys are read before
        # the prompt "d" opens is up, and go into it (tui/typeahead.py)
        term.keys("d", "BSpace")
        term.keys("2d 5h", literal=True)
        term.wait_for(lambda s: "Wait before step visit" in s and "2d 5h" in s)
        term.keys("Enter")
        term.wait_for("◎ Visit profile  visit  · wait 2 days 5 hours")
        conn = sqlite3.connect(folder / "enginy.db")
        try:
            stored = conn.execute("SELECT sequence FROM campaigns WHERE name = 'Q4 Fintech CFOs'").fetchone()[0]
        finally:
            conn.close()
        assert '"id":"visit","delay":{"days":2,"hours":5}' in stored
        term.keys("Escape")
        term.wait_for(lambda s: "▶ Start" not in s and "Q4 Fintech CFOs" in s)
