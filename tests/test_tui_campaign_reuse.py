"""The campaign view is built once (ahead, while the dashboard waits) and kept: opening a campaign
shows it as a new view would.

Why it matters: App.open_campaign reuses one CampaignScreen (building its ~60
widgets was most of the time to open a campaign), so everything one campaign
left in it — rows, marks, filters, chip, tab, side panel, figures, a refresh
still in flight — must be gone when the next campaign is shown, and building
it ahead must not disturb the dashboard.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from textual.widgets import TabbedContent

from storage.workspace import open_workspace
from tests.tui_support import q, template_ws, until, ws  # noqa: F401 (fixtures)
from storage.audience_view import AudienceFilter
from tui.app import EnginyApp
from tui.screens.campaign import CampaignScreen
from tui.screens.dashboard import DashboardScreen
from tui.widgets.chips import StatusChips
from tui.widgets.lead_panel import LeadPanel
from tui.widgets.virtual_table import VirtualTable

SIZE = (120, 36)
A, B = 1, 2  # "Q4 Fintech CFOs" (errors, replies, hostile names) and "Spain SaaS founders"


def text(widget) -> str:
    from rich.console import Console

    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(widget.content if hasattr(widget, "content") else widget.render())
    return console.export_text()


def table_text(table: VirtualTable) -> str:
    return "\n".join("".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height))


def loaded(screen: CampaignScreen, table_id: str = "#audience-table"):
    table = screen.query_one(table_id, VirtualTable)
    return lambda: not table.fetching and screen.metrics is not None


async def started(pilot, app: EnginyApp) -> None:
    """Wait for the dashboard (the first open builds the view every later open shows again)."""
    await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")


async def opened(pilot, app: EnginyApp, campaign_id: int, tab: str = "overview") -> CampaignScreen:
    """Open the campaign as the dashboard's enter does and wait for its figures and first rows."""
    await app.open_campaign(campaign_id, tab=tab)
    view = app.screen
    assert isinstance(view, CampaignScreen)
    await until(pilot, loaded(view), f"campaign {campaign_id}")
    return view


async def back(pilot, app: EnginyApp) -> None:
    app.pop_screen()
    await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")


@pytest.mark.asyncio
async def test_the_next_campaign_shows_nothing_of_the_last(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await app.open_campaign(A, tab="audience")
        view = app.screen
        assert isinstance(view, CampaignScreen)
        table = view.query_one("#audience-table", VirtualTable)
        await until(pilot, loaded(view), "campaign A's audience")
        # leave A in every state a user can: a chip, a search, a mark, the side panel, the companies view
        await pilot.press("4")  # Error chip
        await until(pilot, lambda: table.total == (3, True) and not table.fetching, "A's errors")
        view.apply_audience(search="Evil")
        await until(pilot, lambda: not table.fetching and table.current is not None, "A's search")
        await pilot.press("space")
        assert table.marked
        await pilot.press("v")
        table.cursor = 0
        await pilot.press("enter")
        await until(pilot, lambda: "Evil" in text(view.query_one("#lead-body")), "A's lead in the panel")
        assert view.query_one(LeadPanel).has_class("open")
        await pilot.press("escape", "escape", "escape")  # closes the panel, unmarks, then back to the dashboard
        await until(pilot, lambda: isinstance(app.screen, DashboardScreen), "the dashboard")

        await app.open_campaign(B)  # the dashboard's enter opens on the Overview
        assert app.screen is view  # the same view, not a new one
        await until(pilot, loaded(view), "campaign B")
        await until(pilot, lambda: "Total contacts" in text(view.query_one("#metrics-all")), "B's Overview")
        header = text(view.query_one("#campaign-header"))
        assert "Spain SaaS founders" in header and "Q4 Fintech" not in header
        assert view.campaign_id == B and view.row is not None and view.row.id == B
        assert view.query_one(TabbedContent).active == "overview"
        assert app.focused is view.query_one("#progress-tree")
        tree = " | ".join(str(n.label) for n in view.query_one("#progress-tree").root.children)
        assert "errors" not in tree  # A's three errors are not B's
        assert "↑" not in text(view.query_one("#metrics-all")) and "↓" not in text(view.query_one("#metrics-all"))
        # filters, chip, marks, view and panel as a new view has them
        assert view.audience == AudienceFilter(B, view.row.identity_id, campaign_paused=False)
        assert view.view == "contacts" and view.activity_range == "All time"
        assert view.query_one(StatusChips).selected == "total" and not table.marked
        panel = view.query_one(LeadPanel)
        assert not panel.has_class("open") and view.panel_enrollment is None
        assert "Evil" not in text(view.query_one("#lead-body"))
        # B's figures and rows, nothing of A's
        counts = dict(q(ws, "SELECT status, count(*) FROM enrollments WHERE campaign_id = ? GROUP BY status", B))
        chips = view.query_one(StatusChips).counts
        assert chips["total"] == sum(counts.values()) and chips["error"] == counts.get("error", 0) == 0
        view.query_one(TabbedContent).active = "audience"
        await until(pilot, lambda: app.focused is table, "the audience list focused")
        assert table.total == (sum(counts.values()), True)
        ids = {r[0] for r in q(ws, "SELECT id FROM enrollments WHERE campaign_id = ?", B)}
        shown = table.visible_rows()
        assert shown and {r.id for r in shown} <= ids
        assert "Evil" not in table_text(table) and "[bold red]X[/]" not in table_text(table)
        assert "search" not in text(view.query_one("#audience-filters"))
        activity = view.query_one("#activity-table", VirtualTable)
        await until(pilot, lambda: not activity.fetching, "B's activity")
        assert activity.total == (q(ws, "SELECT count(*) FROM activity WHERE campaign_id = ?", B)[0][0], True)


@pytest.mark.asyncio
async def test_reopened_on_the_audience_tab_with_its_first_rows(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        view = await opened(pilot, app, A)
        view.query_one(TabbedContent).active = "activity"
        await pilot.pause()
        await back(pilot, app)
        await app.open_campaign(A, tab="audience")
        assert app.screen is view
        table = view.query_one("#audience-table", VirtualTable)
        await until(pilot, loaded(view), "campaign A again")
        assert view.query_one(TabbedContent).active == "audience" and app.focused is table
        assert table.cursor == 0 and table.scroll_offset.y == 0
        assert "[bold red]X[/]" in table_text(table)  # A's own rows, from the top


@pytest.mark.asyncio
async def test_live_refresh_after_the_view_is_reused(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        await opened(pilot, app, A, "audience")
        await back(pilot, app)
        view = await opened(pilot, app, B, "audience")
        before = view.query_one(StatusChips).counts["replied"]
        conn = sqlite3.connect(ws / "enginy.db")
        conn.execute("UPDATE enrollments SET status = 'replied' WHERE id IN (SELECT id FROM enrollments"
                     " WHERE campaign_id = ? AND status = 'not_started' LIMIT 2)", (B,))
        conn.commit()
        conn.close()
        await until(pilot, lambda: view.query_one(StatusChips).counts["replied"] == before + 2,
                    "the poll's refresh of B")


@pytest.mark.asyncio
async def test_a_refresh_of_the_last_campaign_landing_late_is_dropped(ws: Path, monkeypatch) -> None:
    import threading

    import tui.screens.campaign as campaign_module

    release, reading = threading.Event(), threading.Event()
    read_row = campaign_module.campaign_view

    def slow_row(reader, campaign_id):
        if campaign_id == A and threading.current_thread() is not threading.main_thread():
            reading.set()
            release.wait(10)
        return read_row(reader, campaign_id)

    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        view = await opened(pilot, app, A, "audience")
        monkeypatch.setattr(campaign_module, "campaign_view", slow_row)
        late = asyncio.ensure_future(view.refresh_data())  # A's refresh, its read held on its thread …
        await until(pilot, reading.is_set, "A's refresh reading")
        await back(pilot, app)
        await app.open_campaign(B, tab="audience")  # … while the view is pointed at B
        release.set()
        await late
        await until(pilot, loaded(view), "campaign B")
        await pilot.pause(0.1)
        assert "Spain SaaS founders" in text(view.query_one("#campaign-header"))
        assert view.row.id == B and view.query_one(StatusChips).counts["error"] == 0


@pytest.mark.asyncio
async def test_a_theme_chosen_meanwhile_restyles_the_kept_view(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        view = await opened(pilot, app, A, "audience")
        header = view.query_one("#campaign-header")
        before = (view.styles.background, header.styles.border_bottom)
        await back(pilot, app)
        app.theme = "textual-light" if app.theme != "textual-light" else "nord"
        await pilot.pause()
        assert await opened(pilot, app, B, "audience") is view
        after = (view.styles.background, header.styles.border_bottom)
        assert after != before
        fresh = CampaignScreen(app.ctx, B, tab="audience")  # as a view built under the new theme
        await app.push_screen(fresh)
        await pilot.pause()
        assert (fresh.styles.background, fresh.query_one("#campaign-header").styles.border_bottom) == after


@pytest.mark.asyncio
async def test_shown_again_on_its_tab_it_is_drawn_once_its_rows_are_there(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        view = await opened(pilot, app, A, "audience")
        assert not view.paint_held  # shown on another tab than the one it was built on: drawn at once
        await back(pilot, app)
        await app.open_campaign(B, tab="audience")
        assert view.paint_held and app.screen is view  # keys go to the view, its drawing waits for B's rows …
        table = view.query_one("#audience-table", VirtualTable)
        await until(pilot, lambda: not view.paint_held, "the paint released")
        assert table.visible_rows()  # … released as they landed
        await until(pilot, lambda: any(k.description == "Mark" for k in view.query("FooterKey")), "the footer's keys")
