"""The checker's own arithmetic: what a saturated identity-day could have done at most."""

from __future__ import annotations

from datetime import timedelta

import trio
import trio.testing

from runtime.checker import check
from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from storage.activity import iso
from storage.db import transaction
from tests.test_runtime_actors import MON, QUIET, invites_only, workspace


def saturated_visit_day(db, visits: int, *, first_offset_s: int = 0) -> None:
    """Identity 1 (UTC, 09-18) visits every 240 s from 09:00 + offset; one more visit
    queued since Sunday is still waiting at the end of Monday (demand exceeded the cap)."""
    opening = MON + timedelta(hours=9, seconds=first_offset_s)
    with transaction(db):
        db.execute("UPDATE identities SET premium = 1")  # 150 visits a day: spacing, not the cap, binds
        db.execute("INSERT INTO outbox (key, enrollment_id, campaign_id, identity_id, channel, action, bucket,"
                   " state, created_at, updated_at) VALUES ('waiting', 1, 1, 1, 'linkedin', 'visit_profile',"
                   " 'profile_visit', 'queued', ?, ?)", [iso(MON - timedelta(days=1))] * 2)
        for i in range(visits):
            at = iso(opening + timedelta(seconds=240 * i))
            cur = db.execute("INSERT INTO outbox (key, enrollment_id, campaign_id, identity_id, channel, action, bucket,"
                             " state, created_at, updated_at, sent_at) VALUES (?, 1, 1, 1, 'linkedin', 'visit_profile',"
                             " 'profile_visit', 'sent', ?, ?, ?)", [f"v{i}", iso(MON), at, at])
            db.execute("INSERT INTO action_ledger (at, identity_id, bucket, campaign_id, enrollment_id, outbox_id)"
                       " VALUES (?, 1, 'profile_visit', 1, 1, ?)", [at, cur.lastrowid])


def test_a_visit_every_four_minutes_all_day_is_full_utilization(tmp_path):
    # 9 h = 135 gaps of 240 s: the 136th visit would land on 18:00, outside [09:00, 18:00)
    db = workspace(tmp_path, invites_only(), leads=1, tz="UTC")
    saturated_visit_day(db, 135)
    report = check(db, start=MON, end=MON + timedelta(days=1))
    assert report["violations"] == []
    assert report["cap_utilization"] == {"worst": 1.0, "mean": 1.0, "days": 1}


def test_a_day_that_started_late_is_below_full_utilization(tmp_path):
    db = workspace(tmp_path, invites_only(), leads=1, tz="UTC")
    saturated_visit_day(db, 120, first_offset_s=3600)  # opened an hour late: 120 of 135
    report = check(db, start=MON, end=MON + timedelta(days=1))
    assert report["cap_utilization"]["worst"] == round(120 / 135, 4)


def ledger_visit(db, at, key: str) -> None:
    cur = db.execute("INSERT INTO outbox (key, enrollment_id, campaign_id, identity_id, channel, action, bucket,"
                     " state, created_at, updated_at, sent_at) VALUES (?, 1, 1, 1, 'linkedin', 'visit_profile',"
                     " 'profile_visit', 'sent', ?, ?, ?)", [key, iso(at), iso(at), iso(at)])
    db.execute("INSERT INTO action_ledger (at, identity_id, bucket, campaign_id, enrollment_id, outbox_id)"
               " VALUES (?, 1, 'profile_visit', 1, 1, ?)", [iso(at), cur.lastrowid])


def test_the_checker_finds_a_send_outside_working_hours_and_one_too_close_to_the_last(tmp_path):
    db = workspace(tmp_path, invites_only(), leads=1, tz="UTC")  # Monday 09:00-18:00 UTC
    with transaction(db):
        ledger_visit(db, MON + timedelta(hours=10), "inside")
        ledger_visit(db, MON + timedelta(hours=10, minutes=1), "too-soon")  # 1 visit per 4 min
        ledger_visit(db, MON + timedelta(hours=18, minutes=30), "after-hours")
        ledger_visit(db, MON + timedelta(days=1, hours=8, minutes=59), "before-opening")
    report = check(db, start=MON, end=MON + timedelta(days=2))
    kinds = sorted(v["kind"] for v in report["violations"])
    assert kinds == ["rolling", "working_hours", "working_hours"]
    late = sorted(v["at"] for v in report["violations"] if v["kind"] == "working_hours")
    assert late == [iso(MON + timedelta(hours=18, minutes=30)), iso(MON + timedelta(days=1, hours=8, minutes=59))]


def test_the_checker_finds_leads_that_wait_without_a_reason(tmp_path):
    """After a real run every lead names its reason; a lead left In progress with none (a queued
    job and no substatus, the stall issue 14 found), one whose job sits on a disconnected inbox,
    Identity limits without the cap or without its refill, and an Error without an error substatus
    are each a violation."""
    db = workspace(tmp_path, invites_only(), leads=6, invites=2)
    rt = Runtime(db, world=SandboxWorld(9, profile=QUIET), poll_interval=600.0)
    trio.run(lambda: rt.run(epoch=MON, until=MON + timedelta(days=1)), clock=trio.testing.MockClock(autojump_threshold=0))
    end = MON + timedelta(days=1)
    assert check(db, start=MON, end=end)["violations"] == []
    waiting = [r[0] for r in db.execute("SELECT e.id FROM enrollments e JOIN outbox o ON o.enrollment_id = e.id"
                                        " WHERE o.state = 'queued' ORDER BY e.id")]
    assert len(waiting) == 4  # two invitations a day: four wait for Tuesday, each says why
    # ... with its detail: the cap that is spent, and its refill at Tuesday's opening (09:00 Madrid)
    details = set(db.execute(f"SELECT substatus, wait_cap, wait_until FROM enrollments WHERE id IN"
                             f" ({','.join('?' * 4)})", waiting))
    assert details == {("identity_limits", "invitations 2 per day", iso(MON + timedelta(days=1, hours=8)))}
    with transaction(db):
        db.execute("UPDATE enrollments SET substatus = NULL WHERE id = ?", [waiting[0]])
        db.execute("UPDATE enrollments SET status = 'error', substatus = NULL WHERE id = ?", [waiting[1]])
        db.execute("UPDATE outbox SET bucket = 'email', inbox_id = 1 WHERE enrollment_id = ?", [waiting[2]])
        db.execute("UPDATE inboxes SET connected = 0")
        db.execute("UPDATE enrollments SET wait_cap = NULL WHERE id = ?", [waiting[3]])

    def found() -> set:
        return {(v["enrollment"], v["why"]) for v in check(db, start=MON, end=end)["violations"]
                if v["kind"] == "unexplained_wait"}

    assert found() == {(waiting[0], "no_reason"), (waiting[1], "error_without_reason"),
                       (waiting[2], "queued_on_lost_inbox"), (waiting[3], "limit_without_cap")}
    with transaction(db):  # the cap named, but not when it refills
        db.execute("UPDATE enrollments SET wait_cap = 'invitations 2 per day', wait_until = NULL WHERE id = ?",
                   [waiting[3]])
    assert (waiting[3], "wait_without_end") in found()
