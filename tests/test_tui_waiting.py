"""The side panel says why a waiting lead waits and its detail, as the runtime wrote them; the
Activity tab lists the actions coming next, In progress, above the past ones.

A real runtime (on Trio's MockClock, against the sandbox world) runs a small
workspace first; the app is then opened on the same workspace, as a user
would open it while the runtime runs: no state is made up by the test.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import trio
import trio.testing

from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from storage.workspace import init_workspace, open_workspace
from tests.support.seed import contacts, running_campaign, sandbox_identity
from tests.test_runtime_actors import MON, QUIET, invites_only
from tests.test_tui_screens import panel_text, settle, table_text
from tui.app import EnginyApp
from tui.screens.campaign import CampaignScreen
from tui.widgets.virtual_table import VirtualTable

SATURDAY = MON - timedelta(days=2) + timedelta(hours=10)


def ran(tmp_path: Path, start, hours: float) -> Path:
    """A workspace (identity in Madrid, 2 invitations a day, 4 leads) after the runtime ran from
    `start` for `hours`."""
    folder = init_workspace(tmp_path / "ws").dir
    db = open_workspace(folder).open_db()
    sandbox_identity(db, "Ana", now=start, email="ana@sandbox.invalid", timezone="Europe/Madrid",
                     working_days="mon,tue,wed,thu,fri", work_start="09:00", work_end="18:00",
                     daily_connection_limit=2)
    contacts(db, [{"first_name": f"Lead{i}", "company": "Acme", "linkedin_url": f"https://www.linkedin.com/in/l{i}",
                   "linkedin_id": f"ACo{i}"} for i in range(1, 5)], now=start)
    running_campaign(db, identity=1, sequence=invites_only(), name="Invites", contact_ids=[1, 2, 3, 4], now=start)
    rt = Runtime(db, world=SandboxWorld(3, profile=QUIET), poll_interval=600.0)
    trio.run(lambda: rt.run(epoch=start, until=start + timedelta(hours=hours)),
             clock=trio.testing.MockClock(autojump_threshold=0))
    db.conn.close()
    return folder


async def waiting_panel(folder: Path) -> str:
    """The side panel of the first In-progress lead that waits."""
    app = EnginyApp(open_workspace(folder))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="audience"))
        screen = app.screen
        table = screen.query_one("#audience-table", VirtualTable)
        await settle(pilot, table)
        await pilot.press("2")  # the In progress chip
        await settle(pilot, table)
        await pilot.press("enter")
        return " ".join((await panel_text(pilot, screen)).split())


@pytest.mark.asyncio
async def test_a_lead_over_the_invitation_cap_names_the_cap_and_its_refill(tmp_path: Path) -> None:
    """Monday 21:00 Madrid: two invitations went out, the two others wait for Tuesday's allowance."""
    body = await waiting_panel(ran(tmp_path, MON, 20))
    assert "Identity limits" in body
    assert "The identity has reached its limit: invitations 2 per day." in body
    assert "Refills Tue 24 Mar 09:00 (Europe/Madrid)." in body  # Tuesday's opening, in the identity's zone


@pytest.mark.asyncio
async def test_a_lead_queued_on_saturday_names_the_next_opening(tmp_path: Path) -> None:
    body = await waiting_panel(ran(tmp_path, SATURDAY, 2))
    assert "Outside working hours" in body
    assert "Next opening Mon 23 Mar 09:00 (Europe/Madrid)." in body


@pytest.mark.asyncio
async def test_the_activity_tab_lists_the_actions_coming_next_in_progress_first(tmp_path: Path) -> None:
    """Two invitations sent on Monday, two queued for Tuesday: the queued ones come first, In progress."""
    app = EnginyApp(open_workspace(ran(tmp_path, MON, 20)))
    async with app.run_test(size=(140, 40)) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="activity"))
        table = app.screen.query_one("#activity-table", VirtualTable)
        await settle(pilot, table)
        lines = [line for line in table_text(table).splitlines()[1:] if line.strip()]
        assert table.total == (len(lines), True)
        assert all("… in progress" in line and "Lead" in line for line in lines[:2])  # coming: not completed yet
        assert all(line.rstrip().endswith("—") for line in lines[:2])
        assert "invite sent" in lines[0] and "completed" in lines[2] and "Sequence finished" in lines[2]
        assert not any("in progress" in line for line in lines[2:])
