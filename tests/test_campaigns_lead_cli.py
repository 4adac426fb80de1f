"""The CLI twins of the campaign view's lead actions (issue 18): a task, a lead's sequence path,
the Activity tab's filters, and the dashboard's tags (any of several) and custom date range."""

from __future__ import annotations

from pathlib import Path

from tests.support.campaign_workspace import enginy, fails, ok_json
from tests.tui_support import q, template_ws, ws  # noqa: F401 (fixtures)


def test_task_and_path_of_one_lead(ws: Path) -> None:
    contact = q(ws, "SELECT contact_id FROM enrollments WHERE campaign_id = 1 AND status = 'error' ORDER BY id")[0][0]
    made = ok_json(ws, "tasks", "add", "1", "--contact", str(contact), "--title", " Call her ", "--notes", "pilot")
    assert q(ws, "SELECT title, notes, status FROM tasks WHERE id = ?", made["id"]) == [("Call her", "pilot", "pending")]
    assert q(ws, "SELECT count(*) FROM activity WHERE kind = 'task_created' AND contact_id = ?", contact) == [(1,)]
    path = ok_json(ws, "campaigns", "sequence", "1", "--contact", str(contact))
    assert path["at"] == "invite" and "invite" in path["visited"]
    shown = enginy(ws, "campaigns", "sequence", "1", "--contact", str(contact)).stdout
    assert any(line.startswith("➤") and "invite" in line for line in shown.splitlines())
    assert "not in this campaign" in fails(ws, "tasks", "add", "1", "--contact", "999999", "--title", "x")
    assert "needs a title" in fails(ws, "tasks", "add", "1", "--contact", str(contact), "--title", "  ")


def test_activity_filters_as_the_tab(ws: Path) -> None:
    contact = q(ws, "SELECT contact_id FROM activity WHERE kind = 'linkedin_invite_sent' AND campaign_id = 1")[0][0]
    every = ok_json(ws, "campaigns", "activity", "1")["actions"]
    assert every and all(a["action"] != "condition_evaluated" for a in every)
    mine = ok_json(ws, "campaigns", "activity", "1", "--contact", str(contact))["actions"]
    assert mine and {a["contact_id"] for a in mine} == {contact}
    assert ok_json(ws, "campaigns", "activity", "1", "--dates", "..2020-01-01")["actions"] == []
    assert "--dates" in fails(ws, "campaigns", "activity", "1", "--dates", "2026-12-01..2026-11-01")


def test_list_by_several_tags_and_a_creation_range(ws: Path) -> None:
    names = {r["name"] for r in ok_json(ws, "campaigns", "list", "--tag", "saas", "--tag", "logistics")}
    assert names == {"Spain SaaS founders", "US logistics re-engage"}
    november = {r["name"] for r in ok_json(ws, "campaigns", "list", "--created", "2026-11-01..2026-11-30")}
    assert "Spain SaaS founders" in november and "US logistics re-engage" not in november
