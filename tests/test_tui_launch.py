"""The app's `l` (dashboard and campaign view) runs the launch checks every launch runs
(storage/launch.py): a ready campaign asks with what will happen, problems that only make
leads wait are listed with "launch anyway?", a step's error is listed and nothing launches."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storage.db import connect
from storage.workspace import open_workspace
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.modals import ConfirmScreen, NoticeScreen

SIZE = (100, 30)
DRAFT = 6  # "Singapore retail (draft)": Mei Tan (inbox and LinkedIn connected), 29 contacts


def status(ws: Path, campaign: int) -> str:
    return q(ws, "SELECT status FROM campaigns WHERE id = ?", campaign)[0][0]


def text_of(modal) -> str:
    return f"{modal.title_text}\n{modal.detail}"


async def on_the_draft(pilot) -> None:
    """The dashboard's Draft filter (2): its only card, the draft, is the current campaign."""
    app = pilot.app
    await until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen", "the dashboard")
    await pilot.press("2")
    await until(pilot, lambda: (app.screen.current_campaign() or {}).get("id") == DRAFT, "the draft highlighted")


@pytest.mark.asyncio
async def test_l_on_a_ready_draft_says_what_will_happen_and_launches_only_on_yes(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await on_the_draft(pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        said = text_of(app.screen)
        assert "Launch Singapore retail (draft) now?" in said and "Mei Tan" in said and "29 leads" in said
        await pilot.press("n")
        await until(pilot, lambda: not isinstance(app.screen, ConfirmScreen), "the confirmation closed")
        assert status(ws, DRAFT) == "draft"
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation again")
        await pilot.press("y")
        await until(pilot, lambda: status(ws, DRAFT) == "running", "the launch")


@pytest.mark.asyncio
async def test_l_in_the_campaign_view_on_an_empty_draft_lists_what_is_missing(ws: Path) -> None:
    db = connect(ws / "enginy.db")
    db.execute("UPDATE enrollments SET removed = 1 WHERE campaign_id = ?", [DRAFT])
    db.close()
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen", "the dashboard")
        app.open_campaign(DRAFT)
        await until(pilot, lambda: type(app.screen).__name__ == "CampaignScreen", "the campaign view")
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the problems, asking")
        said = text_of(app.screen)
        assert "Launch Singapore retail (draft) anyway?" in said and "No audience" in said and "0 leads" in said
        await pilot.press("escape")
        await until(pilot, lambda: type(app.screen).__name__ == "CampaignScreen", "back in the view")
        assert status(ws, DRAFT) == "draft"
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")  # as `enginy campaigns launch --force`: contacts can be added after the launch
        await until(pilot, lambda: status(ws, DRAFT) == "running", "the launch anyway")


@pytest.mark.asyncio
async def test_l_on_a_draft_with_a_broken_step_shows_the_problem_and_launches_nothing(ws: Path) -> None:
    (raw,), = q(ws, "SELECT sequence FROM campaigns WHERE id = ?", DRAFT)
    sequence = json.loads(raw)
    sequence["nodes"][0]["body"] = ""  # an email with nothing to send
    db = connect(ws / "enginy.db")
    db.execute("UPDATE campaigns SET sequence = ? WHERE id = ?", [json.dumps(sequence), DRAFT])
    db.close()
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await on_the_draft(pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, NoticeScreen), "the blocking problem")
        said = text_of(app.screen)
        assert "cannot be launched yet" in said and "Sequence: " in said
        await pilot.press("y")  # nothing to confirm: y does not launch
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, NoticeScreen), "the notice closed")
        assert status(ws, DRAFT) == "draft"
