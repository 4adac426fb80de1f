"""The storage functions the runtime's statements moved into (issue 12): each on a small workspace.

The runtime tests drive them end to end; these pin each function's own
contract — what it returns, what it leaves untouched — so a change to one
shows here rather than as a drifted simulation digest.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from sequences.step import State
from storage import conversations, forecast, leads, linkedin_invitations, outbox, run_record, runtime_lease
from storage import sandbox_world, simulation
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.db import open_db, transaction
from storage.demo_clock import demo_rows, set_demo_clock
from storage.identities import connected_inbox_ids, identities_by_id, real_inbox_ids
from storage.runtime_state import get_state, set_state

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
AT = iso(NOW)


@pytest.fixture
def db(tmp_path):
    """Identity 1 with a sandbox inbox (1) and a real one (2), contacts 1-4, campaign 1 enrolling 1-3."""
    db = open_db(tmp_path / "w.db", durable=False)
    with transaction(db):
        simulation.add_identity(db, id=1, name="Sender 1", email="s1@example.com", timezone="UTC",
                                working_days="mon,tue,wed,thu,fri", work_start="09:00", work_end="18:00",
                                premium=False, monthly_conversation_limit=None, at=AT)
        simulation.add_inbox(db, id=1, identity_id=1, email="s1.0@example.com", per_day=30, per_hour=5, at=AT)
        simulation.add_inbox(db, id=2, identity_id=1, email="s1.1@example.com", per_day=40, per_hour=6, at=AT)
        db.execute("UPDATE inboxes SET provider = 'imap' WHERE id = 2")
        simulation.add_contacts(db, [
            (cid, f"First{cid}", f"Last{cid}", "Co", "CEO", f"https://www.linkedin.com/in/lead-{cid}/",
             f"ACo{cid}", f"lead{cid}@example.com", None, AT, AT) for cid in range(1, 5)])
        simulation.add_running_campaign(db, id=1, name="Camp", identity_id=1, priority="high", settings="{}",
                                        sequence='{"nodes": []}', at=AT)
        simulation.enroll_contact_range(db, 1, 1, 4, AT)
    return db


def queue(db, key: str = "1:n1:0", enrollment_id: int = 1, channel: str = "linkedin") -> int | None:
    return outbox.insert_job(db, key=key, enrollment_id=enrollment_id, campaign_id=1, identity_id=1, inbox_id=None,
                             node_id="n1", channel=channel, action="linkedin_message", bucket="message",
                             payload=b'{"text": "hi"}', sort_key=7, now=NOW)


def test_simulation_build_inserts_the_given_ids(db):
    assert identities_by_id(db)[1]["linkedin_driver"] == "sandbox"
    assert [r["contact_id"] for r in leads.lead_rows(db, [1, 2, 3])] == [1, 2, 3]
    assert leads.lead_rows(db, [4]) == [] and leads.lead_rows(db, []) == []
    assert leads.load_campaign(db, 1)["status"] == "running"
    assert leads.load_campaign(db, 99) is None


def test_runtime_state_values_overwrite(db):
    assert get_state(db, "k") is None
    set_state(db, "k", "one")
    set_state(db, "k", "two")
    assert get_state(db, "k") == "two"


def test_demo_rows_are_the_controls_in_key_order(db):
    assert demo_rows(db) == ()
    set_demo_clock(db, speed=60.0, paused=True)
    assert demo_rows(db) == (("demo_paused", "1"), ("demo_speed", "60.0"))


def test_lease_take_beat_stop_and_drop(db):
    assert runtime_lease.holder(db) is None
    assert runtime_lease.stop_requested(db)  # no lease row: nobody may run on
    with transaction(db):
        runtime_lease.take(db, pid=41, host="h", now=NOW)
        runtime_lease.take(db, pid=42, host="h", now=NOW)  # replaces, never a second row
    assert runtime_lease.holder(db) == runtime_lease.Holder(42, "h", AT, AT)
    runtime_lease.beat(db, NOW + timedelta(seconds=5))
    assert runtime_lease.holder(db).heartbeat_at == iso(NOW + timedelta(seconds=5))
    assert not runtime_lease.stop_requested(db)
    runtime_lease.ask_to_stop(db)
    assert runtime_lease.stop_requested(db)
    runtime_lease.drop(db, 41)  # not the holder: nothing happens
    assert runtime_lease.holder(db) is not None
    runtime_lease.drop(db, 42)
    assert runtime_lease.holder(db) is None


def test_inbox_ids(db):
    assert connected_inbox_ids(db, 1) == {1, 2}
    assert real_inbox_ids(db) == {2} and real_inbox_ids(db, 1) == {2} and real_inbox_ids(db, 9) == set()


def test_insert_job_is_idempotent_on_its_key_and_a_cancelled_row_requeues(db):
    first = queue(db)
    assert first is not None
    assert queue(db) is None
    assert outbox.by_key(db, "1:n1:0") == outbox.KeyedJob(first, "queued", None)
    outbox.cancel(db, first, "lead moved on", NOW)
    assert outbox.by_key(db, "1:n1:0").state == "cancelled"
    outbox.requeue(db, first, 3, NOW)
    row = db.execute("SELECT state, sort_key, error FROM outbox WHERE id = ?", [first]).fetchone()
    assert row == ("queued", 3, None)


def test_claim_spends_one_ledger_entry_and_release_returns_it(db):
    job_id = queue(db)
    with transaction(db):
        db.execute("UPDATE enrollments SET status = 'in_progress', state = ? WHERE id = 1",
                   [leads.encode(State(node="n1", phase="queued"))])
    row = outbox.load(db, job_id)
    assert outbox.why_not(row) is None
    with transaction(db):
        job = outbox.claim(db, row, identity_id=1, now=NOW, counted=None)
    assert job.payload == {"text": "hi"} and job.linkedin_id == "ACo1" and not job.resumed
    assert outbox.ledger_time(db, job_id) == NOW
    outbox.release(db, job, NOW, state="queued", error="429")
    assert outbox.ledger_time(db, job_id) is None
    with transaction(db):
        job = outbox.claim(db, outbox.load(db, job_id), identity_id=1, now=NOW, counted=None)
    assert outbox.recover(db, 1, NOW) == 1  # a crash mid-send: unknown, the ledger entry kept
    assert outbox.load(db, job_id)["state"] == "unknown" and outbox.ledger_time(db, job_id) == NOW
    outbox.mark_sent(db, job, NOW, "ext-1")
    assert db.execute("SELECT state, external_id FROM outbox WHERE id = ?", [job_id]).fetchone() == ("sent", "ext-1")


def test_spend_counts_an_action_without_a_job(db):
    outbox.spend(db, at=NOW, identity_id=1, bucket="connection_evaluation")
    assert run_record.ledger(db) == [{"id": 1, "at": AT, "identity_id": 1, "inbox_id": None,
                                      "bucket": "connection_evaluation", "enrollment_id": None, "outbox_id": None}]


def test_linkedin_deliveries_are_found_by_member(db):
    assert outbox.first_linkedin_sent(db, 1) is None
    for enrollment, minutes in ((1, 0), (2, 10), (1, 20)):
        job_id = queue(db, key=f"{enrollment}:n{minutes}:0", enrollment_id=enrollment)
        outbox.mark_sent(db, outbox.Claimed(
            id=job_id, key="", enrollment_id=enrollment, campaign_id=1, contact_id=enrollment, inbox_id=None,
            node="n1", channel="linkedin", action="linkedin_message", bucket="message", payload={},
            message_id=None, first_attempt_at=NOW, resumed=False, email=None, linkedin_id=None, linkedin_url=None,
            sort_key=0, claimed_at=NOW), NOW + timedelta(minutes=minutes), None)
    assert outbox.first_linkedin_sent(db, 1) == NOW
    until = NOW + timedelta(hours=1)
    assert outbox.latest_linkedin_delivery_to(db, 1, "ACo1", until) == "1:n20:0"
    assert outbox.latest_linkedin_delivery_to(db, 1, "lead-1", NOW + timedelta(minutes=5)) == "1:n0:0"  # by URL slug
    assert outbox.latest_linkedin_delivery_to(db, 1, "lead-2", until) == "2:n10:0"
    assert outbox.latest_linkedin_delivery_to(db, 1, "ACo3", until) is None


def test_lead_writes(db):
    row = leads.lead_rows(db, [1])[0]
    leads.save_columns(db, 1, {"status": "in_progress", "due_at": None}, NOW + timedelta(hours=1))
    leads.set_inbox(db, 1, 2)
    after = leads.lead_rows(db, [1])[0]
    assert (after["status"], after["due_at"], after["inbox_id"]) == ("in_progress", None, 2)
    assert after["node_id"] == row["node_id"] and after["message_depth"] == row["message_depth"]
    assert db.execute("SELECT updated_at FROM enrollments WHERE id = 1").fetchone()[0] == iso(NOW + timedelta(hours=1))
    leads.add_task(db, campaign_id=1, enrollment_id=1, contact_id=1, node_id="t", title="Call", notes="n",
                   kind="call", now=NOW)
    assert db.execute("SELECT title, kind, status FROM tasks").fetchall() == [("Call", "call", "pending")]


def test_enroll_into_a_named_campaign(db):
    assert leads.campaign_named(db, "Camp") == 1
    assert leads.campaign_named(db, "Other") is None
    simulation.add_running_campaign(db, id=2, name="Other", identity_id=1, priority="low", settings="{}",
                                    sequence='{"nodes": []}', at=AT)
    assert leads.enroll(db, 2, 4, NOW) is True
    assert leads.enroll(db, 2, 4, NOW) is False
    db.execute("UPDATE campaigns SET status = 'archived' WHERE id = 2")
    assert leads.campaign_named(db, "Other") is None


def test_conversations_and_sent_messages(db):
    assert not conversations.has_conversation(db, 1, 1, "linkedin")
    conv = conversations.conversation_id(db, identity_id=1, contact_id=1, channel="linkedin", campaign_id=1,
                                         inbox_id=None, now=NOW)
    assert conversations.conversation_id(db, identity_id=1, contact_id=1, channel="linkedin", campaign_id=1,
                                         inbox_id=None, now=NOW) == conv
    assert conversations.has_conversation(db, 1, 1, "linkedin")
    later = NOW + timedelta(hours=2)
    for _ in range(2):  # once per Message-ID
        conversations.add_sent(db, conv, kind="linkedin_message", at=later, subject=None, body="hi",
                               message_id="<m1>", enrollment_id=1)
    assert leads.outbound_messages(db, 1) == [leads.SentMessage("linkedin", iso(later), 1)]
    assert db.execute("SELECT updated_at FROM conversations WHERE id = ?", [conv]).fetchone()[0] == iso(later)


def test_invitation_lookups(db):
    row_id = linkedin_invitations.record_sent(db, identity_id=1, provider_id="https://www.linkedin.com/in/lead-1/",
                                              sent_at=NOW, outbox_key="1:n1:0")
    linkedin_invitations.record_sent(db, identity_id=1, provider_id="ACo2", sent_at=NOW + timedelta(hours=1),
                                     outbox_key="2:n1:0")
    assert linkedin_invitations.oldest_awaiting(db, 1) == NOW
    assert linkedin_invitations.awaiting_key(db, 1, "ACo1", "lead-1") == "1:n1:0"  # by the URL's slug
    assert linkedin_invitations.awaiting_key(db, 1, "ACo2", None) == "2:n1:0"
    assert linkedin_invitations.outbox_key_of(db, row_id) == "1:n1:0"
    assert linkedin_invitations.outbox_key_of(db, 999) is None
    assert not linkedin_invitations.is_accepted(db, 1, "ACo2")
    linkedin_invitations.mark_accepted(db, 1, "ACo2", NOW)
    assert linkedin_invitations.is_accepted(db, 1, "ACo2")
    assert linkedin_invitations.awaiting_key(db, 1, "ACo2", None) is None
    assert linkedin_invitations.oldest_awaiting(db, 9) is None


def test_run_record_reads(db):
    sent = queue(db, key="1:a:0")
    queue(db, key="2:a:0", enrollment_id=2)
    db.execute("UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?", [AT, sent])
    for at, enrollment in ((NOW + timedelta(minutes=1), 2), (NOW, 1)):
        outbox.spend(db, at=at, identity_id=1, bucket="message", enrollment_id=enrollment)
    assert [r["enrollment_id"] for r in run_record.ledger(db)] == [1, 2]  # in time order
    record(db, kind=Kind.LINKEDIN_REPLY_RECEIVED, now=NOW + timedelta(hours=1), enrollment_id=1)
    record(db, kind=Kind.LINKEDIN_REPLY_RECEIVED, now=NOW, enrollment_id=1)
    assert run_record.first_activity(db, ("linkedin_reply_received", "email_bounced")) == {1: AT}
    assert run_record.enrollments_with(db, "linkedin_reply_received") == [1, 1]
    assert run_record.sent_jobs(db) == [{"id": sent, "enrollment_id": 1, "sent_at": AT, "action": "linkedin_message"}]
    assert set(run_record.maybe_sent_keys(db)) == {"1:a:0"}
    assert run_record.status_counts(db) == {"not_started": 3}
    assert [(r["bucket"], r["state"]) for r in run_record.capped_jobs(db)] == [("message", "sent"), ("message", "queued")]
    assert set(run_record.inboxes(db)) == {1, 2}


def test_forecast_reads_and_rewiring(db, tmp_path):
    copy = tmp_path / "copy.db"
    forecast.snapshot(tmp_path / "w.db", copy)
    assert set(forecast.active_campaigns(db)) == {1}
    assert forecast.remaining_leads(db) == {1: 3}
    assert forecast.milestone_counts(db, 1, 2) == (0, 0)
    assert forecast.inbox_limits(db, 1) == [{"per_day": 30, "per_hour": 5}, {"per_day": 40, "per_hour": 6}]
    outbox.spend(db, at=NOW, identity_id=1, bucket="message")
    assert forecast.ledger_count(db, 1, "message", NOW, NOW + timedelta(seconds=1)) == 1
    assert forecast.ledger_count(db, 1, "message", NOW + timedelta(seconds=1), NOW + timedelta(days=1)) == 0
    assert forecast.last_change(db, 1, NOW - timedelta(days=1), NOW) == AT
    assert forecast.last_change(db, 1, NOW, NOW + timedelta(days=1)) is None
    job = queue(db)
    db.execute("UPDATE outbox SET state = 'sent', sent_at = ? WHERE id = ?", [AT, job])
    assert forecast.sent_deliveries(db) == [forecast.SentDelivery(
        "1:n1:0", 1, "linkedin", "linkedin_message", AT, "ACo1", "https://www.linkedin.com/in/lead-1/",
        "lead1@example.com")]
    with transaction(db):
        runtime_lease.take(db, pid=1, host="h", now=NOW)
        forecast.use_sandbox(db)
    assert runtime_lease.holder(db) is None
    assert real_inbox_ids(db) == set()
    copied = open_db(copy)
    assert forecast.remaining_leads(copied) == {1: 3} and forecast.sent_deliveries(copied) == []


def test_sandbox_world_record(tmp_path):
    conn = sandbox_world.open_record(tmp_path / "world.db")
    sandbox_world.add_delivery(conn, seq=1, key="1:n:0", identity_id=1, channel="linkedin",
                               action="connection_request", lead="ACo1", at=AT)
    sandbox_world.add_withdrawal(conn, "1:n:0", AT)
    sandbox_world.add_withdrawal(conn, "1:n:0", iso(NOW + timedelta(days=1)))  # the first one stands
    conn.close()
    conn = sandbox_world.open_record(tmp_path / "world.db")
    assert list(sandbox_world.deliveries(conn)) == [
        sandbox_world.DeliveryRow("1:n:0", 1, "linkedin", "connection_request", "ACo1", AT, 1)]
    assert sandbox_world.withdrawals(conn) == [("1:n:0", AT)]
