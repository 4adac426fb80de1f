"""`enginy templates list/show`: the built-ins always, plus the templates saved in the workspace."""

from __future__ import annotations

from tests.support.campaign_workspace import add_contacts, enginy, fails, make_workspace, ok_json


def test_list_and_show_include_saved_templates_of_the_workspace(tmp_path):
    folder, db = make_workspace(tmp_path)
    add_contacts(db, 2)
    db.conn.close()
    before = ok_json(folder, "templates", "list")
    assert all(t["builtin"] for t in before) and "Email Only" in [t["name"] for t in before]
    ok_json(folder, "identity", "add", "Ada", "--sandbox")
    ok_json(folder, "campaigns", "create", "--template", "Email Only", "--identity", "Ada", "--list", "Leads")
    ok_json(folder, "campaigns", "save-template", "1", "Three mails")
    after = ok_json(folder, "templates", "list")
    assert [t["name"] for t in after[:len(before)]] == [t["name"] for t in before]
    saved = after[len(before):]
    assert [(t["name"], t["builtin"], t["channels"]) for t in saved] == [("Three mails", False, ["email"])]
    human = enginy(folder, "templates", "list")
    assert human.returncode == 0 and "Three mails" in human.stdout and "(saved)" in human.stdout
    shown = ok_json(folder, "templates", "show", "three-mails")
    assert shown["name"] == "Three mails" and len(shown["sequence"]["nodes"]) == 3
    assert "Three mails" in fails(folder, "templates", "show", "nope")


def test_list_without_a_workspace_shows_the_builtins(tmp_path):
    rows = ok_json(tmp_path / "no-workspace-here", "templates", "list")
    assert len(rows) == 8 and all(t["builtin"] for t in rows)
