"""Campaign operations at the storage level: lifecycle, edit lock, audience rules, lead intents."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest

from sequences.model import Delay, Task, to_json
from sequences.step import State
from sequences.templates import find_template
from storage.activity import record
from storage.activity_kinds import Kind
from storage.audience import add_contacts, add_list
from storage.campaigns import (
    CampaignError, Settings, archive_campaign, campaign_names, create_campaign, delete_campaign, duplicate_campaign,
    edit_sequence, get_campaign, launch_campaign, parse_sequence, pause_campaign, resume_campaign,
    save_as_template, sequence_of, settings_of, update_campaign,
)
from storage.identities import create_identity
from storage.lead_intents import pause_leads, pending_intents, remove_leads, resume_leads, retry_leads
from tests.support.campaign_workspace import NOW, add_contacts as seed_contacts, counts, make_workspace


@pytest.fixture
def db(tmp_path):
    _, db = make_workspace(tmp_path)
    create_identity(db, "Ada", now=NOW, actor="you")
    seed_contacts(db, 10)
    return db


def new(db, template="LinkedIn Only (New)", **kw):
    return create_campaign(db, identity="Ada", template=template, now=NOW, actor="you", **kw)


def enrollment(db, cid, contact):
    return dict(next(db.query("SELECT * FROM enrollments WHERE campaign_id = ? AND contact_id = ?", [cid, contact])))


def test_create_defaults_and_settings_round_trip(db):
    cid = new(db, priority="HIGH", tags=["b", "a", "a", " "], folder="Q1",
              settings=Settings(track_opens=True, reply_handling="copilot", crm_contacts_sync="on_reply"))
    row = get_campaign(db, cid)
    assert row["name"] == "Ada's Campaign" and row["status"] == "draft" and row["priority"] == "high"
    assert msgspec.json.decode(row["tags"]) == ["a", "b"] and row["folder"] == "Q1" and row["created_by"] == "you"
    assert settings_of(row) == Settings(track_opens=True, reply_handling="copilot", crm_contacts_sync="on_reply")
    assert sequence_of(row) == find_template("LinkedIn Only (New)").sequence
    assert get_campaign(db, "Ada's Campaign")["id"] == cid
    act = dict(next(db.query("SELECT * FROM activity WHERE campaign_id = ?", [cid])))
    assert act["kind"] == "campaign_created" and act["actor"] == "you"


def test_campaign_names_are_the_targets_add_to_campaign_can_reach(db):
    """Alphabetical whatever the case, each name once, archived campaigns left out (the runtime skips them)."""
    for name in ("beta", "Alpha", "beta", "Gone"):
        new(db, name=name)
    archive_campaign(db, "Gone", now=NOW, actor="you")
    assert campaign_names(db) == ["Alpha", "beta"]


@pytest.mark.parametrize("kw,needle", [
    ({"template": "No Such"}, "no template 'No Such' (templates: LinkedIn + Add Voice Message"),
    ({"identity": "Zed"}, "no identity 'Zed'"),
    ({"priority": "urgent"}, "priority must be one of high, medium, low"),
])
def test_create_refusals_write_nothing(db, kw, needle):
    args = {"identity": "Ada", "template": "Email Only", **kw}
    with pytest.raises(CampaignError, match=needle.replace("(", r"\(").replace("+", r"\+")):
        create_campaign(db, now=NOW, actor="you", **args)
    assert counts(db, "campaigns") == 0


def test_sequence_json_errors_name_the_step_or_path():
    with pytest.raises(CampaignError, match=r"seq.json: step m \(LinkedIn message\): the message is empty"):
        parse_sequence('{"start": "m", "nodes": [{"kind": "linkedin_message", "id": "m", "chunks": []}]}',
                       source="seq.json")
    with pytest.raises(CampaignError, match=r"not a valid sequence: .*\$\.nodes\[0\]"):
        parse_sequence('{"start": "m", "nodes": [{"kind": "fax", "id": "m"}]}')
    with pytest.raises(CampaignError, match="not a valid sequence"):
        parse_sequence("{not json")


def test_lifecycle_transitions(db):
    cid = new(db)
    with pytest.raises(CampaignError, match="only a running or scheduled campaign can be paused"):
        pause_campaign(db, cid, now=NOW, actor="you")
    row = launch_campaign(db, cid, now=NOW, actor="you")
    assert row["status"] == "running" and row["launched_at"] == NOW.isoformat()
    with pytest.raises(CampaignError, match="already launched"):
        launch_campaign(db, cid, now=NOW, actor="you")
    assert pause_campaign(db, cid, now=NOW, actor="you")["status"] == "paused"
    with pytest.raises(CampaignError, match="resume it instead"):
        launch_campaign(db, cid, now=NOW, actor="you")
    assert resume_campaign(db, cid, now=NOW, actor="you")["status"] == "running"
    assert archive_campaign(db, cid, now=NOW, actor="you")["status"] == "archived"
    for fn in (launch_campaign, resume_campaign, archive_campaign):
        with pytest.raises(CampaignError):
            fn(db, cid, now=NOW, actor="you")
    with pytest.raises(CampaignError, match="archived"):
        update_campaign(db, cid, now=NOW, actor="you", priority="low")
    kinds = [r["kind"] for r in db.query("SELECT kind FROM activity WHERE campaign_id = ? ORDER BY id", [cid])]
    assert kinds == ["campaign_created", "campaign_launched", "campaign_paused", "campaign_resumed",
                     "campaign_archived"]


def test_schedule_then_pause_and_resume_keeps_it_scheduled(db):
    cid = new(db)
    later = NOW + timedelta(days=2)
    with pytest.raises(CampaignError, match="in the past"):
        launch_campaign(db, cid, now=NOW, actor="you", at=NOW - timedelta(minutes=1))
    row = launch_campaign(db, cid, now=NOW, actor="you", at=later)
    assert (row["status"], row["scheduled_at"], row["launched_at"]) == ("scheduled", later.isoformat(), None)
    pause_campaign(db, cid, now=NOW, actor="you")
    assert resume_campaign(db, cid, now=NOW, actor="you")["status"] == "scheduled"
    # launching a scheduled campaign now starts it at once
    assert launch_campaign(db, cid, now=NOW, actor="you")["status"] == "running"


def test_launch_validates_the_stored_sequence(db):
    cid = new(db)
    bad = to_json(find_template("LinkedIn Only (New)").sequence).decode().replace('"start":"visit"', '"start":"nope"')
    db.execute("UPDATE campaigns SET sequence = ? WHERE id = ?", [bad, cid])
    with pytest.raises(CampaignError, match="starts at 'nope'"):
        launch_campaign(db, cid, now=NOW, actor="you")
    assert get_campaign(db, cid)["status"] == "draft"


def _edited(seq, node_id, **changes):
    nodes = [msgspec.structs.replace(n, **changes) if n.id == node_id else n for n in seq.nodes]
    return msgspec.structs.replace(seq, nodes=nodes)


def test_launched_sequence_is_locked_but_delays_and_texts_change(db):
    cid = new(db, template="Email Only")
    launch_campaign(db, cid, now=NOW, actor="you")
    seq = sequence_of(get_campaign(db, cid))
    first = seq.nodes[0]
    ok = _edited(seq, first.id, delay=Delay(days=3), subject="New subject", body="Hello {first_name}")
    assert sequence_of(edit_sequence(db, cid, ok, now=NOW, actor="you")) == ok
    dropped = msgspec.structs.replace(ok, nodes=ok.nodes[:-1])
    dropped = _edited(dropped, dropped.nodes[-1].id, next=None)
    with pytest.raises(CampaignError, match="was removed .* duplicate it and edit the copy"):
        edit_sequence(db, cid, dropped, now=NOW, actor="you")
    rewired = _edited(ok, first.id, next=ok.nodes[2].id)
    with pytest.raises(CampaignError, match=r"step email1 \(Email .*\): next cannot change"):
        edit_sequence(db, cid, rewired, now=NOW, actor="you")
    emptied = _edited(ok, first.id, body="", html="")
    with pytest.raises(CampaignError, match="the new sequence: step email1 .*the email is empty"):
        edit_sequence(db, cid, emptied, now=NOW, actor="you")
    as_task = msgspec.structs.replace(ok, nodes=[Task(id=first.id, title="Call", next=first.next), *ok.nodes[1:]])
    with pytest.raises(CampaignError, match=r"step email1 \(Email .*\) became step email1 \(Task[^)]*\)"):
        edit_sequence(db, cid, as_task, now=NOW, actor="you")
    assert sequence_of(get_campaign(db, cid)) == ok


def test_draft_sequence_may_change_freely(db):
    cid = new(db, template="Email Only")
    other = find_template("LinkedIn + Email").sequence
    assert sequence_of(edit_sequence(db, cid, other, now=NOW, actor="you")) == other


def test_add_list_skips_duplicates_removed_and_blocklisted(db):
    cid = new(db)
    stamp = NOW.isoformat()
    db.execute("UPDATE contacts SET company = 'Evil Corp' WHERE id = 7")
    for kind, value in [("email", "c1@x1.com"), ("domain", "x2.com"), ("company", "evil corp"), ("lead", "3"),
                        ("lead", "https://www.linkedin.com/in/c4")]:
        db.execute("INSERT INTO blocklist (kind, value, created_at) VALUES (?, ?, ?)", [kind, value, stamp])
    r = add_list(db, cid, "Leads", now=NOW, actor="you")
    assert (r.requested, r.added, r.already_in, r.removed_before, r.blocklisted) == (10, 5, 0, 0, 5)
    enrolled = [row[0] for row in db.execute("SELECT contact_id FROM enrollments WHERE campaign_id = ? ORDER BY 1", [cid])]
    assert enrolled == [5, 6, 8, 9, 10]
    e = enrollment(db, cid, 5)
    assert e["status"] == "not_started" and e["due_at"] == NOW.isoformat() and e["milestones"] == 0
    remove_leads(db, cid, ["5"], now=NOW, actor="you")
    r = add_list(db, cid, "Leads", now=NOW, actor="you")
    assert (r.added, r.already_in, r.removed_before, r.blocklisted) == (0, 4, 1, 5)
    r = add_contacts(db, cid, [5, 6, 9999], now=NOW, actor="you")
    assert (r.requested, r.added, r.already_in, r.removed_before) == (2, 0, 1, 1)
    assert counts(db, "enrollments") == 5


def test_contacts_added_after_launch_start_at_the_beginning(db):
    cid = new(db)
    add_contacts(db, cid, [1], now=NOW, actor="you")
    launch_campaign(db, cid, now=NOW, actor="you")
    later = NOW + timedelta(days=5)
    add_list(db, cid, "Leads", now=later, actor="you")
    e = enrollment(db, cid, 2)
    assert (e["status"], e["node_id"], e["due_at"], e["state"]) == ("not_started", None, later.isoformat(), "{}")


def test_archived_campaign_takes_no_contacts_and_cancels_its_queue(db):
    cid = new(db)
    add_list(db, cid, "Leads", now=NOW, actor="you")
    launch_campaign(db, cid, now=NOW, actor="you")
    e = enrollment(db, cid, 1)
    ident = get_campaign(db, cid)["identity_id"]
    for key, state in [("k1", "queued"), ("k2", "sent")]:
        db.execute("INSERT INTO outbox (key, enrollment_id, campaign_id, identity_id, channel, action, state,"
                   " created_at, updated_at) VALUES (?, ?, ?, ?, 'linkedin', 'visit_profile', ?, ?, ?)",
                   [key, e["id"], cid, ident, state, NOW.isoformat(), NOW.isoformat()])
    archive_campaign(db, cid, now=NOW, actor="you")
    assert dict(db.execute("SELECT key, state FROM outbox").fetchall()) == {"k1": "cancelled", "k2": "sent"}
    with pytest.raises(CampaignError, match="archived: it takes no new contacts"):
        add_contacts(db, cid, [1], now=NOW, actor="you")


def test_duplicate_is_a_draft_copy_with_audience_only_when_asked(db):
    cid = new(db, priority="low", tags=["x"], folder="F", settings=Settings(track_clicks=True))
    add_list(db, cid, "Leads", now=NOW, actor="you")
    remove_leads(db, cid, ["2"], now=NOW, actor="you")
    launch_campaign(db, cid, now=NOW, actor="you")
    bare = get_campaign(db, duplicate_campaign(db, cid, now=NOW, actor="you"))
    src = get_campaign(db, cid)
    assert bare["status"] == "draft" and bare["name"] == "Ada's Campaign (copy)" and bare["launched_at"] is None
    for col in ("identity_id", "priority", "tags", "folder", "settings", "sequence"):
        assert bare[col] == src[col]
    assert counts(db, "enrollments") == 10
    full = duplicate_campaign(db, cid, now=NOW, actor="you", name="Again", with_audience=True)
    assert db.execute("SELECT COUNT(*), MIN(status), MAX(status) FROM enrollments WHERE campaign_id = ?",
                      [full]).fetchone() == (9, "not_started", "not_started")


def test_delete_is_permanent_and_logged_without_the_campaign(db):
    cid = new(db)
    add_list(db, cid, "Leads", now=NOW, actor="you")
    delete_campaign(db, cid, now=NOW, actor="maria")
    assert counts(db, "campaigns") == 0 and counts(db, "enrollments") == 0
    left = list(db.query("SELECT kind, campaign_id, actor, detail FROM activity WHERE kind LIKE 'campaign_%'"))
    assert [(r["kind"], r["campaign_id"], r["actor"]) for r in left] == [("campaign_deleted", None, "maria")]
    assert counts(db, "contacts") == 10


def test_save_as_template_then_create_from_it(db):
    cid = new(db, template="Email Only")
    save_as_template(db, cid, "My flow", now=NOW, actor="you", description="three emails")
    with pytest.raises(CampaignError, match="already called 'Email Only'"):
        save_as_template(db, cid, "email only", now=NOW, actor="you")
    with pytest.raises(CampaignError, match="already called 'My flow'"):
        save_as_template(db, cid, "My Flow", now=NOW, actor="you")
    again = new(db, template="my flow")
    assert sequence_of(get_campaign(db, again)) == sequence_of(get_campaign(db, cid))


def test_lead_pause_and_remove_apply_at_once_through_the_step_function(db):
    cid = new(db)
    add_list(db, cid, "Leads", now=NOW, actor="you")
    launch_campaign(db, cid, now=NOW, actor="you")
    r = pause_leads(db, cid, ["1", "c2@X2.com", "https://www.linkedin.com/in/c3", "777"], now=NOW, actor="you")
    assert r.changed == 3 and r.skipped == [{"contact": "777", "reason": "not in this campaign"}]
    e = enrollment(db, cid, 1)
    state = msgspec.json.decode(e["state"], type=State)
    assert e["status"] == "paused" and state.paused and state.status.value == "paused"
    assert pause_leads(db, cid, ["1"], now=NOW, actor="you").skipped == [{"contact": "1", "reason": "lead is paused"}]
    r = remove_leads(db, cid, ["1", "4"], now=NOW, actor="you")
    assert r.changed == 2
    e = enrollment(db, cid, 4)
    assert (e["status"], e["substatus"], e["removed"], e["due_at"]) == ("finished", "deleted", 1, None)
    assert remove_leads(db, cid, ["4"], now=NOW, actor="you").skipped == [
        {"contact": "4", "reason": "removed from the campaign"}]
    for fn in (pause_leads, resume_leads, retry_leads):
        assert fn(db, cid, ["4"], now=NOW, actor="you").changed == 0
    kinds = [row[0] for row in db.execute("SELECT kind FROM activity WHERE kind LIKE 'lead_%' ORDER BY id")]
    assert kinds == ["lead_paused"] * 3 + ["lead_removed"] * 2


def test_resume_and_retry_are_left_for_the_runtime_as_intents(db):
    cid = new(db)
    add_list(db, cid, "Leads", now=NOW, actor="you")
    launch_campaign(db, cid, now=NOW, actor="you")
    pause_leads(db, cid, ["1", "2"], now=NOW, actor="you")
    db.execute("UPDATE enrollments SET status = 'error', substatus = 'system_error', state = ? WHERE contact_id = 3",
               ['{"status": "error", "substatus": "system_error", "node": "visit"}'])
    assert resume_leads(db, cid, None, now=NOW, actor="you").changed == 2
    assert retry_leads(db, cid, ["3", "5"], now=NOW, actor="you").skipped == [
        {"contact": "5", "reason": "lead is not started"}]
    pending = {(r["contact_id"], r["intent"], r["status"]) for r in pending_intents(db, cid)}
    assert pending == {(1, "resume", "paused"), (2, "resume", "paused"), (3, "retry", "error")}
    # paused again before the runtime got to it: the resume is withdrawn, the lead stays paused
    assert pause_leads(db, cid, ["2"], now=NOW, actor="you").changed == 1
    assert {r["contact_id"] for r in pending_intents(db, cid)} == {1, 3}
    # removing a lead drops its pending intent for good
    remove_leads(db, cid, ["3"], now=NOW, actor="you")
    assert {r["contact_id"] for r in pending_intents(db, cid)} == {1}


def test_activity_record_sets_milestones_and_started_once(db):
    cid = new(db)
    add_list(db, cid, "Leads", now=NOW, actor="you")
    e = enrollment(db, cid, 1)["id"]
    record(db, kind=Kind.LINKEDIN_INVITE_SENT, now=NOW, enrollment_id=e, status="in_progress")
    assert enrollment(db, cid, 1)["milestones"] == 0  # a pending action is not done yet
    record(db, kind=Kind.LINKEDIN_INVITE_SENT, now=NOW, enrollment_id=e)
    record(db, kind=Kind.CONDITION_EVALUATED, now=NOW + timedelta(hours=1), enrollment_id=e)
    row = enrollment(db, cid, 1)
    assert row["started_at"] == NOW.isoformat() and row["milestones"] == 0b111
    act = dict(next(db.query("SELECT * FROM activity WHERE enrollment_id = ? ORDER BY id DESC", [e])))
    assert (act["campaign_id"], act["contact_id"], act["actor"]) == (cid, 1, "system")


def test_activity_record_trusts_the_milestones_its_caller_just_read(db):
    cid = new(db)
    add_list(db, cid, "Leads", now=NOW, actor="you")
    e = enrollment(db, cid, 1)["id"]
    # the caller read (0, no start time): the invite's bits and the start time are written
    record(db, kind=Kind.LINKEDIN_INVITE_SENT, now=NOW, enrollment_id=e, known=(0, False))
    row = enrollment(db, cid, 1)
    assert row["started_at"] == NOW.isoformat() and row["milestones"] == 0b111
    # bits the lead has (as read) and a start time it has: nothing about the lead is rewritten
    later = NOW + timedelta(hours=1)
    db.execute("UPDATE enrollments SET milestones = 0 WHERE id = ?", [e])  # what a stale reader would miss
    record(db, kind=Kind.LINKEDIN_INVITE_SENT, now=later, enrollment_id=e, known=(0b111, True))
    assert enrollment(db, cid, 1)["milestones"] == 0
    # a start time missing from what was read is still written, with the bits
    db.execute("UPDATE enrollments SET started_at = NULL WHERE id = ?", [e])
    record(db, kind=Kind.LINKEDIN_INVITE_SENT, now=later, enrollment_id=e, known=(0b111, False))
    row = enrollment(db, cid, 1)
    assert row["started_at"] == later.isoformat() and row["milestones"] == 0b111


def test_the_editor_save_takes_a_draft_as_it_is_built_but_only_as_a_tree_and_a_launched_one_through_the_lock(db):
    from sequences.model import Email, Sequence, VisitProfile
    from storage.campaigns import save_edited_sequence

    cid = new(db)
    assert sequence_of(save_edited_sequence(db, cid, Sequence(), now=NOW, actor="you")) == Sequence()
    half_done = Sequence(start="e", nodes=[Email(id="e")])  # no subject, no body yet: a Draft keeps it
    assert sequence_of(save_edited_sequence(db, cid, half_done, now=NOW, actor="you")) == half_done
    joined = Sequence(start="a", nodes=[VisitProfile(id="a", next="a")])
    with pytest.raises(CampaignError, match="reached twice"):
        save_edited_sequence(db, cid, joined, now=NOW, actor="you")
    assert sequence_of(get_campaign(db, cid)) == half_done
    with pytest.raises(CampaignError, match="the email is empty"):
        launch_campaign(db, cid, now=NOW, actor="you")  # the launch checks the content

    launched = new(db, name="Running")
    launch_campaign(db, launched, now=NOW, actor="you")
    seq = sequence_of(get_campaign(db, launched))
    with pytest.raises(CampaignError, match="steps are locked"):
        save_edited_sequence(db, launched, Sequence(start=seq.start, nodes=seq.nodes[:1]), now=NOW, actor="you")
    slower = msgspec.structs.replace(seq, nodes=[msgspec.structs.replace(n, delay=Delay(days=3)) for n in seq.nodes])
    assert sequence_of(save_edited_sequence(db, launched, slower, now=NOW, actor="you")) == slower
