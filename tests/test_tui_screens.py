"""Pilot tests of the TUI: every screen and its actions, on a small seeded workspace.

No runtime runs here (Pilot waits for the app to go quiet); intents are
checked in the database, which is what the runtime reads.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import DataTable, TabbedContent

from storage.workspace import open_workspace
from tests.tui_support import q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.campaign import CampaignScreen
from tui.screens.dashboard import DashboardScreen
from tui.screens.modals import ChoiceScreen, ConfirmScreen, HelpScreen
from tui.widgets.chips import StatusChips
from tui.widgets.lead_panel import LeadPanel
from tui.widgets.virtual_table import VirtualTable

SIZE = (120, 36)


def app_for(ws: Path) -> EnginyApp:
    return EnginyApp(open_workspace(ws))


async def settle(pilot, table: VirtualTable | None = None) -> None:
    await pilot.pause()
    for _ in range(1000):  # up to ~10 s on a loaded machine
        if table is None or not table.fetching:
            break
        await pilot.pause(0.01)
    await pilot.pause()


async def panel_text(pilot, screen) -> str:
    """The side panel's text once its (threaded) load has landed, waiting up to ~10 s."""
    body = ""
    for _ in range(1000):
        await pilot.pause(0.01)
        body = plain(screen.query_one("#lead-body"))
        if body.strip():
            break
    return body


def table_text(table: VirtualTable) -> str:
    return "\n".join("".join(seg.text for seg in table.render_line(y)) for y in range(table.size.height))


def plain(widget) -> str:
    """What a Static shows, as plain text (Rich renderables rendered at a wide width)."""
    from rich.console import Console

    content = widget.content if hasattr(widget, "content") else widget.render()
    if isinstance(content, str):
        return content
    console = Console(width=200, record=True, file=open("/dev/null", "w"))
    console.print(content)
    return console.export_text()


def cells(app: EnginyApp) -> list[str]:
    table = app.screen.query_one("#campaigns", DataTable)
    return [str(table.get_row_at(i)[1]) for i in range(table.row_count)]


@pytest.mark.asyncio
async def test_dashboard_tabs_counts_search_and_sort(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        labels = [str(t.label) for t in app.screen.query("Tab")]
        # Active: running and scheduled, as `campaigns list --status active` (issue 18: paused is its own tab)
        assert "Active 4" in labels and "Draft 1" in labels and "Archived 1" in labels and "Paused 1" in labels
        assert "Q4 Fintech CFOs" in cells(app)
        await pilot.press("2")  # Draft tab
        await settle(pilot)
        assert cells(app) == ["Singapore retail (draft)"]
        await pilot.press("right_square_bracket", "right_square_bracket")  # Running → Paused
        await settle(pilot)
        assert cells(app) == ["NYC fintech heads of sales"]
        await pilot.press("1", "slash")
        await pilot.press(*"marcus", "enter")  # search by identity
        await settle(pilot)
        assert sorted(cells(app)) == ["US logistics re-engage"]
        await pilot.press("escape")  # Esc on the dashboard clears the filters
        await settle(pilot)
        assert len(cells(app)) == 4
        await pilot.press("s", "s")  # sort by priority: high first
        await settle(pilot)
        assert plain(app.screen.query_one("#filter-line")).startswith("sort: priority")
        assert cells(app)[:1] == ["Q4 Fintech CFOs"]


@pytest.mark.asyncio
async def test_dashboard_actions_are_intents_and_destructive_ones_ask(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("2")  # Draft: launch it (it asks first: tests/test_tui_launch.py)
        await settle(pilot)
        await pilot.press("l")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the launch confirmation")
        await pilot.press("y")
        await settle(pilot)
        assert q(ws, "SELECT status FROM campaigns WHERE id = 6") == [("running",)]
        await pilot.press("1")
        await settle(pilot)
        first = app.screen.current_campaign()
        await pilot.press("z")  # pause
        await settle(pilot)
        assert q(ws, "SELECT status FROM campaigns WHERE id = ?", first["id"]) == [("paused",)]
        await pilot.press("4")  # it is under Paused now
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        table.move_cursor(row=[r["id"] for r in app.screen.shown].index(first["id"]))
        await pilot.press("d")  # duplicate → Draft
        await settle(pilot)
        assert q(ws, "SELECT count(*) FROM campaigns WHERE status = 'draft'") == [(1,)]
        await pilot.press("a")  # archive asks …
        await settle(pilot)
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # … and "no" changes nothing
        await settle(pilot)
        assert q(ws, "SELECT count(*) FROM campaigns WHERE status = 'archived'") == [(1,)]
        await pilot.press("D", "y")  # delete, confirmed
        await settle(pilot)
        assert q(ws, "SELECT count(*) FROM campaigns WHERE id = ?", app.screen.rows and first["id"]) == [(0,)]


@pytest.mark.asyncio
async def test_filters_can_be_saved_and_loaded(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        screen._set(folder="US")
        await settle(pilot)
        assert sorted(cells(app)) == ["US logistics re-engage"]
        screen._save("US only")
        assert q(ws, "SELECT name FROM saved_filters WHERE scope = 'campaigns'") == [("US only",)]
        await pilot.press("x")
        await settle(pilot)
        assert len(cells(app)) == 4
        await pilot.press("f")
        await settle(pilot)
        options = app.screen.query_one("#choice-list")
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        options.highlighted = ids.index("saved:US only")
        await pilot.press("enter")
        await settle(pilot)
        assert sorted(cells(app)) == ["US logistics re-engage"]


@pytest.mark.asyncio
async def test_campaign_overview_audience_chips_panel_and_back(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("slash", *"Q4", "enter")
        await settle(pilot)
        assert cells(app) == ["Q4 Fintech CFOs"]
        await pilot.press("enter")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, CampaignScreen)
        header = plain(screen.query_one("#campaign-header"))
        assert "Identity" in header and "priority" in header
        assert "Total contacts" in plain(screen.query_one("#metrics-all"))
        tree = screen.query_one("#progress-tree")
        steps = " | ".join(str(n.label) for n in tree.root.children)
        assert "Visit profile" in steps and "Send LinkedIn connection" in steps and "✖ 3 errors" in steps
        await pilot.press("right_square_bracket")
        assert screen.query_one(TabbedContent).active == "audience"
        table = screen.query_one("#audience-table", VirtualTable)
        await settle(pilot, table)
        chips = screen.query_one(StatusChips)
        assert chips.counts["error"] == 3 and chips.counts["replied"] == 1
        assert "Error 3" in str(chips.render())
        await pilot.press("4")  # Error chip
        await settle(pilot, table)
        assert table.total == (3, True)
        assert "Missing contact email" in table_text(table)
        await pilot.press("G")
        await settle(pilot, table)
        assert table.cursor == 2
        await pilot.press("enter")  # side panel with the error banner
        body = await panel_text(pilot, screen)
        panel = screen.query_one(LeadPanel)
        assert panel.has_class("open")
        assert "✖" in body and "Enrich email" in body
        await pilot.press("escape")  # closes the panel first …
        assert not panel.has_class("open")
        await pilot.press("escape")  # … then goes back
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)


@pytest.mark.asyncio
async def test_hostile_contact_data_is_shown_literally(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="audience"))
        screen = app.screen
        table = screen.query_one("#audience-table", VirtualTable)
        await settle(pilot, table)
        text = table_text(table)
        assert "[bold red]X[/]" in text  # markup shown as typed
        assert "\x1b" not in text and "\x07" not in text  # escape sequences neutralised
        assert "�[2J�]0;pwn�Eve" in text
        await pilot.press("enter")
        body = await panel_text(pilot, screen)
        assert "[bold red]X[/]" in body and "[link=http://x]Evil[/link] Corp" in body and "\x1b" not in body


@pytest.mark.asyncio
async def test_bulk_actions_are_confirmed_intents(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="audience"))
        screen = app.screen
        table = screen.query_one("#audience-table", VirtualTable)
        await settle(pilot, table)
        await pilot.press("4")  # Error chip: with no marks, `b` acts on the highlighted lead only …
        await until(pilot, lambda: table.total == (3, True) and not table.fetching, "the Error list")
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the bulk actions")
        await pilot.press("enter")  # "Retry errors" is the first choice
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM enrollments WHERE campaign_id = 1"
                                         " AND intent = 'retry'") == [(1,)], "1 retry intent")
        await pilot.press("b")  # … and the campaign-wide retry is a choice of its own, saying how many
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the bulk actions")
        assert app.screen.choices[-1][0] == "retry_all" and "3" in str(app.screen.choices[-1][1])
        app.screen.dismiss("retry_all")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        assert "Retry 3 leads in Error?" == app.screen.title_text
        await pilot.press("y")
        # the runtime applies a retry (storage.lead_intents): the intent is what the TUI writes
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM enrollments WHERE campaign_id = 1"
                                         " AND intent = 'retry'") == [(3,)], "3 retry intents")
        await pilot.press("0")  # Total; mark two leads and remove them (permanent, asks)
        await until(pilot, lambda: screen.audience.status is None and not table.fetching, "the Total list")
        await pilot.press("G")
        await until(pilot, lambda: table.current is not None and table.cursor == table.total[0] - 1, "the last row")
        await pilot.press("space")
        await pilot.press("k", "space")
        await until(pilot, lambda: len(table.marked) == 2, "two marked rows")
        screen._bulk_now("remove")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM enrollments WHERE campaign_id = 1"
                                         " AND removed = 1") == [(2,)], "2 leads removed")


@pytest.mark.asyncio
async def test_progress_step_jumps_to_filtered_activity(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1))
        screen = app.screen
        await settle(pilot)
        tree = screen.query_one("#progress-tree")
        node = next(n for n in tree.root.children if n.data == "visit")
        tree.move_cursor(node)
        await pilot.press("enter")
        activity = screen.query_one("#activity-table", VirtualTable)
        await settle(pilot, activity)
        assert screen.query_one(TabbedContent).active == "activity"
        assert screen.activity.node_id == "visit"
        text = table_text(activity)
        assert "profile visited" in text and "invite sent" not in text
        await pilot.press("x")
        await settle(pilot, activity)
        assert "invite sent" in table_text(activity)


@pytest.mark.asyncio
async def test_live_update_from_another_connection(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="audience"))
        screen = app.screen
        await settle(pilot, screen.query_one("#audience-table", VirtualTable))
        before = screen.query_one(StatusChips).counts["replied"]
        conn = sqlite3.connect(ws / "enginy.db")
        conn.execute("UPDATE enrollments SET status = 'replied' WHERE campaign_id = 1 AND status = 'not_started'"
                     " AND id IN (SELECT id FROM enrollments WHERE campaign_id = 1 AND status = 'not_started' LIMIT 4)")
        conn.commit()
        conn.close()
        for _ in range(100):  # the 250 ms poll notices the other connection's commit
            await pilot.pause(0.05)
            if screen.query_one(StatusChips).counts["replied"] == before + 4:
                break
        assert screen.query_one(StatusChips).counts["replied"] == before + 4


@pytest.mark.asyncio
async def test_help_and_palette_list_the_actions(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = plain(app.screen.query_one("#help-body"))
        assert "Launch" in text and "Archive" in text and "Search" in text
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, DashboardScreen)
        commands = [c.title for c in app.screen.palette_commands()]
        assert {"Launch", "Duplicate", "Delete", "Export CSV", "Open campaign"} <= set(commands)
        await pilot.press("colon")
        await settle(pilot)
        assert app.screen.__class__.__name__ == "CommandPalette"
        await pilot.press("escape")
        await settle(pilot)
        await pilot.press("q")
        await settle(pilot)
    assert app.return_code == 0 or app.return_code is None


@pytest.mark.asyncio
async def test_export_writes_the_cli_csv(ws: Path, tmp_path: Path) -> None:
    app = app_for(ws)
    target = tmp_path / "out.csv"
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await pilot.press("E")
        await settle(pilot)
        field = app.screen.query_one("#prompt-input")
        field.value = str(target)
        await pilot.press("enter")
        await settle(pilot)
    lines = target.read_text().splitlines()
    assert lines[0].startswith("id,name,status") and len(lines) == 1 + 4  # the Active tab's campaigns


@pytest.fixture(scope="module")
def big_ws(tmp_path_factory) -> Path:
    from bench.tui_audience import make_workspace

    return make_workspace(tmp_path_factory.mktemp("tui-big") / "ws", 3000)


@pytest.mark.asyncio
async def test_virtual_table_pages_by_keyset_to_both_ends(big_ws: Path) -> None:
    """3,000 leads = many windows: G/g, page moves and a chip's end show the right rows."""
    app = app_for(big_ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="audience"))
        table = app.screen.query_one("#audience-table", VirtualTable)
        await settle(pilot, table)
        assert table.total == (3000, True)
        await pilot.press("G")
        await settle(pilot, table)
        assert table.current.id == 3000 and "Lead3000 " in table_text(table)
        await pilot.press("g")
        await settle(pilot, table)
        assert table.current.id == 1 and "Lead1 " in table_text(table)
        for _ in range(40):  # well past the first window of rows
            await pilot.press("pagedown")
            await settle(pilot, table)
        assert table.current is not None and table.current.id == table.cursor + 1  # ids are 1..3000
        await pilot.press("4")  # Error chip, then its last row
        await settle(pilot, table)
        errors = q(big_ws, "SELECT count(*), max(id) FROM enrollments WHERE status = 'error'")[0]
        assert table.total == (errors[0], True)
        await pilot.press("G")
        await settle(pilot, table)
        assert table.current.id == errors[1] and table.current.status == "error"


@pytest.mark.asyncio
async def test_progress_tree_is_relabelled_not_rebuilt_on_refresh(ws: Path) -> None:
    """A live refresh updates the step figures in place: same nodes, cursor where the user left it."""
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1))
        screen = app.screen
        await settle(pilot)
        tree = screen.query_one("#progress-tree")
        nodes = {n.data: n for n in tree.root.children}
        tree.move_cursor(nodes["visit"])
        line = tree.cursor_line
        assert "✖ 3 errors" in str(nodes["invite"].label)
        conn = sqlite3.connect(ws / "enginy.db")
        conn.execute("UPDATE enrollments SET status = 'in_progress', substatus = NULL"
                     " WHERE campaign_id = 1 AND status = 'error'")
        conn.commit()
        conn.close()
        await screen.refresh_data()
        await settle(pilot)
        after = {n.data: n for n in tree.root.children}
        assert all(after[k] is nodes[k] for k in nodes)
        assert "errors" not in str(after["invite"].label)
        assert tree.cursor_line == line and tree.cursor_node is nodes["visit"]
