"""The runtime's rules on an autojump clock, against the sandbox world and a real SQLite file.

Each test builds a tiny workspace (one identity, a handful of leads, one
campaign), runs the Runtime for simulated days and looks at what the world
received and what the ledger says — the same evidence a user would have.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import trio

from runtime.checker import check
from runtime.engine import Runtime
from runtime.sandbox.world import Profile, SandboxWorld
from sequences.model import (
    AcceptedConnection, ConnectionRequest, Delay, Email, LinkedInMessage, Sequence, VisitProfile,
)
from storage.activity import iso
from storage.db import open_db
from tests.support.seed import contacts, running_campaign, sandbox_identity

MON = datetime(2026, 3, 23, 0, 0, tzinfo=timezone.utc)  # Monday; Madrid changes to CEST on Sunday 29th
QUIET = Profile(accept=0.0, linkedin_reply=0.0, email_reply=0.0, bounce=0.0, out_of_office=0.0,
                prior_conversation=0.0, transient_failure=0.0, latency_s=(0.0, 0.0))


def workspace(tmp_path, seq: Sequence, *, leads: int, tz="Europe/Madrid", days="mon,tue,wed,thu,fri",
              hours=("09:00", "18:00"), invites=20, per_day=30, priority="medium", campaigns=1):
    db = open_db(tmp_path / "ws.db")
    sandbox_identity(db, "Ana", now=MON, email="ana@sandbox.invalid", per_day=per_day, per_hour=5, timezone=tz,
                     working_days=days, work_start=hours[0], work_end=hours[1], daily_connection_limit=invites)
    contacts(db, [{"first_name": f"Lead{i}", "company": "Acme", "linkedin_url": f"https://www.linkedin.com/in/l{i}",
                   "linkedin_id": f"ACo{i}", "email": f"l{i}@example.com"} for i in range(1, leads + 1)], now=MON)
    for c in range(1, campaigns + 1):
        running_campaign(db, identity=1, sequence=seq, name=f"C{c}", priority=priority if c == 1 else "low",
                         contact_ids=[i for i in range(1, leads + 1) if i % campaigns == c - 1], now=MON)
    return db


async def run_for(db, world, start: datetime, days: float) -> Runtime:
    rt = Runtime(db, world=world, poll_interval=600.0)
    await rt.run(epoch=start, until=start + timedelta(days=days))
    return rt


def invites_only() -> Sequence:
    return Sequence(start="invite", nodes=[ConnectionRequest(id="invite", note="hi {first_name}")])


@pytest.mark.trio
async def test_invitation_cap_and_working_hours_across_dst_week(tmp_path, autojump_clock):
    db = workspace(tmp_path, invites_only(), leads=200, invites=10)
    world = SandboxWorld(1, profile=QUIET)
    with trio.fail_after(10_000_000):
        await run_for(db, world, MON, 8)
    report = check(db, start=MON, end=MON + timedelta(days=8), world=world)
    assert report["violations"] == []
    tz = ZoneInfo("Europe/Madrid")
    per_day: dict = {}
    for d in world.deliveries.values():
        local = d.at.astimezone(tz)
        assert local.weekday() < 5 and 9 <= local.hour < 18, local  # 09-18 local before and after the DST change
        per_day[local.date()] = per_day.get(local.date(), 0) + 1
    assert list(per_day.values()) == [10] * 6  # Mon-Fri, then Mon after the change: the full cap, never more
    assert report["cap_utilization"]["worst"] >= 0.99
    first_of_day = min(d.at for d in world.deliveries.values()).astimezone(tz)
    assert first_of_day.hour > 9 or first_of_day.minute > 0  # paced: not at opening time


@pytest.mark.trio
async def test_caps_hold_across_a_restart(tmp_path, autojump_clock):
    """Two runtimes one after the other on the same day: the second counts the first's sends."""
    db = workspace(tmp_path, invites_only(), leads=100, invites=12)
    world = SandboxWorld(2, profile=QUIET)
    start = MON + timedelta(hours=8, minutes=30)  # 09:30 Madrid
    await run_for(db, world, start, 0.15)  # stopped mid-day
    first = len(world.deliveries)
    assert 0 < first < 12
    await run_for(db, world, start + timedelta(days=0.15), 0.5)  # rest of the day
    today = [d for d in world.deliveries.values() if d.at.date() == start.date()]
    assert len(today) == 12
    assert check(db, start=MON, end=MON + timedelta(days=1), world=world)["violations"] == []


@pytest.mark.trio
async def test_reply_stops_the_next_step_and_delay_counts_from_a_late_send(tmp_path, autojump_clock):
    seq = Sequence(start="m1", nodes=[
        LinkedInMessage(id="m1", chunks=["hi {first_name}"], next="m2"),
        LinkedInMessage(id="m2", chunks=["following up"], delay=Delay(days=2)),
    ])
    db = workspace(tmp_path, seq, leads=150)
    world = SandboxWorld(3, profile=Profile(accept=0.0, linkedin_reply=0.5, email_reply=0.0, bounce=0.0,
                                            out_of_office=0.0, prior_conversation=0.0, transient_failure=0.0,
                                            latency_s=(0.0, 0.0), reply_hours=(1.0, 2.0)))
    db.execute("UPDATE identities SET daily_message_limit = 40 WHERE id = 1")
    await run_for(db, world, MON, 9)
    replied_keys = {e.key for e in world._events}  # noqa: SLF001 — none left pending after 9 days
    assert not replied_keys
    rows = list(db.query("SELECT e.id, e.status FROM enrollments e"))
    replied = {r["id"] for r in rows if r["status"] == "replied"}
    assert replied
    by_lead: dict[str, list] = {}
    for d in world.deliveries.values():
        by_lead.setdefault(d.key.split(":")[0], []).append(d)
    for lead, ds in by_lead.items():
        steps = sorted(ds, key=lambda d: d.at)
        if int(lead) in replied:
            reply_at = db.execute("SELECT MIN(at) FROM activity WHERE enrollment_id = ? AND kind ="
                                  " 'linkedin_reply_received'", [int(lead)]).fetchone()[0]
            assert all(d.at.isoformat() <= reply_at for d in steps)
        if len(steps) == 2:  # m1 waited in the queue for days; m2 still waits 2 days after m1 went out
            assert steps[1].at - steps[0].at >= timedelta(days=2)
    assert check(db, start=MON, end=MON + timedelta(days=9), world=world)["violations"] == []


@pytest.mark.trio
async def test_accept_within_days_takes_the_no_branch_and_email_caps(tmp_path, autojump_clock):
    seq = Sequence(start="invite", nodes=[
        ConnectionRequest(id="invite", next="acc"),
        AcceptedConnection(id="acc", within_days=3, yes="thanks", no="mail"),
        LinkedInMessage(id="thanks", chunks=["thanks!"]),
        Email(id="mail", subject="Hello {first_name}", body="hi"),
    ])
    db = workspace(tmp_path, seq, leads=40, per_day=8, tz="America/New_York")
    world = SandboxWorld(4, profile=Profile(accept=0.5, accept_hours=(1.0, 30.0), linkedin_reply=0.0,
                                            email_reply=0.0, bounce=0.0, out_of_office=0.0, prior_conversation=0.0,
                                            transient_failure=0.0, latency_s=(0.0, 0.0)))
    await run_for(db, world, MON, 12)
    actions = {}
    for d in world.deliveries.values():
        actions.setdefault(d.action, 0)
        actions[d.action] += 1
    assert actions["connection_request"] == 40
    assert actions["linkedin_message"] + actions["email"] == 40  # every lead took exactly one branch
    mails = [d for d in world.deliveries.values() if d.action == "email"]
    for d in mails:  # the No branch runs only after the 3 days
        invite = world.deliveries[f"{d.key.split(':')[0]}:invite:0"]
        assert d.at - invite.at >= timedelta(days=3)
    assert check(db, start=MON, end=MON + timedelta(days=12), world=world)["violations"] == []


@pytest.mark.trio
async def test_linkedin_order_priority_then_tiebreak(tmp_path, autojump_clock):
    """Two campaigns compete for 5 invitations a day: the High one goes first."""
    db = workspace(tmp_path, invites_only(), leads=20, invites=5, priority="high", campaigns=2)
    world = SandboxWorld(5, profile=QUIET)
    await run_for(db, world, MON, 1)
    campaigns = [db.execute("SELECT campaign_id FROM outbox WHERE key = ?", [d.key]).fetchone()[0]
                 for d in sorted(world.deliveries.values(), key=lambda d: d.at)]
    assert campaigns == [1] * 5


@pytest.mark.trio
async def test_paused_campaign_sends_nothing_and_resumes(tmp_path, autojump_clock):
    db = workspace(tmp_path, invites_only(), leads=30, invites=10)
    world = SandboxWorld(6, profile=QUIET)
    db.execute("UPDATE campaigns SET status = 'paused'")
    await run_for(db, world, MON, 2)
    assert world.deliveries == {}
    db.execute("UPDATE campaigns SET status = 'running', updated_at = ?", [iso(MON + timedelta(days=2))])
    await run_for(db, world, MON + timedelta(days=2), 1)
    assert len(world.deliveries) == 10


class SlowWorld(SandboxWorld):
    """Every call to the sandbox takes `seconds` (a slow gateway or SMTP server)."""

    def __init__(self, *args, seconds: float, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.seconds = seconds

    def latency(self, what: str) -> float:
        return self.seconds


async def stop_during_first_send(db, world) -> None:
    rt = Runtime(db, world=world, poll_interval=600.0)

    async def stop_when_sending() -> None:
        while db.execute("SELECT COUNT(*) FROM outbox WHERE state = 'sending'").fetchone()[0] == 0:
            await trio.sleep(1)
        rt.request_stop()

    async with trio.open_nursery() as nursery:
        await nursery.start(lambda task_status: rt.run(epoch=MON + timedelta(hours=8), task_status=task_status))
        nursery.start_soon(stop_when_sending)


@pytest.mark.trio
async def test_a_stop_lets_the_send_on_the_wire_finish_and_records_it(tmp_path, autojump_clock):
    db = workspace(tmp_path, invites_only(), leads=5)
    world = SlowWorld(8, profile=QUIET, seconds=20.0)  # within the 30 s grace
    await stop_during_first_send(db, world)
    states = [r[0] for r in db.execute("SELECT state FROM outbox ORDER BY id")]
    assert states.count("sent") == 1 and "sending" not in states and "claimed" not in states
    assert len(world.deliveries) == 1  # and nothing new was started after the stop
    assert db.execute("SELECT COUNT(*) FROM action_ledger WHERE bucket = 'connection_request'").fetchone()[0] == 1


@pytest.mark.trio
async def test_a_send_slower_than_the_grace_is_left_for_the_look_up(tmp_path, autojump_clock):
    db = workspace(tmp_path, invites_only(), leads=5)
    world = SlowWorld(8, profile=QUIET, seconds=120.0)
    await stop_during_first_send(db, world)
    assert [r[0] for r in db.execute("SELECT state FROM outbox WHERE state != 'queued'")] == ["sending"]
    assert world.deliveries == {}  # cut off before the far side did it; the next start looks it up


@pytest.mark.trio
async def test_three_days_down_then_each_due_step_runs_once_none_early_none_out_of_hours(tmp_path, autojump_clock):
    """The runtime stops on Monday evening and starts again on Thursday: every step that fell due
    meanwhile runs once, after its due time, inside working hours (reliability requirement 4)."""
    seq = Sequence(start="m1", nodes=[
        Email(id="m1", subject="Hello", body="hi {first_name}", next="m2"),
        Email(id="m2", subject="Again", body="following up", delay=Delay(days=1)),
    ])
    db = workspace(tmp_path, seq, leads=20)
    world = SandboxWorld(5, profile=QUIET)
    await run_for(db, world, MON, 0.8)  # Monday until 19:12 UTC: the first emails are out
    assert world.deliveries and all(d.key.split(":")[1] == "m1" for d in world.deliveries.values())
    await run_for(db, world, MON + timedelta(days=3), 2)  # down Tuesday and Wednesday
    tz = ZoneInfo("Europe/Madrid")
    steps: dict[tuple[str, str], list[datetime]] = {}
    for d in world.deliveries.values():
        lead, node, _ = d.key.split(":")
        steps.setdefault((lead, node), []).append(d.at)
        local = d.at.astimezone(tz)
        assert local.weekday() < 5 and 9 <= local.hour < 18, local
    assert all(len(at) == 1 for at in steps.values())  # once each
    assert {lead for lead, node in steps if node == "m2"} == {lead for lead, node in steps if node == "m1"} == {
        str(i) for i in range(1, 21)}
    for (lead, node), [at] in steps.items():
        if node == "m2":  # never early: a day after m1, and not before the runtime came back
            assert at >= steps[(lead, "m1")][0] + timedelta(days=1) and at >= MON + timedelta(days=3)
    assert check(db, start=MON, end=MON + timedelta(days=5), world=world)["violations"] == []
