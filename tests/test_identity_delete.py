"""Deleting an identity: what goes is said before, removed in one transaction, and a running
runtime drops that identity's actors while the other identities go on sending."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
import trio

from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from sequences.model import ConnectionRequest, ReactToPost, Sequence, VisitProfile
from storage.db import open_db
from storage.identity_delete import WARNING, delete_identity, deletion_plan
from storage.identities import IdentityError, get_identity
from tests.support.seed import contacts, running_campaign, sandbox_identity
from tests.test_runtime_actors import MON, QUIET

DAY = 86400


def two_identities(tmp_path, seq: Sequence, leads: int = 60):
    """Ana (1) and Bo (2), each running one campaign of `leads` leads, on the sandbox."""
    db = open_db(tmp_path / "ws.db")
    for name in ("Ana", "Bo"):
        sandbox_identity(db, name, now=MON, email=f"{name.lower()}@sandbox.invalid", per_day=30, per_hour=5,
                         timezone="UTC", working_days="mon,tue,wed,thu,fri", work_start="09:00", work_end="18:00",
                         daily_connection_limit=10)
    contacts(db, [{"first_name": f"Lead{i}", "company": "Acme", "linkedin_url": f"https://www.linkedin.com/in/l{i}",
                   "linkedin_id": f"ACo{i}", "email": f"l{i}@example.com"} for i in range(1, 2 * leads + 1)], now=MON)
    for identity in (1, 2):
        running_campaign(db, identity=identity, sequence=seq, name=f"C{identity}",
                         contact_ids=list(range((identity - 1) * leads + 1, identity * leads + 1)), now=MON)
    return db


def invites() -> Sequence:
    return Sequence(start="invite", nodes=[ConnectionRequest(id="invite", note="hi {first_name}")])


def test_the_plan_names_what_goes_and_the_deletion_removes_exactly_that(tmp_path) -> None:
    db = two_identities(tmp_path, invites(), leads=5)
    db.execute("INSERT INTO action_ledger (at, identity_id, bucket) VALUES ('2026-03-23T10:00:00+00:00', 2, 'x')")
    plan = deletion_plan(db, "Bo")
    assert plan.identity_id == 2 and [c["name"] for c in plan.campaigns] == ["C2"]
    assert plan.campaigns[0]["leads"] == 5 and plan.inboxes == ["bo@sandbox.invalid"]
    assert plan.secrets == [f"inbox-{db.execute('SELECT id FROM inboxes WHERE identity_id = 2').fetchone()[0]}"]
    assert plan.lines()[-1] == f"Warning: {WARNING}"
    delete_identity(db, 2, now=MON, actor="you")
    with pytest.raises(IdentityError):
        get_identity(db, 2)
    one = lambda sql: db.execute(sql).fetchone()[0]  # noqa: E731
    assert one("SELECT COUNT(*) FROM campaigns WHERE name = 'C2'") == 0
    assert one("SELECT COUNT(*) FROM enrollments") == 5  # Ana's leads stay
    assert one("SELECT COUNT(*) FROM inboxes") == 1
    assert one("SELECT COUNT(*) FROM action_ledger WHERE identity_id = 2") == 0
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert [r[0] for r in db.execute("SELECT name FROM secret_purges")] == plan.secrets
    assert one("SELECT COUNT(*) FROM activity WHERE kind = 'identity_deleted' AND identity_id IS NULL") == 1
    get_identity(db, 1)  # untouched


def test_a_deletion_interrupted_half_way_leaves_everything(tmp_path) -> None:
    """One transaction: a failure at the last statement (here a trigger; a kill likewise, since
    nothing is committed before COMMIT) undoes the campaigns, leads and purges deleted before it."""
    db = two_identities(tmp_path, invites(), leads=5)
    db.execute("CREATE TEMP TRIGGER boom BEFORE DELETE ON identities BEGIN SELECT RAISE(ABORT, 'killed'); END")
    with pytest.raises(sqlite3.IntegrityError):
        delete_identity(db, 2, now=MON, actor="you")
    assert db.execute("SELECT COUNT(*) FROM campaigns").fetchone()[0] == 2
    assert db.execute("SELECT COUNT(*) FROM enrollments").fetchone()[0] == 10
    assert db.execute("SELECT COUNT(*) FROM secret_purges").fetchone()[0] == 0
    assert get_identity(db, 2)["name"] == "Bo"


@pytest.mark.trio
async def test_the_runtime_drops_the_deleted_identity_and_keeps_sending_for_the_others(tmp_path, autojump_clock):
    db = two_identities(tmp_path, invites())
    world = SandboxWorld(3, profile=QUIET)
    rt = Runtime(db, world=world, poll_interval=60.0)
    deleted_at = MON + timedelta(days=1, hours=12)

    async def delete_midway() -> None:
        await trio.sleep(1.5 * DAY)
        other = open_db(tmp_path / "ws.db")  # the app's or the CLI's connection
        delete_identity(other, "Bo", now=deleted_at, actor="you")
        other.close()
        await trio.sleep(120)
        assert set(rt.supervisor.identities) == {1}  # Bo's actor is gone, Ana's runs
        assert set(rt.supervisor.campaigns) == {1}

    async with trio.open_nursery() as nursery:
        nursery.start_soon(delete_midway)
        await rt.run(epoch=MON, until=MON + timedelta(days=4))
    by = {1: [], 2: []}
    for d in world.deliveries.values():
        by[d.identity_id].append(d.at)
    assert len([at for at in by[2] if at < MON + timedelta(days=1)]) == 10  # Bo sent Monday's invitations
    assert not [at for at in by[2] if at > deleted_at + timedelta(minutes=2)]  # and nothing after
    for day in (2, 3):  # Ana went on at her full cap on Wednesday and Thursday
        assert len([at for at in by[1] if at.date() == (MON + timedelta(days=day)).date()]) == 10
    assert db.execute("SELECT COUNT(*) FROM identities").fetchone()[0] == 1


@pytest.mark.trio
async def test_likings_opt_out_skips_post_reactions(tmp_path, autojump_clock):
    """The identity's likings opt-out: its "React to last post" steps are skipped, the sequence goes
    on; the other identity reacts."""
    seq = Sequence(start="visit", nodes=[VisitProfile(id="visit", next="react"), ReactToPost(id="react", next="invite"),
                                         ConnectionRequest(id="invite")])
    db = two_identities(tmp_path, seq, leads=3)
    db.execute("UPDATE identities SET likings_opt_out = 1 WHERE name = 'Bo'")
    world = SandboxWorld(3, profile=QUIET)
    await Runtime(db, world=world, poll_interval=60.0).run(epoch=MON, until=MON + timedelta(days=2))
    reacted = dict(db.execute("SELECT c.identity_id, COUNT(*) FROM activity a JOIN campaigns c ON c.id = a.campaign_id"
                              " WHERE a.kind = 'linkedin_post_reacted' GROUP BY c.identity_id").fetchall())
    assert reacted == {1: 3}  # Ana reacted; Bo never did
    actions = {(d.identity_id, d.action) for d in world.deliveries.values()}
    bo = [d for d in world.deliveries.values() if d.identity_id == 2 and d.action == "connection_request"]
    assert len(bo) == 3  # each of Bo's leads went on past the skipped step
