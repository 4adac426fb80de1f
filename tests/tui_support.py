"""A small seeded workspace for the TUI tests (the demo's seeding, plus states the runtime would make)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

import msgspec
import pytest

from cli.demo import seed
from sequences.statuses import LeadStatus, Substatus
from sequences.step import State
from storage.activity import record
from storage.db import connect

NOW = datetime(2026, 11, 23, 14, 0, tzinfo=timezone.utc)
HOSTILE = ("[bold red]X[/]", "\x1b[2J\x1b]0;pwn\x07Eve")


def make(folder: Path) -> Path:
    """Seeded demo workspace with errors, replies and two hostile contacts in campaign 1."""
    seed(folder, contacts=210, now=NOW)
    db = connect(folder / "enginy.db")
    ids = [r[0] for r in db.execute("SELECT id FROM enrollments WHERE campaign_id = 1 ORDER BY id").fetchall()]
    def put(rows: list[int], status: str, substatus: str | None, node: str | None) -> None:
        # the step function's state and its mirrored columns, as the runtime writes them
        state = msgspec.json.encode(State(status=LeadStatus(status), substatus=Substatus(substatus) if substatus
                                          else None, node=node, phase="done" if status == "replied" else "due"))
        db.conn.executemany("UPDATE enrollments SET status = ?, substatus = ?, node_id = ?, state = ? WHERE id = ?",
                            [(status, substatus, node, state.decode(), i) for i in rows])

    put(ids[:3], "error", "missing_contact_email", "invite")
    put(ids[3:8], "in_progress", "waiting_to_connect", "accepted")
    put(ids[8:9], "replied", None, None)
    first, last = HOSTILE  # noqa: F841
    contact = db.execute("SELECT contact_id FROM enrollments WHERE id = ?", [ids[0]]).fetchone()[0]
    db.execute("UPDATE contacts SET first_name = ?, last_name = ?, company = ? WHERE id = ?",
               [first, last, "[link=http://x]Evil[/link] Corp", contact])
    record(db, kind="linkedin_invite_sent", now=NOW, enrollment_id=ids[0], node_id="invite")
    record(db, kind="linkedin_profile_visited", now=NOW, enrollment_id=ids[1], node_id="visit")
    db.close()
    return folder


@pytest.fixture(scope="module")
def template_ws(tmp_path_factory) -> Path:
    """The seeded workspace, made once per test module (tests write to copies: `ws`)."""
    return make(tmp_path_factory.mktemp("tui") / "ws")


@pytest.fixture
def ws(template_ws: Path, tmp_path: Path) -> Path:
    """A copy of the seeded workspace of this test's own."""
    shutil.copytree(template_ws, tmp_path / "ws")
    return tmp_path / "ws"


def q(ws: Path, sql: str, *args) -> list[tuple]:
    """Rows of a query on the workspace's database, through a connection of its own."""
    conn = sqlite3.connect(ws / "enginy.db")
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


async def until(pilot, condition, what: str) -> None:
    """Wait (bounded: ~10 s on a loaded machine) until `condition()` holds; fail saying `what` never happened.

    What the user would wait to see after a key press: a key's action runs only once the key
    has bubbled back to the app, which on a busy machine can be after Pilot's press() has returned."""
    for _ in range(1000):
        await pilot.pause(0.01)
        if condition():
            return
    raise AssertionError(f"never happened: {what}")


async def settle(pilot, rounds: int = 3) -> None:
    """Let the screen finish drawing before a snapshot, with nothing left that depends on the host's speed.

    The sub-title is fixed, and every text cursor is drawn steadily: a blinking cursor's phase at the
    moment of the picture depends on how fast the machine got there."""
    pilot.app.sub_title = "snapshot"
    for _ in range(rounds):
        for field in pilot.app.screen.query("Input, TextArea"):
            field.cursor_blink = False
        await pilot.pause(0.2)
