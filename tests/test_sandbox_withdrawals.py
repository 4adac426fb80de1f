"""Automatic withdrawal for sandbox identities, end to end on the autojump clock.

The runtime's LinkedIn poller lists the sandbox identity's pending invitations,
withdraws those older than the identity's threshold, and the lead then waits
LinkedIn's 3-week cooldown (Connection withdrawn) before the one re-invite;
a withdrawn invitation can no longer be accepted in the sandbox world.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.checker import check
from runtime.sandbox.world import Profile, SandboxWorld
from sequences.model import AcceptedConnection, ConnectionRequest, Email, LinkedInMessage, Sequence
from tests.test_runtime_actors import MON, QUIET, run_for, workspace


def waits_for_acceptance() -> Sequence:
    return Sequence(start="invite", nodes=[
        ConnectionRequest(id="invite", next="acc"),
        AcceptedConnection(id="acc", within_days=60, yes="thanks", no="mail"),
        LinkedInMessage(id="thanks", chunks=["thanks!"]),
        Email(id="mail", subject="Hello {first_name}", body="hi"),
    ])


def invitations(world: SandboxWorld) -> list:
    return sorted((d for d in world.deliveries.values() if d.action == "connection_request"), key=lambda d: d.at)


@pytest.mark.trio
async def test_pending_invitations_are_withdrawn_then_reinvited_after_the_cooldown(tmp_path, autojump_clock):
    db = workspace(tmp_path, waits_for_acceptance(), leads=3, tz="UTC")
    db.execute("UPDATE identities SET withdraw_enabled = 1, withdraw_after_days = 2")
    world = SandboxWorld(5, profile=QUIET)  # nobody accepts
    await run_for(db, world, MON, 6)

    first = invitations(world)
    assert len(first) == 3
    assert set(world.withdrawn) == {d.key for d in first}  # all three, by the runtime's poller
    for d in first:
        assert timedelta(days=2) <= world.withdrawn[d.key] - d.at < timedelta(days=3)
    leads = db.execute("SELECT status, substatus FROM enrollments").fetchall()
    assert leads == [("in_progress", "connection_withdrawn")] * 3
    assert db.execute("SELECT COUNT(*) FROM activity WHERE kind = 'linkedin_invite_withdrawn'").fetchone()[0] == 3
    assert db.execute("SELECT COUNT(*) FROM linkedin_invitations WHERE state = 'withdrawn'").fetchone()[0] == 3

    await run_for(db, world, MON + timedelta(days=6), 24)  # past the 3-week cooldown
    again = invitations(world)[3:]
    assert len(again) == 3  # one re-invite each, never before the cooldown ended
    withdrawn_first = {d.lead: world.withdrawn[d.key] for d in first}
    for d in again:
        assert d.at >= withdrawn_first[d.lead] + timedelta(days=21)
    # the re-invite went unanswered too and was withdrawn in turn: no third invitation, the No branch
    assert set(world.withdrawn) == {d.key for d in first + again}
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE action = 'email' AND state = 'sent'").fetchone()[0] == 3
    assert check(db, start=MON, end=MON + timedelta(days=30), world=world)["violations"] == []


@pytest.mark.trio
async def test_a_withdrawn_invitation_is_never_accepted(tmp_path, autojump_clock):
    db = workspace(tmp_path, waits_for_acceptance(), leads=4, tz="UTC")
    db.execute("UPDATE identities SET withdraw_enabled = 1, withdraw_after_days = 1")
    everyone_accepts_late = Profile(accept=1.0, accept_hours=(60.0, 70.0), linkedin_reply=0.0, email_reply=0.0,
                                    bounce=0.0, out_of_office=0.0, prior_conversation=0.0, transient_failure=0.0,
                                    latency_s=(0.0, 0.0))
    world = SandboxWorld(6, profile=everyone_accepts_late)
    await run_for(db, world, MON, 5)
    assert len(world.withdrawn) == 4  # withdrawn after a day, before the lead would have accepted
    assert db.execute("SELECT COUNT(*) FROM linkedin_invitations WHERE state = 'accepted'").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM outbox WHERE action = 'linkedin_message'").fetchone()[0] == 0


def test_the_world_remembers_withdrawals_across_a_restart(tmp_path):
    accepts = Profile(accept=1.0, accept_hours=(10.0, 10.0), latency_s=(0.0, 0.0))
    world = SandboxWorld(7, path=tmp_path / "world.db", profile=accepts)
    world.deliver(key="1:invite:0", identity_id=1, channel="linkedin", action="connection_request", lead="ACo1", at=MON)
    world.deliver(key="2:invite:0", identity_id=1, channel="linkedin", action="connection_request", lead="ACo2", at=MON)
    assert [d.key for d in world.pending_invitations(1, MON + timedelta(hours=1))] == ["1:invite:0", "2:invite:0"]
    world.withdraw("1:invite:0", MON + timedelta(hours=2))
    world.close()

    again = SandboxWorld(7, path=tmp_path / "world.db", profile=accepts)  # the demo restarted
    assert set(again.withdrawn) == {"1:invite:0"}
    assert [d.key for d in again.pending_invitations(1, MON + timedelta(hours=3))] == ["2:invite:0"]
    accepted = [e.key for e in again.pop_due(MON + timedelta(hours=11)) if e.kind == "accepted"]
    assert accepted == ["2:invite:0"]  # the withdrawn one is never accepted
    assert again.pending_invitations(1, MON + timedelta(hours=11)) == []
