"""The wizard in a real 80×24 terminal (tmux on a private socket), reached through the palette.

Pilot drives the app from inside; this drives the real command with keys sent
by tmux and reads the screen back, so the palette, the keys chosen for the
wizard (ctrl+n, f-keys: what a terminal actually sends) and the 80×24 layout
are what a user gets.
"""

from __future__ import annotations

import shutil
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.terminal import enginy_in_tmux
from tests.tui_support import make

pytestmark = pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")


def test_wizard_through_the_palette_at_80x24(tmp_path: Path) -> None:
    ws = make(tmp_path / "ws")
    with enginy_in_tmux(ws, "tui --no-runtime") as term:
        term.wait_for("Q4 Fintech CFOs")
        term.keys(":")
        term.wait_for("Search for commands")
        term.keys("New campaign", literal=True)
        term.wait_for("From scratch or a template")
        term.keys("Enter")
        term.wait_for("start from scratch or from a template")
        term.keys("j")
        term.wait_for("Best for:")  # the preview of the highlighted template
        term.keys("Enter")
        term.wait_for("1 Sequence")
        term.keys("Typed in tmux", literal=True)
        term.keys("Tab")
        term.keys("Enter")
        term.wait_for("Marcus Reed")  # the identity menu is open
        term.keys("Down")
        time.sleep(0.5)  # a person's pace: the highlight's move is not visible in plain text
        term.keys("Enter")
        term.wait_for(lambda s: "Dismiss menu" not in s)
        term.keys("C-n")
        screen = term.wait_for("Audience: 0 contacts")
        assert "Demo leads" in screen
        conn = sqlite3.connect(ws / "enginy.db")
        assert conn.execute("SELECT status FROM campaigns WHERE name = 'Typed in tmux'").fetchall() == [("draft",)]
        conn.close()
        term.keys("F6")
        term.wait_for("No audience: add a list or contacts")
        term.keys("Escape")
        term.wait_for("Draft 2")  # back on the dashboard: the Draft tab counts the new one
