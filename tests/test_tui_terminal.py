"""`enginy demo` in a real terminal (tmux on a private socket): what a user sees, changing over time.

Keys go through tmux and the screen is read back with capture-pane, so this
covers what Pilot cannot: the real driver, the detached runtime process, and
quitting, which must stop the demo's runtime.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.waits import wait_until

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
ENGINY = str(Path(sys.executable).with_name("enginy"))


def _screen(tmux: list[str]) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True).stdout


def _wait_for(tmux: list[str], predicate, timeout: float = 20.0) -> str:
    """The screen, once `predicate` holds for it."""
    def ready() -> str | None:
        screen = _screen(tmux)
        return screen if predicate(screen) else None
    return wait_until(ready, timeout=timeout, interval=0.2, what="the screen",
                      detail=lambda: f"the screen was:\n{_screen(tmux)}")


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


@contextmanager
def demo_in_tmux(folder: Path, cols: int, rows: int, *, speed: int = 7200) -> Iterator[list[str]]:
    """`enginy demo --speed S` on `folder` in a `cols`×`rows` tmux session on a private socket (the
    tmux command prefix is yielded); afterwards the session is gone, and so is the demo's runtime
    if it outlived it (a failed test must not leave one running)."""
    tmux = ["tmux", "-L", f"enginy-test-{os.getpid()}"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", str(cols), "-y", str(rows),
                    f"env -u COLUMNS -u LINES {ENGINY} --workspace {folder} demo --speed {speed}; sleep 30"],
                   check=True)
    subprocess.run([*tmux, "resize-window", "-t", "t", "-x", str(cols), "-y", str(rows)], capture_output=True)
    try:
        yield tmux
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        runtime = _runtime_pid(folder)  # its lease row: still there only while it runs
        if runtime is not None and _alive(runtime):
            os.kill(runtime, signal.SIGTERM)


def test_demo_in_a_real_terminal(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    # 80×24, the default SSH terminal (issue 18): the columns that matter, the chips and "? Help" fit
    with demo_in_tmux(folder, 80, 24) as tmux:
        screen = _wait_for(tmux, lambda s: "Q4 Fintech CFOs" in s and "Active 4" in s and "? Help" in s, timeout=30)
        assert "Spain SaaS founders" in screen and "Contacted" in screen and "Channels" in screen and "Tags" in screen
        assert all(len(line) <= 80 for line in screen.splitlines())
        runtime = _runtime_pid(folder)

        def contacted(s: str) -> int:  # (at 80 columns the status shows as its symbol, then Contacted)
            m = re.search(r"US logistics re-engage\s+▶\s+(\d+)", s)
            return int(m.group(1)) if m else -1

        first = contacted(screen)
        _wait_for(tmux, lambda s: contacted(s) > first, timeout=30)  # the runtime moves the numbers

        subprocess.run([*tmux, "send-keys", "-t", "t", "/"], check=True)
        _wait_for(tmux, lambda s: "Search campaigns" in s)  # the prompt is open
        subprocess.run([*tmux, "send-keys", "-t", "t", "logistics", "Enter"], check=True)
        _wait_for(tmux, lambda s: "Q4 Fintech CFOs" not in s and "US logistics re-engage" in s)
        subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True)
        _wait_for(tmux, lambda s: "Total cont" in s and "Progress by step" in s and "Next tab" in s)
        subprocess.run([*tmux, "send-keys", "-t", "t", "-l", "]"], check=True)

        def chips(s: str) -> tuple[int, ...]:
            m = re.search(r"Σ Total ([\d,]+)\s+1 ○ Not started ([\d,]+)\s+2 ▶ In progress ([\d,]+)", s)
            return tuple(int(x.replace(",", "")) for x in m.groups()) if m else ()

        before = chips(_wait_for(tmux, lambda s: bool(chips(s))))
        assert "6 ✉ Replied" in _screen(tmux)  # the chips after Error wrap instead of running off the edge
        _wait_for(tmux, lambda s: chips(s) and chips(s) != before, timeout=30)  # chips move over time
        subprocess.run([*tmux, "send-keys", "-t", "t", "Enter"], check=True)
        # the side panel (at 80×24 its timeline is further down: it scrolls)
        _wait_for(tmux, lambda s: "│ Email " in s and "│ LinkedIn " in s and "│ Status " in s)
        runtime = runtime or _runtime_pid(folder)
        assert runtime is not None, "the demo started a runtime"
        subprocess.run([*tmux, "send-keys", "-t", "t", "Escape", "Escape", "q"], check=True)
        _wait_for(tmux, lambda s: "Q4 Fintech CFOs" not in s, timeout=15)
        # the terminal goes away at once (as when an SSH session drops): the demo may be cut off
        # before its own clean-up, and its runtime must still end (it is tied to the demo's pid)
        subprocess.run([*tmux, "kill-server"], capture_output=True)
        wait_until(lambda: not _alive(runtime), timeout=15, interval=0.2,
                   what="the demo's runtime to end: it must not outlive the demo")


def test_the_sequence_editor_through_the_palette_in_an_80x24_terminal(tmp_path: Path) -> None:
    """A user at 80×24: ':' → "Edit sequence of …" → the tree; a structural key on a launched
    campaign is refused in words, a delay is changed and is in the workspace at once."""
    import sqlite3

    from tests.tui_support import make

    folder = make(tmp_path / "ws")
    tmux = ["tmux", "-L", f"enginy-editor-{os.getpid()}"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24",
                    f"env -u COLUMNS -u LINES {ENGINY} --workspace {folder} tui --no-runtime; sleep 30"], check=True)
    subprocess.run([*tmux, "resize-window", "-t", "t", "-x", "80", "-y", "24"], capture_output=True)

    def keys(*words: str, literal: bool = False) -> None:
        subprocess.run([*tmux, "send-keys", "-t", "t", *(["-l"] if literal else []), *words], check=True)

    try:
        _wait_for(tmux, lambda s: "Q4 Fintech CFOs" in s)
        keys(":")
        _wait_for(tmux, lambda s: "Search for commands" in s or "Edit sequence" in s)
        keys("Edit sequence of Q4", literal=True)
        _wait_for(tmux, lambda s: "Edit sequence of Q4 Fintech CFOs" in s)
        keys("Enter")
        screen = _wait_for(tmux, lambda s: "locked: texts and delays only" in s and "▶ Start" in s)
        assert "◎ Visit profile  visit  · as soon as possible" in screen and "■ End" in screen
        assert "Edit step" in screen.splitlines()[-1]  # the footer, at 80 columns
        keys("x")  # delete "visit" (the cursor starts on the first step): a launched campaign's steps are locked

        def toast(s: str) -> str:  # the notification's lines, joined (it wraps at 80 columns)
            return " ".join(line.split("▌", 1)[1].strip() for line in s.splitlines() if "▌" in line)

        _wait_for(tmux, lambda s: "step visit (Visit profile) was removed" in toast(s) and "steps are locked" in toast(s))
        keys("d")
        _wait_for(tmux, lambda s: "Wait before step visit" in s)
        keys("BSpace")
        keys("2d 5h", literal=True)
        _wait_for(tmux, lambda s: "2d 5h" in s)  # typed into the prompt (a loaded machine draws late)
        keys("Enter")
        _wait_for(tmux, lambda s: "◎ Visit profile  visit  · wait 2 days 5 hours" in s)
        conn = sqlite3.connect(folder / "enginy.db")
        try:
            stored = conn.execute("SELECT sequence FROM campaigns WHERE name = 'Q4 Fintech CFOs'").fetchone()[0]
        finally:
            conn.close()
        assert '"id":"visit","delay":{"days":2,"hours":5}' in stored
        keys("Escape")
        _wait_for(tmux, lambda s: "▶ Start" not in s and "Q4 Fintech CFOs" in s)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
