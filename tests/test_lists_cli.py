"""`enginy lists …` (filters, rename, tag, untag) and `contacts import --created-by`, through the real command."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.contacts import ensure_list
from storage.workspace import open_workspace
from tests.support.campaign_workspace import NOW, add_contacts, enginy, fails, ok_json


@pytest.fixture
def ws(ws):
    """Three lists: "Leads" (3 contacts, by you, NOW), "Beta" (by ana, 40 days earlier), "alpha" (by bo, 2 days later)."""
    db = open_workspace(ws).open_db()
    add_contacts(db, 3)
    ensure_list(db, "Beta", now=NOW - timedelta(days=40), created_by="ana")
    ensure_list(db, "alpha", now=NOW + timedelta(days=2), created_by="bo")
    db.conn.close()
    return ws


def names(ws, *args: str) -> list[str]:
    return [x["name"] for x in ok_json(ws, "lists", "list", *args)["lists"]]


def test_lists_sort_and_filter_by_creator_date_and_tag(ws):
    assert names(ws) == ["alpha", "Leads", "Beta"]
    assert names(ws, "--sort", "alpha") == ["alpha", "Beta", "Leads"]
    assert names(ws, "--created-by", "ana") == ["Beta"]
    assert names(ws, "--since", (NOW - timedelta(days=1)).date().isoformat()) == ["alpha", "Leads"]
    assert names(ws, "--until", NOW.date().isoformat()) == ["Leads", "Beta"], "until takes the whole day"
    assert names(ws, "--search", "ETA") == ["Beta"]
    assert ok_json(ws, "lists", "tag", "Beta", "q4", " smb ", "q4") == {"name": "Beta", "tags": ["q4", "smb"]}
    ok_json(ws, "lists", "tag", "alpha", "smb")
    assert names(ws, "--tag", "smb") == ["alpha", "Beta"]
    assert names(ws, "--tag", "smb", "--created-by", "bo") == ["alpha"]
    assert ok_json(ws, "lists", "untag", "Beta", "smb", "never-had")["tags"] == ["q4"]
    assert names(ws, "--tag", "smb") == ["alpha"]
    listed = {x["name"]: x for x in ok_json(ws, "lists", "list")["lists"]}
    assert listed["Beta"]["tags"] == ["q4"] and listed["Leads"]["members"] == 3
    assert "[q4]" in enginy(ws, "lists", "list").stdout
    assert "(no list matches)" in enginy(ws, "lists", "list", "--tag", "nope").stdout


def test_rename_keeps_members_and_refuses_a_taken_or_empty_name(ws):
    assert ok_json(ws, "lists", "rename", "Leads", "Q4 leads")["name"] == "Q4 leads"
    assert ok_json(ws, "lists", "show", "Q4 leads")["members"] == 3
    assert "already a list called 'Beta'" in fails(ws, "lists", "rename", "Q4 leads", "Beta")
    assert "a list needs a name" in fails(ws, "lists", "rename", "Q4 leads", "  ")
    assert "no list 'Leads'" in fails(ws, "lists", "rename", "Leads", "Other")


def test_bad_filters_and_tags_are_one_line_errors(ws):
    assert "YYYY-MM-DD" in fails(ws, "lists", "list", "--since", "yesterday")
    assert "use recent or alpha" in fails(ws, "lists", "list", "--sort", "size")
    assert "non-empty tag" in fails(ws, "lists", "tag", "Beta", " ")
    assert "no list 'Nope'" in fails(ws, "lists", "tag", "Nope", "x")


def test_import_records_who_created_the_list(ws, tmp_path):
    csv = tmp_path / "a.csv"
    csv.write_text("Email\nz1@ex.com\n")
    ok_json(ws, "contacts", "import", str(csv), "--list", "Imported by Zoe", "--created-by", "zoe")
    ok_json(ws, "contacts", "import", str(csv), "--list", "Mine")
    assert names(ws, "--created-by", "zoe") == ["Imported by Zoe"]
    assert names(ws, "--created-by", "you") == ["Mine"], "the workspace's user by default"
    assert "--created-by needs a name" in fails(ws, "contacts", "import", str(csv), "--list", "X", "--created-by", "")
