"""CLI parity of the wizard: the launch checks (`campaigns check`, `launch --check`), the AI
agent's prompt and the CRM sync choices, a Draft's identity, `--schedule`."""

from __future__ import annotations

import json

import pytest

from storage.workspace import open_workspace
from tests.support.campaign_workspace import add_contacts, enginy, fails, ok_json


@pytest.fixture
def ws(ws):
    """The common empty workspace with five contacts in "Leads", the sandbox identity Ada and a bare Bo."""
    db = open_workspace(ws).open_db()
    add_contacts(db, 5)
    db.conn.close()
    ok_json(ws, "identity", "add", "Ada", "--sandbox")
    ok_json(ws, "identity", "add", "Bo")
    return ws


def test_check_names_each_problem_and_every_launch_refuses_until_forced(ws):
    ok_json(ws, "campaigns", "create", "--template", "LinkedIn + Email", "--identity", "Bo", "--name", "Multi")
    r = enginy(ws, "campaigns", "check", "Multi", "--json")
    assert r.returncode == 1
    report = json.loads(r.stdout)
    assert report["ready"] is False and report["blocking"] == []
    assert report["problems"][0] == "No audience: add a list or contacts (step 2)"
    assert any("Bo has no connected inbox for step email" in p for p in report["problems"])
    assert any("Bo has no connected LinkedIn account" in p for p in report["problems"])
    # a plain launch (no --check) runs the same checks: refused, each problem on its line, exit 1
    r = enginy(ws, "campaigns", "launch", "Multi")
    assert r.returncode == 1 and r.stdout == "" and "Traceback" not in r.stderr
    lines = r.stderr.splitlines()
    assert lines[0] == "enginy: campaign #1 'Multi' not launched:"
    assert lines[1:4] == [f"  - {p}" for p in report["problems"]] and "--force" in lines[-1]
    r = enginy(ws, "campaigns", "launch", "Multi", "--json")
    assert r.returncode == 1 and json.loads(r.stdout) == {
        "id": 1, "name": "Multi", "launched": False, "problems": report["problems"], "blocking": [],
        "forceable": True}
    assert ok_json(ws, "campaigns", "status", "Multi")["status"] == "draft"
    # --force: the leads will wait for the channels (the spec: email steps block until an inbox is connected)
    assert ok_json(ws, "campaigns", "launch", "Multi", "--force")["status"] == "running"


def test_a_step_with_a_validation_error_is_never_forced(ws):
    ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--list", "Leads",
            "--name", "Broken")
    db = open_workspace(ws).open_db()
    sequence = json.loads(db.execute("SELECT sequence FROM campaigns WHERE id = 1").fetchone()[0])
    email = next(n for n in sequence["nodes"] if n["kind"] == "email")
    email["body"] = ""
    db.execute("UPDATE campaigns SET sequence = ? WHERE id = 1", [json.dumps(sequence)])
    db.conn.commit()
    db.conn.close()
    r = enginy(ws, "campaigns", "launch", "Broken", "--force", "--json")
    report = json.loads(r.stdout)
    assert r.returncode == 1 and report["forceable"] is False
    assert report["blocking"] and all(p.startswith("Sequence: ") for p in report["blocking"])
    assert "Fix the sequence first" in enginy(ws, "campaigns", "launch", "Broken").stderr
    assert ok_json(ws, "campaigns", "status", "Broken")["status"] == "draft"


def test_check_passes_then_launch_with_schedule(ws):
    ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--list", "Leads")
    r = enginy(ws, "campaigns", "check", "1")
    assert r.returncode == 0 and "ready to launch" in r.stdout
    row = ok_json(ws, "campaigns", "launch", "1", "--check", "--schedule", "2030-01-01T09:00+01:00")
    assert row["status"] == "scheduled" and row["scheduled_at"] == "2030-01-01T08:00:00+00:00"


def test_prompt_crm_and_identity_of_a_draft(ws):
    ok_json(ws, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--prompt", "Be brief",
            "--crm-contacts", "on_reply")
    ok_json(ws, "campaigns", "edit", "1", "--crm-conversations", "yes", "--identity", "Bo")
    db = open_workspace(ws).open_db()
    (settings, identity), = db.execute("SELECT settings, identity_id FROM campaigns WHERE id = 1").fetchall()
    db.conn.close()
    assert json.loads(settings).items() >= {"ai_prompt": "Be brief", "crm_contacts_sync": "on_reply",
                                         "crm_conversations_sync": "yes"}.items()
    assert identity == 2
    assert "must be no, yes or on_reply" in fails(ws, "campaigns", "edit", "1", "--crm-contacts", "maybe")
    ok_json(ws, "campaigns", "add-contacts", "1", "--list", "Leads")
    ok_json(ws, "identity", "show", "Bo")  # exists
    ok_json(ws, "campaigns", "edit", "1", "--identity", "Ada")
    ok_json(ws, "campaigns", "launch", "1")
    assert "only a Draft can change identity" in fails(ws, "campaigns", "edit", "1", "--identity", "Bo")


def test_create_from_scratch_is_a_draft_the_checks_refuse(ws):
    made = ok_json(ws, "campaigns", "create", "--scratch", "--identity", "Ada", "--name", "Blank", "--list", "Leads")
    assert made["status"] == "draft" and made["audience"]["added"] == 5
    r = enginy(ws, "campaigns", "check", "Blank", "--json")
    assert r.returncode == 1 and json.loads(r.stdout)["problems"] == ["Sequence: the sequence has no steps"]
    assert "give either" in fails(ws, "campaigns", "create", "--scratch", "--template", "Email Only", "--identity", "Ada")
