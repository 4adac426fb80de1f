"""The campaign view draws its Overview figures when that tab is shown, not on every refresh behind it.

Why it matters: a refresh follows every change the runtime makes, and drawing
the boxes, the progress tree and the sparkline on the hidden Overview took the
UI thread while the audience table's rows waited to be painted.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from rich.console import Console
from textual.widgets import TabbedContent

from storage.workspace import open_workspace
from tests.tui_support import make, until
from tui.app import EnginyApp
from tui.screens.campaign import CampaignScreen
from tui.widgets.chips import StatusChips


def tree_text(tree) -> str:
    return " | ".join(str(n.label) for n in tree.root.children)


def shown(widget) -> str:
    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(widget.content if hasattr(widget, "content") else widget.render())
    return console.export_text()


@pytest.mark.asyncio
async def test_overview_figures_are_drawn_when_the_tab_is_shown(tmp_path: Path) -> None:
    ws = make(tmp_path / "ws")
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = CampaignScreen(app.ctx, 1, tab="audience")
        await app.push_screen(screen)
        await screen.refresh_data()
        await pilot.pause()
        assert screen.metrics is not None
        total = screen.metrics.audience["total"]
        assert total > 0 and screen.query_one(StatusChips).counts["total"] == total  # the audience tab's own figures
        tree = screen.query_one("#progress-tree")
        assert "Total contacts" not in shown(screen.query_one("#metrics-all")) and not tree.root.children
        assert "total" not in shown(screen.query_one("#sparkline-caption"))  # actions per day not even read

        screen.query_one(TabbedContent).active = "overview"
        await until(pilot, lambda: "Total contacts" in shown(screen.query_one("#metrics-all")), "the Overview drawn")
        assert f"{total:,}" in shown(screen.query_one("#metrics-all"))
        assert "Visit profile" in tree_text(tree)
        assert "total" in shown(screen.query_one("#sparkline-caption"))

        # on the Overview, a refresh draws at once; behind another tab it waits for the next visit
        ws_db = app.ctx.db
        ws_db.execute("UPDATE enrollments SET status = 'finished', node_id = NULL WHERE campaign_id = 1"
                      " AND status = 'error'")
        await screen.refresh_data()
        await pilot.pause()
        assert "✖" not in tree_text(tree)
        screen.query_one(TabbedContent).active = "audience"
        await pilot.pause()
        ws_db.execute("UPDATE enrollments SET status = 'error', node_id = 'visit' WHERE campaign_id = 1"
                      " AND id IN (SELECT id FROM enrollments WHERE campaign_id = 1 ORDER BY id LIMIT 2)")
        await screen.refresh_data()
        await pilot.pause()
        assert "✖" not in tree_text(tree)
        assert screen.query_one(StatusChips).counts["error"] == 2
        screen.query_one(TabbedContent).active = "overview"
        await until(pilot, lambda: "✖ 2 errors" in tree_text(tree), "the errors in the progress tree")


async def loaded(pilot, table) -> None:
    """Wait (bounded) until the table's page has landed."""
    await until(pilot, lambda: not table.fetching, "the table's page")
    await pilot.pause()


@pytest.mark.asyncio
async def test_the_filter_line_follows_the_list(tmp_path: Path) -> None:
    """The line above the audience says how many leads the list holds and which filters narrow it."""
    from tui.widgets.virtual_table import VirtualTable

    ws = make(tmp_path / "ws")
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        screen = CampaignScreen(app.ctx, 1, tab="audience")
        await app.push_screen(screen)
        table = screen.query_one("#audience-table", VirtualTable)
        await loaded(pilot, table)
        line = screen.query_one("#audience-filters")
        total = app.ctx.db.execute("SELECT count(*) FROM enrollments WHERE campaign_id = 1").fetchone()[0]
        assert shown(line).startswith(f"{total:,} leads")
        screen.action_chip("error")
        await loaded(pilot, table)
        assert shown(line).startswith("3 leads")
        screen.apply_audience(search="Eve")
        await loaded(pilot, table)
        assert table.total == (1, True) and shown(line).startswith("1 lead ") and "search: Eve" in shown(line)
        screen.action_chip("total")
        screen.apply_audience(search="")
        await loaded(pilot, table)
        assert shown(line).startswith(f"{total:,} leads") and "search" not in shown(line)
