"""No lead waits without a reason (issue 14): the stalls a run of the runtime found, each
through the real Runtime on an autojump clock against the sandbox world and a real SQLite file.

- an inbox disconnected while leads are mid-sequence: their queued follow-ups and every
  later step that needs that inbox put the lead in Error "Email disconnected"; reconnecting
  the inbox and retrying brings them back;
- an identity with no LinkedIn account: every lead whose job needs it errors "LinkedIn
  disconnected" (not the first one only, the rest halted without a word); reconnect + retry resumes;
- "Add to another campaign" starts the lead in the target campaign at once.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import trio

from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from sequences.model import AddToCampaign, Delay, Email, Sequence, VisitProfile
from storage.db import open_db
from storage.inboxes import set_connected
from storage.lead_intents import retry_leads
from tests.support.seed import running_campaign
from tests.test_runtime_actors import MON, QUIET, workspace

DAY = timedelta(days=1)


def statuses(db, campaign_id: int = 1) -> dict[int, tuple[str, str | None]]:
    return {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT contact_id, status, substatus FROM enrollments WHERE campaign_id = ? ORDER BY contact_id",
        [campaign_id])}


def other_process(tmp_path):
    """The CLI's connection: its commits are what the runtime's supervisor notices."""
    return open_db(tmp_path / "ws.db")


async def run_alongside(rt: Runtime, script) -> None:
    """Run the runtime from Monday while `script` looks and acts (it ends the run with request_stop)."""
    with trio.fail_after(10_000_000):
        async with trio.open_nursery() as nursery:
            await nursery.start(lambda task_status: rt.run(epoch=MON, task_status=task_status))
            nursery.start_soon(script)


def two_emails() -> Sequence:
    return Sequence(start="e1", nodes=[Email(id="e1", subject="Hi {first_name}", body="hello", next="e2"),
                                       Email(id="e2", subject="Re: hi", body="following up", delay=Delay(days=1))])


@pytest.mark.trio
async def test_a_disconnected_inbox_puts_its_leads_mid_sequence_in_error_until_reconnected(tmp_path, autojump_clock):
    # 3 emails a day: Monday the first three leads get their first email, the other three wait queued
    db = workspace(tmp_path, two_emails(), leads=6, per_day=3, tz="UTC")
    world = SandboxWorld(5, profile=QUIET)
    rt = Runtime(db, world=world, poll_interval=60.0)
    seen: dict[str, object] = {}

    async def script() -> None:
        await rt.clock.sleep_until(MON + timedelta(hours=20))  # Monday evening
        seen["monday"] = statuses(db)
        seen["monday_sent"] = len(world.deliveries)
        other = other_process(tmp_path)
        set_connected(other, 1, False, now=(MON + timedelta(hours=20)).isoformat())  # `enginy inbox disconnect`
        other.close()
        await rt.clock.sleep_until(MON + 3 * DAY)  # Wednesday night: the follow-ups were due on Tuesday
        seen["after"] = statuses(db)
        seen["queued"] = db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'queued'").fetchone()[0]
        seen["sent"] = len(world.deliveries)
        other = other_process(tmp_path)  # reconnect the same inbox, then retry the leads
        set_connected(other, 1, True, now=(MON + 3 * DAY).isoformat())
        retry_leads(other, 1, now=MON + 3 * DAY, actor="test")
        other.close()
        await rt.clock.sleep_until(MON + 11 * DAY)
        seen["retried"] = statuses(db)
        rt.request_stop()

    await run_alongside(rt, script)

    assert seen["monday_sent"] == 3
    assert sorted(s for s, _ in seen["monday"].values()) == ["in_progress"] * 6
    # every lead needs the inbox it started with (its queued first email, or its follow-up): all in Error
    assert set(seen["after"].values()) == {("error", "email_disconnected")}, seen["after"]
    assert seen["queued"] == 0 and seen["sent"] == 3  # nothing left waiting unseen, nothing sent meanwhile
    # reconnected and retried: every lead goes on, and all twelve emails go out in the end
    assert set(seen["retried"].values()) == {("finished", "no_response")}, seen["retried"]
    assert len(world.deliveries) == 12


@pytest.mark.trio
async def test_an_identity_without_linkedin_errors_every_lead_that_needs_it(tmp_path, autojump_clock):
    visits = Sequence(start="v", nodes=[VisitProfile(id="v")])
    db = workspace(tmp_path, visits, leads=5, tz="UTC")
    db.execute("UPDATE identities SET linkedin_driver = NULL, linkedin_connected = 0")  # no LinkedIn account
    world = SandboxWorld(6, profile=QUIET)
    rt = Runtime(db, world=world, poll_interval=60.0)
    seen: dict[str, object] = {}

    async def script() -> None:
        await rt.clock.sleep_until(MON + DAY)
        seen["before"] = statuses(db)
        other = other_process(tmp_path)  # the user connects LinkedIn, then retries the leads
        other.execute("UPDATE identities SET linkedin_driver = 'sandbox', linkedin_connected = 1, updated_at = ?",
                      [(MON + DAY).isoformat()])
        retry_leads(other, 1, now=MON + DAY, actor="test")
        other.close()
        await rt.clock.sleep_until(MON + 3 * DAY)
        seen["after"] = statuses(db)
        rt.request_stop()

    await run_alongside(rt, script)

    assert set(seen["before"].values()) == {("error", "linkedin_disconnected")}, seen["before"]
    assert set(seen["after"].values()) == {("finished", "no_response")}, seen["after"]
    sent = db.execute("SELECT action, COUNT(*) FROM outbox WHERE state = 'sent' GROUP BY action").fetchall()
    assert [tuple(r) for r in sent] == [("visit_profile", 5)]


@pytest.mark.trio
async def test_add_to_another_campaign_starts_the_lead_there_at_once(tmp_path, autojump_clock):
    """The target campaign's actor sleeps (its own lead is done); the leads sent to it start the
    same day, not at the runtime's next restart."""
    first = Sequence(start="v", nodes=[VisitProfile(id="v", next="add"), AddToCampaign(id="add", campaign="Next")])
    db = workspace(tmp_path, first, leads=4, tz="UTC")
    db.execute("DELETE FROM enrollments WHERE contact_id = 4")
    running_campaign(db, identity=1, sequence=Sequence(start="v2", nodes=[VisitProfile(id="v2")]), name="Next",
                     contact_ids=[4], now=MON)
    rt = Runtime(db, world=SandboxWorld(7, profile=QUIET), poll_interval=600.0)
    await rt.run(epoch=MON, until=MON + 2 * DAY)
    assert set(statuses(db, 1).values()) == {("finished", "no_response")}
    assert statuses(db, 2) == {c: ("finished", "no_response") for c in (1, 2, 3, 4)}
