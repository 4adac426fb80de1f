"""The runtime as a real process: kill -9 mid-run loses and doubles nothing; the lease; enginy stop.

The sandbox world's own SQLite file (sandbox.db, committed at the instant of
each "delivery") is the witness: after repeated kill -9 and restarts, every
step attempt was delivered at most once, every delivery is accounted for by
the outbox, and the campaign keeps going.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from runtime.checker import check
from runtime.clock import wall_now
from runtime.lease import holder
from sequences.model import ConnectionRequest, Email, LinkedInMessage, Sequence, VisitProfile
from storage.db import open_db
from storage.workspace import init_workspace
from tests.support.crash_matrix import assert_never_backwards, ledger_mark
from tests.support.seed import contacts, running_campaign, sandbox_identity
from tests.support.waits import wait_heartbeats, wait_until

ROOT = Path(__file__).resolve().parent.parent


def enginy(ws: Path, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def make_workspace(tmp_path: Path, leads: int = 60) -> Path:
    ws = tmp_path / "ws"
    init_workspace(ws)
    db = open_db(ws / "enginy.db")
    now = wall_now()
    seq = Sequence(start="visit", nodes=[
        VisitProfile(id="visit", next="invite"),
        ConnectionRequest(id="invite", next="mail"),
        Email(id="mail", subject="Hi {first_name}", body="hello", next="msg"),
        LinkedInMessage(id="msg", chunks=["hey"]),
    ])
    sandbox_identity(db, "Ana", now=now, email="ana@sandbox.invalid", per_day=80, per_hour=10, timezone="UTC",
                     working_days="mon,tue,wed,thu,fri,sat,sun", work_start="00:00", work_end="23:59",
                     daily_connection_limit=100, daily_message_limit=150)
    contacts(db, [{"first_name": f"L{i}", "linkedin_url": f"https://www.linkedin.com/in/l{i}", "linkedin_id": f"ACo{i}",
                   "email": f"l{i}@example.com"} for i in range(1, leads + 1)], now=now)
    running_campaign(db, identity=1, sequence=seq, name="C", contact_ids=list(range(1, leads + 1)), now=now)
    db.close()
    return ws


def deliveries(ws: Path) -> list[tuple]:
    if not (ws / "sandbox.db").exists():
        return []
    con = sqlite3.connect(ws / "sandbox.db")
    try:
        return con.execute("SELECT key, action, at FROM deliveries").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        con.close()


def test_kill_minus_nine_mid_run_neither_loses_nor_doubles(tmp_path):
    ws = make_workspace(tmp_path)
    seen = 0
    marks = []
    for round_ in range(4):
        proc = enginy(ws, "run", "--speed", "3000")
        try:
            wait_until(lambda: len(deliveries(ws)) >= seen + 5 + round_ * 3, timeout=60, what="more deliveries")
        finally:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        marks.append(ledger_mark(ws))
        rows = deliveries(ws)
        keys = [r[0] for r in rows]
        assert len(keys) == len(set(keys))
        seen = len(rows)
    proc = enginy(ws, "run", "--speed", "3000", "--until", "2d")
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    db = open_db(ws / "enginy.db")
    rows = deliveries(ws)
    per_step = {}
    for key, action, _ in rows:
        enrollment, node, _attempt = key.split(":")
        per_step[(enrollment, node)] = per_step.get((enrollment, node), 0) + 1
    assert max(per_step.values()) == 1  # nothing sent twice
    states = dict(db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall())
    assert states.get("sending", 0) == 0 and states.get("unknown", 0) == 0  # every cut-off send was settled
    assert_never_backwards(ws, marks)  # each restart began at or after the last recorded action
    # visits carry no idempotency key in the driver protocol (a repeated visit is harmless), so
    # the world's record holds the keyed sends: invitations, messages, emails
    sent = {r[0] for r in db.execute("SELECT key FROM outbox WHERE state = 'sent' AND action != 'visit_profile'")}
    assert {r[0] for r in rows} == sent  # every delivery recorded, nothing recorded that was not delivered
    # nothing lost: every lead went through the whole sequence
    unfinished = list(db.query("SELECT id, status, substatus FROM enrollments WHERE status NOT IN ('finished', 'replied')"))
    assert unfinished == []
    start = datetime.fromisoformat(db.execute("SELECT MIN(at) FROM action_ledger").fetchone()[0])
    report = check(db, start=start, end=start + timedelta(days=30))
    assert report["violations"] == []


def test_second_runtime_refuses_and_stop_stops_the_first(tmp_path):
    ws = make_workspace(tmp_path, leads=3)
    first = enginy(ws, "run")
    try:
        db = open_db(ws / "enginy.db")
        wait_until(lambda: holder(db), timeout=30, what="the runtime to take the lease")
        second = enginy(ws, "run")
        out, err = second.communicate(timeout=30)
        assert second.returncode == 2
        assert f"pid {first.pid}" in err and "another runtime holds this workspace" in err
        stop = enginy(ws, "stop", "--json")
        out, err = stop.communicate(timeout=60)
        assert stop.returncode == 0, err
        assert '"stopped":true' in out
        assert first.wait(timeout=30) == 0
        assert db.execute("SELECT 1 FROM runtime_lease").fetchone() is None
    finally:
        if first.poll() is None:
            first.kill()


def test_stop_after_a_kill_says_at_once_that_nothing_runs_and_clears_the_lease(tmp_path):
    ws = make_workspace(tmp_path, leads=3)
    first = enginy(ws, "run")
    db = open_db(ws / "enginy.db")
    try:
        wait_until(lambda: holder(db), timeout=30, what="the runtime to take the lease")
    finally:
        os.kill(first.pid, signal.SIGKILL)
        first.wait()
    assert holder(db) is not None  # a kill leaves the lease row behind
    stop = enginy(ws, "stop", "--wait", "600")
    out, err = stop.communicate(timeout=60)  # far less than --wait: it must not wait for the dead
    assert stop.returncode == 0, err
    assert f"pid {first.pid}" in out and "ended without releasing the workspace" in out
    assert holder(db) is None


def test_a_runtime_tied_to_a_process_stops_when_that_process_dies(tmp_path):
    """The demo ties its runtime to its own life: kill -9 of the demo (or a closed terminal) must not
    leave a runtime running on an accelerated clock."""
    ws = make_workspace(tmp_path, leads=3)
    demo = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    runtime = enginy(ws, "run", "--speed", "3600", "--stop-with", str(demo.pid))
    try:
        db = open_db(ws / "enginy.db")
        wait_until(lambda: holder(db), timeout=30, what="the runtime to take the lease")
        wait_heartbeats(db, 2)  # a few heartbeats with the process alive: the runtime keeps running
        assert runtime.poll() is None
        demo.kill()
        demo.wait()
        assert runtime.wait(timeout=30) == 0  # a clean stop: lease released
        assert db.execute("SELECT 1 FROM runtime_lease").fetchone() is None
    finally:
        for proc in (demo, runtime):
            if proc.poll() is None:
                proc.kill()


def test_stop_with_a_process_that_does_not_exist_is_refused(tmp_path):
    ws = make_workspace(tmp_path, leads=1)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    run = enginy(ws, "run", "--stop-with", str(gone.pid))
    out, err = run.communicate(timeout=60)
    assert run.returncode == 2 and out == ""
    assert err.strip() == f"enginy: --stop-with {gone.pid}: no such process (the runtime would stop at once)"
    db = open_db(ws / "enginy.db")
    assert db.execute("SELECT 1 FROM runtime_lease").fetchone() is None  # nothing was started


def _mode(path: Path) -> str:
    return oct(os.stat(path).st_mode & 0o777)


def test_the_workspace_and_everything_a_run_writes_are_private_whatever_the_umask(tmp_path):
    made = enginy(tmp_path / "fresh", "init", preexec_fn=lambda: os.umask(0o022))
    assert made.wait(timeout=60) == 0
    assert (_mode(tmp_path / "fresh"), _mode(tmp_path / "fresh" / "enginy.toml"),
            _mode(tmp_path / "fresh" / "enginy.db")) == ("0o700", "0o600", "0o600")
    ws = make_workspace(tmp_path, leads=3)
    for name in ("enginy.toml", "enginy.db"):  # as an older enginy under a lax umask would have left them
        os.chmod(ws / name, 0o644)
    (ws / "notes.txt").write_text("the user's own file")
    os.chmod(ws / "notes.txt", 0o644)
    run = enginy(ws, "run", "--speed", "3000", "--until", "2h", preexec_fn=lambda: os.umask(0o022))
    out, err = run.communicate(timeout=120)
    assert run.returncode == 0, err
    old = os.umask(0o022)
    pid = None
    try:  # the app's way of starting a runtime: detached, its log opened by the caller
        from runtime.lease import request_stop, spawn_background
        from storage.workspace import open_workspace
        db = open_workspace(ws).open_db()
        pid = spawn_background(ws, speed=3000)
        wait_until(lambda: holder(db), timeout=30, what="the runtime to take the lease")
        request_stop(db)
        wait_until(lambda: not holder(db), timeout=30, what="the runtime to stop")
        os.waitpid(pid, 0)
        pid = None
        assert os.umask(0o022) == 0o022  # opening a workspace left this process's umask alone
    finally:
        os.umask(old)
        if pid is not None:  # a failed wait must not leave a detached runtime behind
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    ours = [p.name for p in ws.iterdir() if p.name != "notes.txt"]
    assert {"sandbox.db", "runtime.log", "enginy.db", "enginy.toml"} <= set(ours)
    assert {name: _mode(ws / name) for name in ours if _mode(ws / name) != "0o600"} == {}
    assert _mode(ws / "notes.txt") == "0o644"  # not ours to change
