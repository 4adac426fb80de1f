"""Issue 18 as a power user meets it: the dashboard and the campaign view at 80×24 (the default
SSH terminal) and larger, the help screen, labels that told steps apart badly, figures that
disagreed between places. Each test failed on the code before the fix.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.cells import cell_len
from textual.widgets import DataTable, TabbedContent, Tabs, Tree
from textual.widgets._footer import FooterKey

from sequences.statuses import CAMPAIGN_TABS
from sequences.wording import ago, plural
from storage.activity import record
from storage.db import connect
from storage.timeline import save_position
from storage.workspace import open_workspace
from tests.support.campaign_workspace import ok_json
from tests.test_tui_screens import panel_text, plain, settle, table_text
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.campaign import CampaignScreen
from tui.screens.modals import ChoiceScreen, HelpScreen
from tui.widgets.chips import StatusChips
from tui.widgets.virtual_table import VirtualTable

SMALL, LARGE = (80, 24), (160, 48)


def app_for(ws: Path) -> EnginyApp:
    return EnginyApp(open_workspace(ws), wall=lambda: NOW)


async def open_q4(pilot, tab_keys: tuple[str, ...] = ()) -> CampaignScreen:
    await settle(pilot)
    await pilot.press("slash", *"Q4", "enter", "enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, CampaignScreen) and pilot.app.screen.metrics is not None,
                "the campaign view with its figures")
    if tab_keys:
        await pilot.press(*tab_keys)
    await settle(pilot)
    return pilot.app.screen


def shown_columns(table: DataTable) -> list[str]:
    """Headers of the columns that lie inside the table's width (the rest is off the right edge)."""
    x, out = 0, []
    for column in table.ordered_columns:
        x += column.get_render_width(table)
        if x <= table.scrollable_content_region.width:
            out.append(str(column.label))
    return out


@pytest.mark.asyncio
async def test_dashboard_columns_collapse_in_order_and_come_back_with_room(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        table = app.screen.query_one(DataTable)
        small = shown_columns(table)
        assert {"Campaign", "Contacted", "Replied", "Channels", "Tags"} <= set(small), small
        names = {str(table.get_cell_at((i, 1))) for i in range(table.row_count)}
        assert "Q4 Fintech CFOs" in names and "Spain SaaS founders" in names  # not cut to "Q4 Fin…"
        await pilot.resize_terminal(*LARGE)
        await settle(pilot)
        large = shown_columns(table)
        assert {"Identity", "Created", "Started", "Folder", "Status"} <= set(large), large


@pytest.mark.asyncio
async def test_active_tab_is_the_cli_active_filter_and_created_agrees(ws: Path) -> None:
    """The Active tab counted paused campaigns and `campaigns list --status active` did not; the
    app's "Created" ran on the workspace clock and the CLI's on the wall clock."""
    db = connect(ws / "enginy.db")
    save_position(db, NOW + timedelta(days=60))  # the runtime's clock ran ahead (the demo)
    db.close()
    listed = ok_json(ws, "campaigns", "list", "--status", "active")
    app = app_for(ws)
    async with app.run_test(size=LARGE) as pilot:
        await settle(pilot)
        label = str(app.screen.query_one("#tab-active").label)
        assert label == f"Active {len(listed)}"
        assert {r["status"] for r in listed} <= {s.value for s in CAMPAIGN_TABS["active"][1]}
        assert "paused" not in {r["status"] for r in listed}
        table = app.screen.query_one(DataTable)
        created = {str(table.get_cell_at((i, 1))): str(table.get_cell(table.coordinate_to_cell_key((i, 0)).row_key, "created"))
                   for i in range(table.row_count)}
        for r in listed:
            assert created[r["name"]] == r["created"], (r["name"], created[r["name"]], r["created"])


@pytest.mark.asyncio
async def test_campaign_view_at_80x24_tree_chips_names_footer(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SMALL) as pilot:
        screen = await open_q4(pilot)
        tree = screen.query_one("#progress-tree", Tree)
        await until(pilot, lambda: len(tree.root.children) > 0, "the progress tree")
        assert tree.size.height >= 5, f"only {tree.size.height} rows of the progress tree show"
        labels = " | ".join(str(n.label) for n in tree.root.children)
        assert "Accepted LinkedIn connection · within 7 days" in labels  # the condition's settings
        help_key = [k for k in app.screen.query(FooterKey) if k.action == "app.help" or k.description == "Help"]
        assert help_key and help_key[0].region.right <= SMALL[0], "the footer's ? Help is cut off"

        await pilot.press("right_square_bracket")
        table = screen.query_one("#audience-table", VirtualTable)
        await settle(pilot, table)
        chips = screen.query_one(StatusChips)
        lines = str(chips.render()).splitlines()
        assert all(cell_len(line) <= chips.size.width for line in lines), lines
        assert "Replied 1" in str(chips.render()) and chips.size.height == len(lines)
        text = table_text(table)
        rows = [table.row_at(i) for i in range(5)]
        plain_names = [f"{r.first_name} {r.last_name}" for r in rows if r and (r.first_name or "").isalpha()]
        assert plain_names and all(name in text for name in plain_names), text

        index = next(i for i, r in enumerate(rows) if (r.first_name or "").isalpha())
        await pilot.press(*["down"] * index, "enter")  # the side panel beside the list, at 80 columns
        body = await panel_text(pilot, screen)
        row = table.current
        name = f"{row.first_name} {row.last_name}"
        assert body.splitlines()[0].strip() == name, body  # not "Quinn BergCTO @ Kite Finance"
        assert row.job_title in body.splitlines()[1]
        assert name in table_text(table)  # still whole in the list beside the panel


@pytest.mark.asyncio
async def test_help_scrolls_and_shows_enginys_keys_first_at_80x24(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SMALL) as pilot:
        await settle(pilot)
        await pilot.press("question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen), "the help")
        help_screen = app.screen
        first = help_screen.sections[0]
        assert first[0] == "This screen" and "Search" in [d for _, d, _ in first[1]]
        rows = [row for _, section in help_screen.sections for row in section]
        quits = [keys for keys, description, _ in rows if description == "Quit"]
        assert len(quits) == 1 and "q" in quits[0].split(", "), quits
        scroll = help_screen.query_one("#help-scroll")
        assert scroll.max_scroll_y > 0
        await pilot.press("end")
        assert scroll.scroll_y == scroll.max_scroll_y
        await pilot.press("home", "tab")
        assert scroll.scroll_y > 0
        assert "⚑ High" in plain(help_screen.query_one("#help-body"))  # the legend of the glyphs
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


@pytest.mark.asyncio
async def test_stage_picker_tells_steps_apart_and_the_filter_says_the_same(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=LARGE) as pilot:
        screen = await open_q4(pilot, ("right_square_bracket",))
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the stage picker")
        labels = [str(label).strip() for _, label in app.screen.choices]
        names = [label.rsplit("  (", 1)[0] for label in labels[1:]]
        assert len(set(names)) == len(names), names
        assert any(n.startswith("Email 2") for n in names), names
        key = next(k for k, label in app.screen.choices if str(label).strip().startswith("Email 2"))
        want = next(n for n in names if n.startswith("Email 2"))
        await pilot.press(*["down"] * [k for k, _ in app.screen.choices].index(key), "enter")
        await settle(pilot)
        assert screen.audience.node_id == key
        assert f"stage: {want}" in plain(screen.query_one("#audience-filters"))


@pytest.mark.asyncio
async def test_plurals_and_the_timeline_says_which_condition_and_branch(ws: Path) -> None:
    enrollment, contact = q(ws, "SELECT id, contact_id FROM enrollments WHERE campaign_id = 1 AND status = 'in_progress'"
                               " ORDER BY id LIMIT 1")[0]
    first, last = q(ws, "SELECT first_name, last_name FROM contacts WHERE id = ?", contact)[0]
    db = connect(ws / "enginy.db")
    record(db, kind="condition_evaluated", now=NOW, enrollment_id=enrollment, node_id="accepted",
           detail={"result": "no"})
    db.close()
    app = app_for(ws)
    async with app.run_test(size=LARGE) as pilot:
        screen = await open_q4(pilot, ("right_square_bracket",))
        await pilot.press("slash", *f"{first} {last}", "enter")
        table = screen.query_one("#audience-table", VirtualTable)
        await until(pilot, lambda: table.total[0] >= 1 and not table.fetching, "the search")
        n = table.total[0]
        assert f"{plural(n, 'lead')}" in plain(screen.query_one("#audience-filters"))
        row = next(i for i in range(n) if table.row_at(i).id == enrollment)
        await pilot.press(*["down"] * row, "enter")
        body = await panel_text(pilot, screen)
        assert "Condition evaluated: Accepted LinkedIn connection · within 7 days → No" in body, body


def test_one_plural_and_one_age() -> None:
    assert (plural(1, "error"), plural(2, "error"), plural(1, "lead"), plural(1204, "lead")) == \
        ("1 error", "2 errors", "1 lead", "1,204 leads")
    assert ago(NOW.isoformat(), NOW + timedelta(days=2, hours=3)) == "2d ago"
    assert ago(NOW.isoformat(), NOW + timedelta(days=31)) == "1 mo ago"


def test_the_demo_keeps_the_speed_it_was_left_at(tmp_path: Path) -> None:
    from cli.demo import starting_speed
    from storage.db import open_db
    from storage.demo_clock import set_demo_clock

    db = open_db(tmp_path / "ws.db")
    assert starting_speed(db, None, 3600.0) == 3600.0
    set_demo_clock(db, speed=28800.0)  # + + + in the app
    assert starting_speed(db, None, 3600.0) == 28800.0
    assert starting_speed(db, 60.0, 3600.0) == 60.0


@pytest.mark.asyncio
async def test_a_lead_finished_by_its_task_step_says_the_task_is_pending(ws: Path) -> None:
    """A Task step ends its branch, so the lead is "Finished · No response" as the task is
    created (spec: the sequence completed, no reply) — the panel says the task is still open."""
    enrollment, contact = q(ws, "SELECT id, contact_id FROM enrollments WHERE campaign_id = 1 AND status = 'not_started'"
                               " ORDER BY id LIMIT 1")[0]
    first, last = q(ws, "SELECT first_name, last_name FROM contacts WHERE id = ?", contact)[0]
    db = connect(ws / "enginy.db")
    db.execute("UPDATE enrollments SET status = 'finished', substatus = 'no_response' WHERE id = ?", [enrollment])
    db.execute("INSERT INTO tasks (campaign_id, enrollment_id, contact_id, node_id, title, kind, created_at)"
               " VALUES (1, ?, ?, 'call1', ?, 'call', ?)", [enrollment, contact, f"Call {first}", NOW.isoformat()])
    db.close()
    app = app_for(ws)
    async with app.run_test(size=LARGE) as pilot:
        screen = await open_q4(pilot, ("right_square_bracket",))
        await pilot.press("slash", *f"{first} {last}", "enter")
        table = screen.query_one("#audience-table", VirtualTable)
        await until(pilot, lambda: table.total[0] >= 1 and not table.fetching, "the search")
        row = next(i for i in range(table.total[0]) if table.row_at(i).id == enrollment)
        await pilot.press(*["down"] * row, "enter")
        body = await panel_text(pilot, screen)
        assert "Finished · No response" in body and f"☐ Task pending: Call {first}" in body, body
