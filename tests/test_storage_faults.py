"""Faults of the workspace's disk and lock are waited out or said in one line — never a traceback.

Real faults, not simulated ones: another process holding SQLite's write lock, a tmpfs filled to
the last byte, a filesystem remounted read-only (mounting needs root, as CI's install step does).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from runtime.lease import holder
from storage.db import open_db
from tests.support.waits import wait_until
from tests.test_runtime_process import ROOT, deliveries, enginy, make_workspace

LOCKER = """
import sqlite3, sys, time
con = sqlite3.connect(sys.argv[1], isolation_level=None)
con.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.readline()  # hold the write lock until told
con.execute("ROLLBACK")
"""


def hold_write_lock(db_path: Path) -> subprocess.Popen:
    locker = subprocess.Popen([sys.executable, "-c", LOCKER, str(db_path)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    assert locker.stdout.readline().strip() == "locked"
    return locker


def release(locker: subprocess.Popen) -> None:
    locker.communicate("go\n", timeout=30)


@pytest.fixture
def small_disk(tmp_path):
    """A 32 MiB tmpfs of our own (room for a workspace's WAL), unmounted afterwards."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=32m", "tmpfs", str(mnt)], capture_output=True, text=True)
    assert done.returncode == 0, f"these tests mount a tmpfs and need root (CI runs as root): {done.stderr}"
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=True)


def test_a_cli_write_during_a_long_lock_says_who_holds_it_and_exits_75(tmp_path):
    ws = make_workspace(tmp_path, leads=2)
    locker = hold_write_lock(ws / "enginy.db")
    try:
        pause = enginy(ws, "identity", "pause", "1")
        out, err = pause.communicate(timeout=60)
    finally:
        release(locker)
    assert pause.returncode == 75, err
    assert "Traceback" not in err
    assert err.startswith("enginy: the workspace database is locked by another program (pid "
                          f"{locker.pid}: python") and err.rstrip().endswith("try again when it has finished")
    paused = enginy(ws, "identity", "pause", "1")  # the lock gone, the same command works
    assert paused.wait(timeout=60) == 0


def test_the_runtime_waits_out_a_lock_held_longer_than_its_timeout_and_goes_on(tmp_path):
    ws = make_workspace(tmp_path, leads=40)
    run = enginy(ws, "run", "--speed", "3000")
    try:
        wait_until(lambda: len(deliveries(ws)) >= 3, timeout=60, what="first deliveries")
        locker = hold_write_lock(ws / "enginy.db")
        time.sleep(8)  # past the 5 s busy timeout: the runtime's writes fail while this holds
        assert run.poll() is None, run.stderr.read()
        before = len(deliveries(ws))
        release(locker)
        wait_until(lambda: len(deliveries(ws)) > before + 3, timeout=60, what="deliveries after the lock")
        assert run.poll() is None
    finally:
        stop = enginy(ws, "stop")
        stop.wait(timeout=60)
        out, err = run.communicate(timeout=60)
    assert run.returncode == 0, err
    assert "Traceback" not in err
    assert f"the runtime is waiting: the workspace database is locked by another program (pid {locker.pid}" in err
    assert "the workspace can be written again; the runtime goes on" in err
    keys = [r[0] for r in deliveries(ws)]
    assert len(keys) == len(set(keys))  # nothing sent twice across the fault


def test_a_full_disk_pauses_the_runtime_until_space_returns(tmp_path, small_disk):
    ws = make_workspace(small_disk, leads=40)
    log = tmp_path / "runtime.log"  # off the full disk
    with open(log, "w") as err:
        run = subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws),
                                "run", "--speed", "3000"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=err)
    filler = small_disk / "filler"
    try:
        wait_until(lambda: len(deliveries(ws)) >= 3, timeout=60, what="first deliveries")
        with open(filler, "wb", buffering=0) as out:  # every free byte; unbuffered: closing writes nothing more
            try:
                while True:
                    out.write(b"\0" * 65536)
                    out.flush()
            except OSError:
                pass
        wait_until(lambda: "the disk holding the workspace is full" in log.read_text() or run.poll() is not None,
                   timeout=60, what="the runtime to say the disk is full")
        assert run.poll() is None, log.read_text()
        before = len(deliveries(ws))
        filler.unlink()
        wait_until(lambda: len(deliveries(ws)) > before + 3, timeout=90, what="deliveries after space returned")
        assert enginy(ws, "stop").wait(timeout=60) == 0
        assert run.wait(timeout=60) == 0, log.read_text()
    finally:
        if run.poll() is None:
            run.kill()
    text = log.read_text()
    assert "Traceback" not in text
    assert "the runtime is waiting: the disk holding the workspace is full" in text
    keys = [r[0] for r in deliveries(ws)]
    assert len(keys) == len(set(keys))


def test_a_read_only_workspace_can_be_read_and_refuses_writes_in_one_line(tmp_path, small_disk):
    ws = make_workspace(small_disk, leads=3)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    listed = enginy(ws, "campaigns", "list", "--json")
    out, err = listed.communicate(timeout=60)
    assert listed.returncode == 0, err
    assert '"name":"C"' in out.replace(" ", "")
    audience = enginy(ws, "campaigns", "audience", "C", "--json")
    out, err = audience.communicate(timeout=60)
    assert audience.returncode == 0, err
    pause = enginy(ws, "identity", "pause", "1")
    out, err = pause.communicate(timeout=60)
    assert (pause.returncode, err) == (75, "enginy: the workspace is read-only: only reading works here\n")
    run = enginy(ws, "run", "--until", "1h")
    out, err = run.communicate(timeout=60)
    assert run.returncode != 0 and "Traceback" not in err and "read-only" in err


@pytest.mark.asyncio
async def test_the_app_opens_a_read_only_workspace_and_says_a_refused_write_without_closing(tmp_path, small_disk):
    from tests.test_tui_sequence_editor import RecordingApp
    from tests.tui_support import until
    from storage.workspace import open_workspace

    ws = make_workspace(small_disk, leads=3)
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    app = RecordingApp(open_workspace(ws))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen", "the dashboard")
        await pilot.press("z")  # pause the highlighted campaign: a write
        await until(pilot, lambda: any("read-only" in said for said in app.said), "the refusal")
        assert app.is_running and type(app.screen).__name__ == "DashboardScreen"
        assert "Not done — the workspace is read-only: only reading works here." in app.said


def test_a_runtime_that_stops_beating_is_said_to_wait_for_whoever_locks_the_database(tmp_path):
    from datetime import timedelta

    from runtime.clock import wall_now
    from storage import runtime_lease
    from storage.db import transaction
    from storage.runtime_lease import why_runtime_waits

    ws = make_workspace(tmp_path, leads=1)
    db = open_db(ws / "enginy.db")
    now = wall_now()
    with transaction(db):  # a live runtime (this very process) whose last beat was 10 s ago
        runtime_lease.take(db, pid=os.getpid(), host=socket.gethostname(), now=now - timedelta(seconds=10))
    path = str(ws / "enginy.db")
    assert why_runtime_waits(db, now - timedelta(seconds=9), path) is None  # beat a second ago: fine
    assert why_runtime_waits(db, now, path) == (
        f"the runtime (pid {os.getpid()}) has not answered since {runtime_lease.holder(db).heartbeat_at[11:19]} UTC")
    locker = hold_write_lock(ws / "enginy.db")
    try:
        said = why_runtime_waits(db, now, path)
    finally:
        release(locker)
    assert said.startswith("the runtime is waiting for the database: the workspace database is locked by another"
                           f" program (pid {locker.pid}: python")  # python or python3, as the system names it
