"""The per-campaign enrollment counts kept by triggers (m043) always equal a fresh COUNT.

Every way the product writes enrollments is driven here — bulk adds, picked
contacts, campaign duplication and deletion, lead intents (pause, resume,
retry, remove), activity milestones and positive tags, the runtime's steps
(a simulated run) — plus raw SQL that moves leads between campaigns, statuses,
nodes and bit sets, and after each the kept totals are compared with a
GROUP BY over `enrollments`. The audience table's counts read those totals,
so they are checked against a COUNT of the rows it lists.
"""

from __future__ import annotations

import random
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from storage.activity import record, set_positive
from storage.activity_kinds import Kind
from storage.audience_view import AudienceFilter, AudienceSource
from storage.audience import add_contacts, add_list
from storage.campaigns import create_campaign, delete_campaign, duplicate_campaign, launch_campaign, pause_campaign
from storage.db import connect, migrate, transaction
from storage.identities import create_identity
from storage.lead_intents import pause_leads, remove_leads, resume_leads, retry_leads
from storage.metrics import campaign_metrics
from storage.reader import Reader
from tests.support.campaign_workspace import NOW, add_contacts as make_contacts, make_workspace

STATUSES = ("not_started", "in_progress", "paused", "error", "finished", "replied")


def kept(db) -> tuple[dict, dict]:
    by_status = {(c, s, node): n for c, s, node, n in db.execute(
        "SELECT campaign_id, status, node_id, n FROM enrollment_counts WHERE n != 0")}
    by_bits = {(c, bits): n for c, bits, n in db.execute(
        "SELECT campaign_id, milestones, n FROM enrollment_milestone_counts WHERE n != 0")}
    return by_status, by_bits


def fresh(db) -> tuple[dict, dict]:
    by_status = {(c, s, node): n for c, s, node, n in db.execute(
        "SELECT campaign_id, status, coalesce(node_id, ''), count(*) FROM enrollments"
        " GROUP BY campaign_id, status, coalesce(node_id, '')")}
    by_bits = {(c, bits): n for c, bits, n in db.execute(
        "SELECT campaign_id, milestones, count(*) FROM enrollments GROUP BY campaign_id, milestones")}
    return by_status, by_bits


def assert_in_step(db) -> None:
    assert kept(db) == fresh(db)
    # a count never goes negative, and a deleted campaign leaves no rows behind
    assert db.execute("SELECT count(*) FROM enrollment_counts WHERE n < 0").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM enrollment_milestone_counts WHERE n < 0").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM enrollment_counts WHERE campaign_id NOT IN"
                      " (SELECT id FROM campaigns)").fetchone()[0] == 0


@pytest.fixture
def campaign(tmp_path):
    ws, db = make_workspace(tmp_path)
    create_identity(db, "Ada", now=NOW, actor="you")
    make_contacts(db, 30)
    cid = create_campaign(db, identity="Ada", template="LinkedIn + Email", now=NOW, actor="you")
    return ws, db, cid


def enrollment_ids(db, cid: int) -> list[int]:
    return [r[0] for r in db.execute("SELECT id FROM enrollments WHERE campaign_id = ? ORDER BY id", [cid])]


def test_adds_duplicates_and_deletes_keep_the_counts(campaign):
    _, db, cid = campaign
    assert_in_step(db)
    add_contacts(db, cid, [1, 2, 3], now=NOW, actor="you")
    assert_in_step(db)
    add_list(db, cid, "Leads", now=NOW, actor="you")  # 1-3 already in: skipped, not counted twice
    assert_in_step(db)
    assert campaign_metrics(db, cid).audience["total"] == 30
    copy = duplicate_campaign(db, cid, now=NOW, actor="you", with_audience=True)
    assert_in_step(db)
    assert campaign_metrics(db, copy).audience["not_started"] == 30
    delete_campaign(db, copy, now=NOW, actor="you")
    assert_in_step(db)
    assert db.execute("SELECT count(*) FROM enrollment_milestone_counts WHERE campaign_id = ?", [copy]).fetchone()[0] == 0


def test_lead_intents_milestones_and_positive_tags_keep_the_counts(campaign):
    _, db, cid = campaign
    add_list(db, cid, "Leads", now=NOW, actor="you")
    launch_campaign(db, cid, now=NOW, actor="you")
    ids = enrollment_ids(db, cid)
    for i in ids[:10]:
        db.execute("UPDATE enrollments SET status = 'in_progress', node_id = 'invite' WHERE id = ?", [i])
    for i in ids[10:13]:
        db.execute("UPDATE enrollments SET status = 'error', node_id = 'visit' WHERE id = ?", [i])
    assert_in_step(db)
    pause_leads(db, cid, ["1", "2", "15"], now=NOW, actor="you")
    assert_in_step(db)
    resume_leads(db, cid, ["1"], now=NOW, actor="you")  # an intent only: status unchanged until the runtime
    pause_leads(db, cid, ["1"], now=NOW, actor="you")  # withdraws the pending resume
    retry_leads(db, cid, None, now=NOW, actor="you")
    remove_leads(db, cid, ["3", "20"], now=NOW, actor="you")
    assert_in_step(db)
    for kind in (Kind.LINKEDIN_PROFILE_VISITED, Kind.LINKEDIN_INVITE_SENT, Kind.EMAIL_SENT, Kind.EMAIL_REPLY_RECEIVED):
        record(db, kind=kind, now=NOW, enrollment_id=ids[4])
        assert_in_step(db)
    set_positive(db, enrollment_id=ids[4], channel="email", positive=True, now=NOW, actor="you")
    assert_in_step(db)
    set_positive(db, enrollment_id=ids[4], channel="email", positive=False, now=NOW, actor="you")
    assert_in_step(db)
    pause_campaign(db, cid, now=NOW, actor="you")
    a = campaign_metrics(db, cid).audience
    assert a["in_progress"] == 0 and a["paused"] == db.execute(
        "SELECT count(*) FROM enrollments WHERE campaign_id = ? AND status IN ('paused', 'in_progress')",
        [cid]).fetchone()[0]


def test_any_sql_write_keeps_the_counts(campaign):
    """Raw writes, as a script or the sqlite3 shell would make them: the triggers do not care who writes."""
    _, db, cid = campaign
    other = create_campaign(db, identity="Ada", template="Email Only", now=NOW + timedelta(hours=1), actor="you")
    add_list(db, cid, "Leads", now=NOW, actor="you")
    add_contacts(db, other, list(range(1, 16)), now=NOW, actor="you")
    rng = random.Random(5)
    nodes = [None, "visit", "invite", "email1"]
    for _ in range(300):
        ids = [r[0] for r in db.execute("SELECT id FROM enrollments")]
        i = rng.choice(ids)
        what = rng.randrange(7)
        with transaction(db):
            if what == 0:
                db.execute("UPDATE enrollments SET status = ? WHERE id = ?", [rng.choice(STATUSES), i])
            elif what == 1:
                db.execute("UPDATE enrollments SET node_id = ? WHERE id = ?", [rng.choice(nodes), i])
            elif what == 2:
                db.execute("UPDATE enrollments SET milestones = milestones | ? WHERE id = ?", [1 << rng.randrange(6), i])
            elif what == 3:  # the same values again: no change to count
                db.execute("UPDATE enrollments SET status = status, node_id = node_id, milestones = milestones"
                           " WHERE id = ?", [i])
            elif what == 4:  # moved to the other campaign when that contact is not there yet
                db.execute("UPDATE OR IGNORE enrollments SET campaign_id = CASE campaign_id WHEN ? THEN ? ELSE ? END"
                           " WHERE id = ?", [cid, other, cid, i])
            elif what == 5:
                db.execute("DELETE FROM enrollments WHERE id = ?", [i])
            else:  # several rows in one statement, and an insert that may hit UNIQUE and be ignored
                db.execute("UPDATE enrollments SET status = ?, node_id = ? WHERE campaign_id = ? AND id % 3 = ?",
                           [rng.choice(STATUSES), rng.choice(nodes), rng.choice([cid, other]), rng.randrange(3)])
                db.execute("INSERT OR IGNORE INTO enrollments (campaign_id, contact_id, status, enrolled_at, updated_at)"
                           " VALUES (?, ?, ?, ?, ?)", [rng.choice([cid, other]), rng.randrange(1, 31),
                                                       rng.choice(STATUSES), NOW.isoformat(), NOW.isoformat()])
        assert_in_step(db)
    with pytest.raises(sqlite3.IntegrityError):  # a failed statement leaves the counts as they were
        with transaction(db):
            db.execute("UPDATE enrollments SET status = 'paused' WHERE campaign_id = ?", [cid])
            db.execute("UPDATE enrollments SET status = 'nonsense' WHERE campaign_id = ?", [cid])
    assert_in_step(db)


def test_the_runtime_keeps_the_counts(tmp_path):
    """A simulated run: steps, errors, replies, milestones and adds to other campaigns, all by the runtime."""
    from runtime.simulation import run_simulation

    report = run_simulation(identities=2, leads_per_identity=40, days=10, seed=3, folder=tmp_path)
    assert report["violations"] == []
    db = connect(tmp_path / "simulation.db")
    statuses = {s for (_, s, _) in fresh(db)[0]}
    assert {"in_progress", "finished"} <= statuses, "a run that moved nobody proves little"
    assert len(fresh(db)[1]) > 2
    assert_in_step(db)


def test_the_migration_counts_the_rows_that_existed_before_it(tmp_path):
    db = connect(tmp_path / "old.db")
    migrate(db, upto="m042_activity_by_contact")
    at = NOW.isoformat()
    db.execute("INSERT INTO identities (id, name, timezone, created_at, updated_at) VALUES (1, 'Ada', 'UTC', ?, ?)",
               [at, at])
    for c in (1, 2):
        db.execute("INSERT INTO campaigns (id, name, identity_id, sequence, created_at, updated_at)"
                   " VALUES (?, ?, 1, '{}', ?, ?)",
                   [c, f"c{c}", at, at])
    for i in range(1, 8):
        db.execute("INSERT INTO contacts (id, first_name, created_at, updated_at) VALUES (?, 'x', ?, ?)", [i, at, at])
        db.execute("INSERT INTO enrollments (campaign_id, contact_id, status, node_id, milestones, enrolled_at,"
                   " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [1 + i % 2, i, STATUSES[i % 3], [None, "visit"][i % 2], i % 4, at, at])
    migrate(db)
    assert kept(db) == fresh(db) and sum(kept(db)[0].values()) == 7
    db.execute("UPDATE enrollments SET status = 'finished', node_id = NULL")
    assert_in_step(db)


def test_audience_counts_equal_the_rows_listed(campaign):
    ws, db, cid = campaign
    add_list(db, cid, "Leads", now=NOW, actor="you")
    ids = enrollment_ids(db, cid)
    for n, i in enumerate(ids):
        db.execute("UPDATE enrollments SET status = ?, node_id = ? WHERE id = ?",
                   [STATUSES[n % 6], ["visit", "invite", None][n % 3], i])
    reader = Reader(ws / "enginy.db")
    try:
        for paused in (False, True):
            for status in (None, *STATUSES):
                for node in (None, "visit", "invite"):
                    source = AudienceSource(reader, AudienceFilter(cid, status=status, node_id=node,
                                                                   campaign_paused=paused))
                    listed = source.after(None, 1000)
                    assert source.count() == (len(listed), True), (status, node, paused)
        # a filter that reads rows: exact over few leads
        source = AudienceSource(reader, AudienceFilter(cid, status="finished", search="Test"))
        assert source.count() == (len(source.after(None, 1000)), True) == (5, True)
    finally:
        reader.close()
