"""The wizard in a real 80×24 terminal (tmux on a private socket), reached through the palette.

Pilot drives the app from inside; this drives the real command with keys sent
by tmux and reads the screen back, so the palette, the keys chosen for the
wizard (ctrl+n, f-keys: what a terminal actually sends) and the 80×24 layout
are what a user gets.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.waits import wait_until
from tests.tui_support import make

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
ENGINY = str(Path(sys.executable).with_name("enginy"))


def _screen(tmux: list[str]) -> str:
    return subprocess.run([*tmux, "capture-pane", "-p", "-t", "t"], capture_output=True, text=True).stdout


def _wait_for(tmux: list[str], text: str, timeout: float = 30.0) -> str:
    def shown() -> str | None:
        screen = _screen(tmux)
        return screen if text in screen else None
    return wait_until(shown, timeout=timeout, interval=0.2, what=repr(text),
                      detail=lambda: f"the screen was:\n{_screen(tmux)}")


def _wait_for_not(tmux: list[str], text: str, timeout: float = 30.0) -> str:
    def gone() -> str | None:
        screen = _screen(tmux)
        return screen if text not in screen else None
    return wait_until(gone, timeout=timeout, interval=0.2, what=f"{text!r} to go",
                      detail=lambda: f"the screen was:\n{_screen(tmux)}")


def _keys(tmux: list[str], *keys: str, literal: bool = False) -> None:
    subprocess.run([*tmux, "send-keys", "-t", "t", *(["-l"] if literal else []), *keys], check=True)


def test_wizard_through_the_palette_at_80x24(tmp_path: Path) -> None:
    ws = make(tmp_path / "ws")
    tmux = ["tmux", "-L", f"enginy-wizard-{os.getpid()}"]
    subprocess.run([*tmux, "new-session", "-d", "-s", "t", "-x", "80", "-y", "24",
                    f"env -u COLUMNS -u LINES {ENGINY} --workspace {ws} tui --no-runtime; sleep 30"], check=True)
    subprocess.run([*tmux, "resize-window", "-t", "t", "-x", "80", "-y", "24"], capture_output=True)
    try:
        _wait_for(tmux, "Q4 Fintech CFOs")
        _keys(tmux, ":")
        _wait_for(tmux, "Search for commands")
        _keys(tmux, "New campaign", literal=True)
        _wait_for(tmux, "From scratch or a template")
        _keys(tmux, "Enter")
        _wait_for(tmux, "start from scratch or from a template")
        _keys(tmux, "j")
        _wait_for(tmux, "Best for:")  # the preview of the highlighted template
        _keys(tmux, "Enter")
        _wait_for(tmux, "1 Sequence")
        _keys(tmux, "Typed in tmux", literal=True)
        _keys(tmux, "Tab")
        _keys(tmux, "Enter")
        _wait_for(tmux, "Marcus Reed")  # the identity menu is open
        _keys(tmux, "Down")
        time.sleep(0.5)  # a person's pace: the highlight's move is not visible in plain text
        _keys(tmux, "Enter")
        _wait_for_not(tmux, "Dismiss menu")
        _keys(tmux, "C-n")
        screen = _wait_for(tmux, "Audience: 0 contacts")
        assert "Demo leads" in screen
        conn = sqlite3.connect(ws / "enginy.db")
        assert conn.execute("SELECT status FROM campaigns WHERE name = 'Typed in tmux'").fetchall() == [("draft",)]
        conn.close()
        _keys(tmux, "F6")
        _wait_for(tmux, "No audience: add a list or contacts")
        _keys(tmux, "Escape")
        _wait_for(tmux, "Draft 2")  # back on the dashboard: the Draft tab counts the new one
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
