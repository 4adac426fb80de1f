"""`enginy campaigns ai-variable …` through the real command: prompts set, listed, removed, and the
launch check naming a step whose AI variable has no prompt."""

from __future__ import annotations

import json

import pytest

from storage.ai_variables import store_value
from storage.workspace import open_workspace
from tests.support.campaign_workspace import NOW, add_contacts, enginy, fails, ok_json

SEQ = {"start": "e1", "nodes": [{"kind": "email", "id": "e1", "subject": "Hi {first name}",
                                 "body": "Hi {first name}, {ai: opener}\n\n{ai: PS}"}]}


@pytest.fixture
def ws(ws, tmp_path):
    db = open_workspace(ws).open_db()
    add_contacts(db, 2)
    db.conn.close()
    ok_json(ws, "identity", "add", "Ada", "--sandbox")
    (tmp_path / "seq.json").write_text(json.dumps(SEQ))
    ok_json(ws, "campaigns", "create", "--sequence", str(tmp_path / "seq.json"), "--identity", "Ada",
            "--name", "Q3", "--list", "Leads")
    return ws


def test_prompts_are_set_listed_checked_and_removed(ws):
    assert ok_json(ws, "campaigns", "ai-variable", "set", "Q3", "Opener", "--prompt", "One line on their role") == {
        "campaign": 1, "name": "opener", "prompt": "One line on their role"}
    check = json.loads(enginy(ws, "campaigns", "check", "Q3", "--json").stdout)  # (not ready: exit 1)
    assert [p for p in check["problems"] if "{ai: ps}" in p] and not check["blocking"]
    r = enginy(ws, "campaigns", "ai-variable", "set", "Q3", "ps", "--stdin", "--json", stdin="P.S. one line\nabout us\n")
    assert r.returncode == 0 and json.loads(r.stdout)["prompt"] == "P.S. one line\nabout us"
    listed = ok_json(ws, "campaigns", "ai-variable", "list", "Q3")
    assert [(v["name"], v["steps"]) for v in listed["variables"]] == [("opener", ["e1"]), ("ps", ["e1"])]
    assert listed["missing"] == [] and ok_json(ws, "campaigns", "check", "Q3")["problems"] == []

    assert "add --yes" in fails(ws, "campaigns", "ai-variable", "rm", "Q3", "ps")  # a step uses it: asks first
    assert "has no AI variable 'nope'" in fails(ws, "campaigns", "ai-variable", "rm", "Q3", "nope", "--yes")
    assert "letters, digits" in fails(ws, "campaigns", "ai-variable", "set", "Q3", "a{b", "--prompt", "x")
    assert ok_json(ws, "campaigns", "ai-variable", "rm", "Q3", "PS", "--yes")["removed"] is True
    assert ok_json(ws, "campaigns", "ai-variable", "list", "Q3")["missing"] == ["ps"]


def test_the_texts_generated_for_a_lead_are_shown(ws):
    db = open_workspace(ws).open_db()
    enrollment = db.execute("SELECT id FROM enrollments WHERE contact_id = 1").fetchone()[0]
    store_value(db, enrollment, "e1", "opener", "Loved your talk.", model="m", now=NOW)
    assert not store_value(db, enrollment, "e1", "opener", "Another text", model="m", now=NOW)  # the first stays
    db.conn.close()
    shown = ok_json(ws, "campaigns", "ai-variable", "values", "Q3", "1")
    assert shown["values"] == {"e1": {"opener": "Loved your talk."}}
    assert "Loved your talk." in enginy(ws, "campaigns", "ai-variable", "values", "Q3", "1").stdout
