"""The queue monitor in a real terminal during a fast demo: a bucket fills up, then refills.

`enginy demo` in tmux (tests/test_tui_terminal.py's helpers), its runtime a
separate process on a clock at 7200× (two hours a real second), the Queues
screen opened with `Q`. The demo is seeded to start on a Monday at 07:00 in
Madrid, so whatever day the test runs, Lucía's working day comes within a
second, and her invitations are capped at 8 a day (her campaigns queue
dozens): the bucket must be seen spent (8/8, a full bar) once the day's cap
is sent, and given back after midnight — the
screen following the runtime live, without a key pressed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

from cli.demo import seed
from storage.db import transaction
from storage.identities import update_identity
from storage.timeline import save_position
from storage.workspace import open_workspace
from tests.support.waits import wait_until
from tests.test_tui_terminal import _alive, _runtime_pid, demo_in_tmux, pytestmark  # noqa: F401

LIMIT = 8
INVITATIONS = re.compile(r"invitations\s+[█░]+\s+(\d+)/(\d+)")


def next_monday_6am_utc(now: datetime) -> datetime:
    day = (now + timedelta(days=1)).replace(hour=6, minute=0, second=0, microsecond=0)
    return day + timedelta(days=(7 - day.weekday()) % 7)


def invitations(screen: str) -> tuple[int, int] | None:
    m = INVITATIONS.search(screen)
    return (int(m.group(1)), int(m.group(2))) if m else None


def test_a_bucket_fills_and_refills_in_the_monitor_during_the_demo(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    start = next_monday_6am_utc(datetime.now(timezone.utc))
    seed(folder, contacts=600, now=start)
    db = open_workspace(folder).open_db()
    # Lucía's invitations capped at 8 a day (her two campaigns queue dozens): the cap is spent every day
    update_identity(db, "Lucía Ortega", now=start, actor="test", daily_connection_limit=LIMIT)
    with transaction(db):
        save_position(db, start)  # the runtime starts here: the clock never runs backwards
    db.close()
    with demo_in_tmux(folder, 100, 40) as term:
        term.wait_for("Q4 Fintech CFOs", timeout=30)
        runtime = _runtime_pid(folder)
        term.keys("Q")
        screen = term.wait_for(lambda s: "Lucía Ortega" in s and invitations(s) is not None, timeout=15)
        assert "Actions/h" in screen
        full = term.wait_for(lambda s: (b := invitations(s)) is not None and b[0] == b[1] > 0, timeout=20)
        assert invitations(full) == (LIMIT, LIMIT) and "Lucía Ortega" in full  # her panel: the highlight stayed
        assert re.search(r"invitations\s+█{12}\s", full)  # a full bar
        refilled = term.wait_for(lambda s: (b := invitations(s)) is not None and b[0] < LIMIT, timeout=15)
        assert invitations(refilled)[1] == LIMIT
        term.keys("Escape")
        term.wait_for(lambda s: "Lucía Ortega" not in s or "Actions/h" not in s, timeout=10)  # the dashboard
        term.keys("q")
        wait_until(lambda: runtime is None or not _alive(runtime), timeout=15, interval=0.2,
                   what="quitting the demo to stop its runtime")
