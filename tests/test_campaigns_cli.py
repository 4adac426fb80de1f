"""`enginy campaigns …` through the real command on a workspace folder."""

from __future__ import annotations

import csv
import json

import pytest

from storage.activity import record
from storage.activity_kinds import Kind
from storage.workspace import open_workspace
from tests.support.campaign_workspace import NOW, add_contacts, counts, enginy, fails, ok_json


@pytest.fixture
def ws(ws):
    """The common empty workspace with five contacts in "Leads" and the sandbox identity Ada."""
    db = open_workspace(ws).open_db()
    add_contacts(db, 5)
    db.conn.close()
    ok_json(ws, "identity", "add", "Ada", "--sandbox")
    return ws


def db_of(ws):
    return open_workspace(ws).open_db()


def test_create_launch_and_status(ws):
    made = ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--list", "Leads",
                   "--priority", "high", "--tag", "q1", "--tag", "smb", "--folder", "Spring", "--track-opens",
                   "--reply-handling", "copilot")
    assert made["id"] == 1 and made["name"] == "Ada's Campaign" and made["status"] == "draft"
    assert made["tags"] == ["q1", "smb"] and made["audience"]["added"] == 5
    assert ok_json(ws, "campaigns", "launch", "1")["status"] == "running"
    st = ok_json(ws, "campaigns", "status", "Ada's Campaign")
    assert st["status"] == "running" and st["replies"] == "copilot" and st["identity"] == "Ada"
    assert st["audience"] == {"total": 5, "not_started": 5, "in_progress": 0, "paused": 0, "error": 0,
                              "finished": 0, "replied": 0}
    assert set(st["metrics"]) == {"all", "linkedin", "email", "tasks"}
    assert set(st["metrics"]["linkedin"]) == {"engaged", "invited", "accepted", "contacted", "replied", "positive"}
    assert set(st["metrics"]["email"]) == {"sent", "clicked", "replied", "positive", "bounced"}
    assert [s["step"] for s in st["steps"]] == ["email1", "email2", "email3"]
    assert all(set(s) >= {"step", "leads"} for s in st["steps"])
    human = enginy(ws, "campaigns", "status", "1").stdout
    assert "Progress by action" in human and "not started 5" in human


def test_create_from_sequence_file(ws, tmp_path):
    seq = {"start": "v", "nodes": [{"kind": "visit_profile", "id": "v", "next": "m"},
                                   {"kind": "linkedin_message", "id": "m", "chunks": ["hi {first_name}"],
                                    "delay": {"days": 2}}]}
    path = tmp_path / "seq.json"
    path.write_text(json.dumps(seq))
    made = ok_json(ws, "campaigns", "create", "--sequence", str(path), "--identity", "1", "--name", "Custom")
    assert made["name"] == "Custom"
    assert [s["step"] for s in ok_json(ws, "campaigns", "status", "Custom")["steps"]] == ["v", "m"]


@pytest.mark.parametrize("body,needle", [
    ('{"start": "m", "nodes": [{"kind": "linkedin_message", "id": "m", "chunks": [""]}]}',
     "step m (LinkedIn message): the message is empty"),
    ('{"start": "m", "nodes": [{"kind": "email", "id": "m", "body": "x"}, {"kind": "task", "id": "t"}]}',
     "step m (Email)"),
    ('{"start": "m", "nodes": [{"kind": "fax", "id": "m"}]}', "is not a valid sequence"),
    ("[1, 2", "is not a valid sequence"),
])
def test_invalid_sequence_files_are_refused_naming_the_step(ws, tmp_path, body, needle):
    path = tmp_path / "bad.json"
    path.write_text(body)
    assert needle in fails(ws, "campaigns", "create", "--sequence", str(path), "--identity", "Ada")
    assert counts(db_of(ws), "campaigns") == 0


@pytest.mark.parametrize("args,needle", [
    (("--template", "Nope", "--identity", "Ada"), "no template 'Nope'"),
    (("--template", "Email Only", "--identity", "Zed"), "no identity 'Zed'"),
    (("--template", "Email Only", "--identity", "Ada", "--list", "Missing"), "no list 'Missing' (lists: Leads)"),
    (("--template", "Email Only", "--identity", "Ada", "--priority", "urgent"), "priority must be one of"),
    (("--template", "Email Only", "--identity", "Ada", "--reply-handling", "yolo"), "--reply-handling"),
    (("--template", "Email Only", "--identity", "Ada", "--inbox", "nobody@x.com"), "no inbox 'nobody@x.com'"),
    (("--identity", "Ada"), "give either --template NAME or --sequence FILE.json"),
    (("--template", "Email Only", "--identity", "Ada", "--sequence", "x.json"), "give either"),
])
def test_bad_create_input_writes_nothing(ws, args, needle):
    assert needle in fails(ws, "campaigns", "create", *args)
    db = db_of(ws)
    assert counts(db, "campaigns") == 0 and counts(db, "enrollments") == 0


def test_pause_resume_archive_and_the_archived_rule(ws):
    ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada")
    assert "only a running or scheduled campaign can be paused" in fails(ws, "campaigns", "pause", "1")
    sched = ok_json(ws, "campaigns", "launch", "1", "--at", "2099-01-01T09:00+01:00", "--force")  # (empty: launched anyway)
    assert sched["status"] == "scheduled" and sched["scheduled_at"] == "2099-01-01T08:00:00+00:00"
    assert "give the time zone" in fails(ws, "campaigns", "launch", "1", "--at", "2099-01-01T09:00")
    assert ok_json(ws, "campaigns", "launch", "1", "--force")["status"] == "running"
    assert ok_json(ws, "campaigns", "pause", "1")["status"] == "paused"
    assert ok_json(ws, "campaigns", "resume", "1")["status"] == "running"
    assert ok_json(ws, "campaigns", "archive", "1")["status"] == "archived"
    assert "cannot be reactivated" in fails(ws, "campaigns", "launch", "1")
    assert "not paused" in fails(ws, "campaigns", "resume", "1")
    assert "takes no new contacts" in fails(ws, "campaigns", "add-contacts", "1", "--list", "Leads")
    assert [c["id"] for c in ok_json(ws, "campaigns", "list", "--status", "archived")] == [1]
    assert ok_json(ws, "campaigns", "list", "--status", "active") == []


def test_add_contacts_report_and_lead_actions(ws):
    ok_json(ws, "campaigns", "create", "--template", "LinkedIn Only (New)", "--identity", "Ada")
    first = ok_json(ws, "campaigns", "add-contacts", "1", "--contact", "1", "--contact", "2")
    assert (first["added"], first["requested"]) == (2, 2)
    assert "give either --list NAME or one or more --contact ID" in fails(ws, "campaigns", "add-contacts", "1")
    ok_json(ws, "campaigns", "launch", "1")
    paused = ok_json(ws, "campaigns", "leads", "1", "pause", "--contact", "c1@x1.com", "--contact", "9")
    assert paused["changed"] == 1 and paused["skipped"] == [{"contact": "9", "reason": "not in this campaign"}]
    assert "add --yes to confirm" in fails(ws, "campaigns", "leads", "1", "remove", "--contact", "2")
    assert "name the contacts" in fails(ws, "campaigns", "leads", "1", "remove", "--all", "--yes")
    assert ok_json(ws, "campaigns", "leads", "1", "remove", "--contact", "2", "--yes")["changed"] == 1
    again = ok_json(ws, "campaigns", "add-contacts", "1", "--list", "Leads")
    assert (again["added"], again["already_in"], again["removed_before"]) == (3, 1, 1)
    resumed = ok_json(ws, "campaigns", "leads", "1", "resume", "--all")
    assert resumed["changed"] == 1
    st = ok_json(ws, "campaigns", "status", "1")["audience"]
    assert (st["total"], st["paused"], st["finished"], st["not_started"]) == (5, 1, 1, 3)
    assert "unknown lead action 'zap'" in fails(ws, "campaigns", "leads", "1", "zap", "--all")
    acts = [r["actor"] for r in db_of(ws).query("SELECT actor FROM activity WHERE kind LIKE 'lead_%'")]
    assert acts == ["you"] * 3


def test_edit_duplicate_save_template_delete(ws, tmp_path):
    ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--list", "Leads")
    ok_json(ws, "campaigns", "launch", "1")
    edited = ok_json(ws, "campaigns", "edit", "1", "--priority", "low", "--tag", "new", "--name", "Renamed")
    assert (edited["priority"], edited["tags"], edited["name"]) == ("low", ["new"], "Renamed")
    seq = json.loads(db_of(ws).execute("SELECT sequence FROM campaigns WHERE id = 1").fetchone()[0])
    seq["nodes"][1]["delay"] = {"days": 9, "hours": 0}
    seq["nodes"][1]["body"] = "A new text"
    (tmp_path / "ok.json").write_text(json.dumps(seq))
    ok_json(ws, "campaigns", "edit", "1", "--sequence", str(tmp_path / "ok.json"))
    seq["nodes"] = seq["nodes"][:2]
    seq["nodes"][1]["next"] = None
    (tmp_path / "cut.json").write_text(json.dumps(seq))
    assert "was removed" in fails(ws, "campaigns", "edit", "1", "--sequence", str(tmp_path / "cut.json"))
    stored = json.loads(db_of(ws).execute("SELECT sequence FROM campaigns WHERE id = 1").fetchone()[0])
    assert len(stored["nodes"]) == 3 and stored["nodes"][1]["body"] == "A new text"
    copy = ok_json(ws, "campaigns", "duplicate", "Renamed")
    assert (copy["id"], copy["status"], copy["name"]) == (2, "draft", "Renamed (copy)")
    assert ok_json(ws, "campaigns", "status", "2")["audience"]["total"] == 0
    assert ok_json(ws, "campaigns", "duplicate", "1", "--with-audience")["id"] == 3
    assert ok_json(ws, "campaigns", "status", "3")["audience"]["total"] == 5
    assert ok_json(ws, "campaigns", "save-template", "1", "Three mails")["name"] == "Three mails"
    assert ok_json(ws, "campaigns", "create", "--template", "three mails", "--identity", "Ada")["id"] == 4
    assert "cannot be undone; add --yes" in fails(ws, "campaigns", "delete", "2")
    assert ok_json(ws, "campaigns", "delete", "2", "--yes")["deleted"] is True
    assert "no campaign '2'" in fails(ws, "campaigns", "status", "2")


def test_export_csv(ws, tmp_path):
    ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--list", "Leads")
    db = db_of(ws)
    record(db, kind=Kind.EMAIL_SENT, now=NOW, enrollment_id=1)
    record(db, kind=Kind.EMAIL_REPLY_RECEIVED, now=NOW, enrollment_id=1)
    out = ok_json(ws, "campaigns", "export", str(tmp_path / "m.csv"))
    assert out == {"file": str(tmp_path / "m.csv"), "campaigns": 1}
    rows = list(csv.DictReader((tmp_path / "m.csv").open()))
    assert rows[0]["name"] == "Ada's Campaign" and rows[0]["email_sent"] == "1" and rows[0]["all_replied"] == "1"
    assert rows[0]["all_reply_rate"] == "1.0" and rows[0]["audience_total"] == "5"
    assert "no campaign 'Zed'" in fails(ws, "campaigns", "export", str(tmp_path / "x.csv"), "--campaign", "Zed")
    assert not (tmp_path / "x.csv").exists()


def test_audience_pages_by_key_with_each_leads_reason(ws):
    """`campaigns audience` is the Audience tab for scripts: status, substatus, next due and step per
    lead, paged by key (next_after), narrowed by a status chip."""
    ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--list", "Leads")
    ok_json(ws, "campaigns", "launch", "1")
    db = db_of(ws)
    db.execute("UPDATE enrollments SET status = 'in_progress', substatus = 'queued', node_id = 'email1', due_at = NULL"
               " WHERE contact_id = 2")
    db.execute("UPDATE enrollments SET status = 'in_progress', substatus = 'scheduled', node_id = 'email2',"
               " due_at = '2026-03-05T10:00:00+00:00' WHERE contact_id = 4")
    db.execute("UPDATE enrollments SET status = 'in_progress', substatus = 'identity_limits', node_id = 'email1',"
               " wait_cap = 'emails from x\x1b[2J@ex.com 30 per day', wait_until = '2026-03-06T08:00:00+00:00',"
               " due_at = NULL"
               " WHERE contact_id = 5")
    db.execute("UPDATE identities SET timezone = 'Europe/Madrid'")
    db.conn.close()
    first = ok_json(ws, "campaigns", "audience", "1", "--limit", "2")
    assert [r["contact_id"] for r in first["leads"]] == [1, 2] and first["next_after"] is not None
    assert set(first["leads"][0]) >= {"contact_id", "name", "company", "status", "substatus", "next_due", "step"}
    assert first["leads"][1]["substatus"] == "queued" and first["leads"][1]["step"] == "email1"
    rest = ok_json(ws, "campaigns", "audience", "1", "--limit", "2", "--after", str(first["next_after"]))
    last = ok_json(ws, "campaigns", "audience", "1", "--limit", "2", "--after", str(rest["next_after"]))
    assert [r["contact_id"] for r in rest["leads"] + last["leads"]] == [3, 4, 5] and last["next_after"] is None
    waiting = ok_json(ws, "campaigns", "audience", "Ada's Campaign", "--status", "in_progress")
    assert [(r["contact_id"], r["substatus"], r["next_due"]) for r in waiting["leads"]] == [
        (2, "queued", None), (4, "scheduled", "2026-03-05T10:00:00+00:00"), (5, "identity_limits", None)]
    # why each waits, with its detail: the cap, until when in the identity's zone (Madrid, UTC+1 in March)
    assert [r["waiting"] for r in waiting["leads"]] == [
        {"reason": "Queued", "cap": None, "until": None},
        {"reason": "Scheduled", "cap": None, "until": "2026-03-05T11:00:00+01:00"},
        {"reason": "Identity limits", "cap": "emails from x\x1b[2J@ex.com 30 per day",
         "until": "2026-03-06T09:00:00+01:00"}]
    assert first["leads"][0]["waiting"] is None  # not started: it does not wait for anything
    human = enginy(ws, "campaigns", "audience", "1", "--status", "in_progress").stdout
    assert "Queued" in human and "Scheduled" in human and "Identity limits" in human
    assert "30 per day" in human and "\x1b" not in human  # the detail, its control characters shown harmless
    assert "unknown status" in fails(ws, "campaigns", "audience", "1", "--status", "stuck")
