"""The campaign's inbox policy at run time, on two sandbox inboxes: Shuffle rotates new leads
across the inboxes with room; without it the campaign's inboxes are used in their order, the
next one only once the first has no room left today. (`--no-shuffle` used to change nothing.)"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import trio

from runtime.sandbox.world import SandboxWorld
from sequences.model import Email, Sequence
from storage.activity import iso
from storage.db import transaction
from tests.test_runtime_actors import MON, QUIET, run_for, workspace


def two_inboxes(tmp_path, settings: dict, leads: int = 8):
    db = workspace(tmp_path, Sequence(start="m", nodes=[Email(id="m", subject="Hi", body="hello")]),
                   leads=leads, tz="UTC", per_day=5)
    with transaction(db):
        db.execute("INSERT INTO inboxes (id, identity_id, email, provider, per_day, per_hour, created_at, updated_at)"
                   " VALUES (2, 1, 'ana2@sandbox.invalid', 'sandbox', 5, 5, ?, ?)", [iso(MON), iso(MON)])
        db.execute("UPDATE campaigns SET settings = ?", [json.dumps(settings)])
    return db


async def sent_per_inbox(db) -> dict[int, int]:
    world = SandboxWorld(1, profile=QUIET)
    start = MON + timedelta(hours=9)
    with trio.fail_after(10_000_000):
        await run_for(db, world, start, 0.5)
    return dict(db.execute("SELECT inbox_id, count(*) FROM outbox WHERE state = 'sent' GROUP BY 1").fetchall())


@pytest.mark.trio
async def test_without_shuffle_the_campaigns_inboxes_fill_in_their_order(tmp_path, autojump_clock):
    db = two_inboxes(tmp_path, {"inboxes": [2, 1], "shuffle_inboxes": False})
    assert await sent_per_inbox(db) == {2: 5, 1: 3}


@pytest.mark.trio
async def test_shuffle_rotates_new_leads_across_the_inboxes(tmp_path, autojump_clock):
    db = two_inboxes(tmp_path, {"shuffle_inboxes": True})
    assert await sent_per_inbox(db) == {1: 4, 2: 4}


@pytest.mark.trio
async def test_shuffle_passes_over_an_inbox_without_room(tmp_path, autojump_clock):
    db = two_inboxes(tmp_path, {"shuffle_inboxes": True}, leads=9)
    with transaction(db):
        db.execute("UPDATE inboxes SET per_day = 2 WHERE id = 1")
    assert await sent_per_inbox(db) == {1: 2, 2: 5}
