"""The forecast the queue monitor shows: `enginy forecast`, rerun by the runtime when its inputs moved.

One definition of a forecast (runtime/forecast.py: the real runtime on a
sandbox copy). It costs seconds (3 s for the demo's 30 days), so the runtime
never runs it in its own loop: a child process (`python -m
runtime.forecast_live DB DAYS`, at a lower CPU priority) prints the report and
the runtime keeps it in `runtime_state` (storage.forecast.save_live), where
`enginy queue` and the published views read it, with its start as its age.

It runs again only when what it depends on moved (storage.forecast.inputs_stamp:
new actions, a campaign's status, an identity's settings), and then no sooner
than `EVERY_S` real seconds after the last one nor than `SHARE` times its
duration (a forecast of a million leads takes minutes: the child then gets at
most 1/SHARE of a core); an idle runtime never runs it. A workspace with
no running campaign has none (the last one is kept: it says when it was made).
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Callable

import sqlite_utils
import trio

from runtime.clock import wall_now
from storage import forecast as store
from storage.db import transaction

DAYS = 30.0
EVERY_S = 120.0  # real seconds between two forecasts at least
SHARE = 20  # ... and at least this many times the last one's duration
CHECK_S = 5.0  # real seconds between two looks at the inputs
NICE = 10


async def _sleep_real(seconds: float) -> None:
    """Real seconds, whatever the clock's rate (the demo's runs an hour a second); cancelled at once on stop."""
    await trio.to_thread.run_sync(time.sleep, seconds, abandon_on_cancel=True)


class LiveForecast:
    def __init__(self, db: sqlite_utils.Database, db_path: Path, on_saved: Callable[[], None]) -> None:
        self.db, self.db_path, self.on_saved = db, db_path, on_saved
        self._stamp: tuple | None = None

    async def run(self, task_status=trio.TASK_STATUS_IGNORED) -> None:
        """A background task of the Service: check the inputs every few real seconds."""
        task_status.started()
        while True:
            stamp = store.inputs_stamp(self.db)
            if stamp != self._stamp:
                self._stamp = stamp
                started = wall_now()
                if await self.refresh():
                    await _sleep_real(max(EVERY_S, SHARE * (wall_now() - started).total_seconds()))
                    continue
            await _sleep_real(CHECK_S)

    async def refresh(self) -> bool:
        """Forecast now in a child process; keep the report. False when there was nothing to forecast."""
        done = await trio.run_process(
            [sys.executable, "-m", "runtime.forecast_live", str(self.db_path), str(DAYS)],
            capture_stdout=True, capture_stderr=True, check=False, preexec_fn=lambda: os.nice(NICE),
            # the crash matrix's kill points are the runtime's, not its forecast's (runtime/crashpoints.py)
            env={k: v for k, v in os.environ.items() if not k.startswith("ENGINY_CRASH_")})
        if done.returncode != 0 or not done.stdout.strip():
            return False
        with transaction(self.db):
            store.save_live(self.db, done.stdout.decode())
        self.on_saved()
        return True


def main(db_path: str, days: str) -> None:
    """The child: print the report as JSON (nothing when no campaign runs)."""
    from runtime.forecast import NothingToForecast, run_forecast

    try:
        report = run_forecast(Path(db_path), days=float(days))
    except NothingToForecast:
        return
    sys.stdout.write(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:3])
