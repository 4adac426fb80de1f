"""Leads whose job waits in the identity's queue say why (spec: "Lead substatuses
stay true while waiting"): queued on a Saturday they show Outside working hours
and the next opening; beyond the day's invitation cap they show Identity limits,
which cap and when it refills; sent, neither."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import trio

from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from sequences.statuses import Substatus, Wait
from storage import lanes as storage_lanes
from storage.db import open_db, transaction
from tests.test_runtime_actors import MON, QUIET, invites_only, workspace

WAITING = {"outside_working_hours", "identity_limits"}


def substatuses(db) -> dict[int, str | None]:
    return {r[0]: r[1] for r in db.execute("SELECT contact_id, substatus FROM enrollments")}


def details(db) -> dict[int, tuple]:
    """Per contact: (substatus, wait_cap, wait_until as a datetime)."""
    return {r[0]: (r[1], r[2], datetime.fromisoformat(r[3]) if r[3] else None)
            for r in db.execute("SELECT contact_id, substatus, wait_cap, wait_until FROM enrollments")}


@pytest.mark.trio
async def test_queued_leads_show_outside_working_hours_then_identity_limits_then_clear(tmp_path, autojump_clock):
    db = workspace(tmp_path, invites_only(), leads=4, invites=2, tz="UTC")  # Mon-Fri 09-18 UTC, 2 invites a day
    world = SandboxWorld(3, profile=QUIET)
    saturday = MON - timedelta(days=2) + timedelta(hours=10)
    db.execute("UPDATE enrollments SET due_at = ?, enrolled_at = ?", [saturday.isoformat()] * 2)  # enrolled Saturday
    rt = Runtime(db, world=world, poll_interval=600.0)
    seen: dict[str, dict] = {}

    async def look() -> None:
        for name, at in (("saturday", saturday + timedelta(hours=2)),
                         ("monday_night", MON + timedelta(hours=23)),
                         ("tuesday_night", MON + timedelta(days=1, hours=23))):
            await rt.clock.sleep_until(at)
            seen[name] = substatuses(db)
            seen[name + "_detail"] = details(db)
            seen[name + "_sent"] = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sent'").fetchone()[0]
        rt.request_stop()

    async with trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: rt.run(epoch=saturday, task_status=task_status))
        nursery.start_soon(look)

    # Saturday: every lead is queued, none can go before Monday 09:00
    assert seen["saturday_sent"] == 0
    assert set(seen["saturday"].values()) == {"outside_working_hours"}
    # ... and each says when: Monday's opening (09:00 in the identity's zone, UTC here); no cap is spent
    assert set(seen["saturday_detail"].values()) == {("outside_working_hours", None, MON + timedelta(hours=9))}
    # Monday night: two invitations went out (the cap); the two others wait for the cap, not for the hours
    assert seen["monday_night_sent"] == 2
    assert sorted(v for v in seen["monday_night"].values() if v in WAITING) == ["identity_limits"] * 2
    sent_monday = {r[0] for r in db.execute(
        "SELECT e.contact_id FROM outbox o JOIN enrollments e ON e.id = o.enrollment_id WHERE o.state = 'sent'"
        " AND o.sent_at < ?", [(MON + timedelta(days=1)).isoformat()])}
    assert len(sent_monday) == 2 and not any(seen["monday_night"][c] in WAITING for c in sent_monday)
    # ... naming the cap and when it refills: Tuesday's opening, the first instant of working hours it allows
    capped = [d[1:] for d in seen["monday_night_detail"].values() if d[0] == "identity_limits"]
    assert capped == [("invitations 2 per day", MON + timedelta(days=1, hours=9))] * 2
    # Tuesday night: all four sent; nobody still says they are waiting
    assert seen["tuesday_night_sent"] == 4
    assert not any(v in WAITING for v in seen["tuesday_night"].values())
    assert not any(d[1] or d[2] for d in seen["tuesday_night_detail"].values())  # no detail left behind


@pytest.mark.trio
async def test_leads_added_while_the_lane_waits_say_so_too(tmp_path, autojump_clock):
    """The lane already shows Outside working hours; leads whose jobs join it later get the same reason."""
    db = workspace(tmp_path, invites_only(), leads=6, invites=5, tz="UTC")
    saturday = MON - timedelta(days=2) + timedelta(hours=10)
    db.execute("UPDATE enrollments SET due_at = ?, enrolled_at = ? WHERE contact_id <= 3", [saturday.isoformat()] * 2)
    db.execute("UPDATE enrollments SET status = 'paused', due_at = NULL WHERE contact_id > 3")  # join later
    rt = Runtime(db, world=SandboxWorld(3, profile=QUIET), poll_interval=600.0)
    seen: dict[str, dict] = {}

    async def look() -> None:
        await rt.clock.sleep_until(saturday + timedelta(hours=2))
        seen["before"] = substatuses(db)
        other = open_db(tmp_path / "ws.db")  # another process's write (the CLI adding leads)
        other.execute("UPDATE enrollments SET status = 'not_started', due_at = ? WHERE contact_id > 3",
                      [(saturday + timedelta(hours=2)).isoformat()])
        other.close()
        await rt.clock.sleep_until(saturday + timedelta(hours=4))
        seen["after"] = substatuses(db)
        seen["after_detail"] = details(db)
        seen["queued"] = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'queued'").fetchone()[0]
        rt.request_stop()

    async with trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: rt.run(epoch=saturday, task_status=task_status))
        nursery.start_soon(look)

    assert [seen["before"][c] for c in (1, 2, 3)] == ["outside_working_hours"] * 3
    assert seen["queued"] == 6  # the three new leads' invitations joined the waiting lane
    assert set(seen["after"].values()) == {"outside_working_hours"}
    assert set(seen["after_detail"].values()) == {("outside_working_hours", None, MON + timedelta(hours=9))}


@pytest.mark.trio
async def test_a_lead_that_already_says_why_is_not_rewritten(tmp_path, autojump_clock):
    """The lane's write runs on every change of its reason: leads that already say the same
    reason, cap and end are left alone (no row written); a new end rewrites each of them once."""
    db = workspace(tmp_path, invites_only(), leads=3, invites=5, tz="UTC")
    saturday = MON - timedelta(days=2) + timedelta(hours=10)
    db.execute("UPDATE enrollments SET due_at = ?, enrolled_at = ?", [saturday.isoformat()] * 2)
    rt = Runtime(db, world=SandboxWorld(3, profile=QUIET), poll_interval=600.0)
    await rt.run(epoch=saturday, until=saturday + timedelta(hours=1))
    said = Wait(Substatus.OUTSIDE_WORKING_HOURS, None, MON + timedelta(hours=9))
    assert set(details(db).values()) == {tuple(said)}

    def rows_written(why: Wait) -> int:
        before = db.conn.total_changes
        with transaction(db):
            storage_lanes.mark_lane(db, 1, "connection_request", None, why, None)
        return db.conn.total_changes - before

    assert rows_written(said) == 0
    assert rows_written(said._replace(until=MON + timedelta(hours=10))) == 3
