"""The Tasks screen: reached from the dashboard (t) and the palette; tabs with counts, complete and reopen
(written to the workspace), filter by campaign, open the lead; snapshots at 80×24 and 160×48."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from storage.db import connect
from storage.tasks import create_task
from storage.workspace import open_workspace
from tests.tui_support import HOSTILE, NOW, make, q, settle, until
from tui.app import EnginyApp
from tui.screens.campaign import CampaignScreen
from tui.screens.modals import TaskScreen
from tui.screens.tasks import TasksScreen


def add_tasks(ws: Path) -> None:
    """Three tasks in campaign 1 (one overdue, one with a hostile title, one without a date), one in 2."""
    db = connect(ws / "enginy.db")
    leads = {c: [r[0] for r in db.execute("SELECT id FROM enrollments WHERE campaign_id = ? ORDER BY id LIMIT 3",
                                          [c])] for c in (1, 2)}
    create_task(db, leads[1][0], title="Call about the pilot", now=NOW - timedelta(days=3), actor="you",
                due_at=NOW - timedelta(days=1))
    create_task(db, leads[1][1], title=HOSTILE[0] + " send the deck", now=NOW, actor="you",
                due_at=NOW + timedelta(days=2))
    create_task(db, leads[1][2], title="Research the company", now=NOW, actor="you")
    create_task(db, leads[2][0], title="Follow up by phone", now=NOW, actor="you", due_at=NOW + timedelta(hours=5))
    db.close()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    ws = make(tmp_path_factory.mktemp("tasks") / "ws")
    add_tasks(ws)
    return ws


def _app(seeded: Path, tmp_path: Path) -> EnginyApp:
    shutil.copytree(seeded, tmp_path / "ws")
    return EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW)


@pytest.mark.asyncio
async def test_tasks_screen_complete_reopen_filter_and_open_lead(seeded, tmp_path):
    app = _app(seeded, tmp_path)
    ws = tmp_path / "ws"
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen) and app.screen.rows, "the Tasks screen")
        screen = app.screen
        assert screen.counts == {"pending": 4, "overdue": 1, "completed": 0, "all": 4}
        assert [t.title for t in screen.rows][0] == "Call about the pilot"  # overdue first, undated last
        assert screen.rows[-1].title == "Research the company"

        await pilot.press("d")  # the overdue one is done
        await until(pilot, lambda: screen.counts.get("completed") == 1, "the task completed")
        assert q(ws, "SELECT status FROM tasks WHERE title = 'Call about the pilot'") == [("completed",)]
        await pilot.press("3")
        await until(pilot, lambda: [t.title for t in screen.rows] == ["Call about the pilot"], "the Completed tab")
        await pilot.press("u")
        await until(pilot, lambda: screen.counts.get("completed") == 0, "the task reopened")
        assert q(ws, "SELECT kind FROM activity WHERE channel = 'task' ORDER BY id DESC LIMIT 2") == \
            [("task_reopened",), ("task_completed",)]

        await pilot.press("1", "c")
        await until(pilot, lambda: len(app.screen_stack) > 2, "the campaign choice")
        await pilot.press("j", "enter")  # the second campaign with tasks
        await until(pilot, lambda: screen.flt.campaign_id is not None, "the campaign filter")
        chosen = screen.flt.campaign_id
        await until(pilot, lambda: screen.rows and all(t.campaign_id == chosen for t in screen.rows), "filtered rows")
        await pilot.press("x")
        await until(pilot, lambda: screen.flt.campaign_id is None and len(screen.rows) == 4, "filters cleared")

        await pilot.press("enter")  # open the first task's lead
        await until(pilot, lambda: isinstance(app.screen, CampaignScreen), "the campaign view")
        view = app.screen
        lead = screen.rows[0].enrollment_id
        await until(pilot, lambda: view.panel_enrollment == lead and view._panel().has_class("open"),
                    "the lead's side panel")

        await pilot.press("n")  # the side panel's "Create a task", with a due date
        await until(pilot, lambda: isinstance(app.screen, TaskScreen), "the task form")
        form = app.screen
        await pilot.press(*"Send pricing", "enter", *"v2", "tab", *"soon", "enter")
        await until(pilot, lambda: "YYYY-MM-DD" in str(form.query_one("#task-hint").render()), "the date's error")
        assert app.screen is form and form.query_one("#task-title").value == "Send pricing"  # nothing lost
        await pilot.press(*["backspace"] * 4, *"+2d", "enter")
        await until(pilot, lambda: q(ws, "SELECT title, notes, due_at FROM tasks WHERE title = 'Send pricing'")
                    == [("Send pricing", "v2", (NOW + timedelta(days=2)).isoformat())], "the task, due in 2 days")


@pytest.mark.asyncio
async def test_tasks_in_the_palette_and_an_empty_workspace(tmp_path):
    from tests.support.campaign_workspace import make_workspace

    ws, db = make_workspace(tmp_path)
    db.close()
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("colon", *"Tasks")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, TasksScreen), "the Tasks screen from the palette")
        await until(pilot, lambda: "No pending tasks." in str(app.screen.query_one("#status-line").render()),
                    "the empty state")
        await pilot.press("d", "c")
        await pilot.pause(0.1)
        assert isinstance(app.screen, TasksScreen)  # nothing to complete, nothing to filter by: notices, no error


async def _stable(pilot) -> None:
    await pilot.press("t")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)])
def test_tasks_snapshot(snap_compare, seeded, tmp_path, size) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=_stable)
