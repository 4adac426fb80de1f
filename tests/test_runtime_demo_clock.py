"""The demo's clock controls reach a running runtime: the TUI only writes the
`demo_speed` / `demo_paused` rows (storage/demo_clock.py), and the Service's
heartbeat applies them within a second — a pause stops workspace time, a new
speed makes it run at that rate. Observed, like the TUI does, through the
`clock_position` the runtime saves every heartbeat."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from runtime.lease import request_stop
from runtime.service import Service
from storage.timeline import clock_position
from storage.db import open_db
from storage.demo_clock import set_demo_clock
from tests.support.waits import wait_heartbeats, wait_until

pytestmark = pytest.mark.timeout(60)


def test_running_service_follows_demo_speed_and_pause_rows(tmp_path):
    path = tmp_path / "ws.db"
    db = open_db(path, check_same_thread=False)
    set_demo_clock(db, speed=60.0, paused=False)  # rows present at start do not override --speed
    service = Service(db, speed=60.0)
    seen: dict = {}

    def tui_side() -> None:
        """What the TUI does from its own connection (the Service must run in the main thread: signals)."""
        tui = open_db(path)
        try:
            seen["started"] = wait_until(lambda: clock_position(tui), timeout=10, what="a saved clock position")
            set_demo_clock(tui, paused=True)
            # applied by a heartbeat after it saved the position; the next one saves the frozen position
            wait_until(lambda: service.clock.rate == 0, timeout=10, what="the pause to be applied")
            wait_heartbeats(tui, 1)
            seen["paused"] = (clock_position(tui), service.clock.rate)
            wait_heartbeats(tui, 2)
            seen["paused_later"] = clock_position(tui)
            set_demo_clock(tui, speed=7200.0, paused=False)
            wait_until(lambda: service.clock.rate == 7200.0, timeout=10, what="the new speed to be applied")
            wait_heartbeats(tui, 1)
            seen["fast"] = (clock_position(tui), service.clock.rate)
            wait_heartbeats(tui, 2)
            seen["fast_later"] = clock_position(tui)
        finally:
            request_stop(tui)
            tui.close()

    thread = threading.Thread(target=tui_side, daemon=True)
    thread.start()
    service.run(until=timedelta(days=365))  # returns on request_stop
    thread.join(10)

    assert seen["started"] is not None
    p1, rate = seen["paused"]
    assert rate == 0
    assert seen["paused_later"] == p1  # paused: workspace time stands still
    p2, rate = seen["fast"]
    assert rate == 7200.0
    # at 7200x two real seconds are four workspace hours; at the old 60x they would be 2 minutes
    assert seen["fast_later"] - p2 > timedelta(minutes=30)
