"""Pilot tests of the Lists screen (filters, open, add a list to a campaign, rename, tags, delete) and the
Contacts screen's marked count, on the seeded workspace plus two small lists."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input, Static

from storage.contacts import ensure_list, set_list_tags
from storage.db import connect
from storage.workspace import open_workspace
from tests.tui_support import NOW, q, template_ws, until  # noqa: F401 (fixtures)
from tests.tui_support import ws as seeded_ws  # noqa: F401
from tui.app import EnginyApp
from tui.screens.contacts import ContactsScreen
from tui.screens.lists import ListsScreen
from tui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen
from tui.widgets.virtual_table import VirtualTable

SIZE = (120, 36)


@pytest.fixture
def ws(seeded_ws: Path) -> Path:  # noqa: F811
    """The seeded workspace ("Demo leads", by demo) plus "Autumn fair" (by ana, 3 members, tag q4) made
    60 days before and "Zeta" (by bo, empty) made 2 days before it was seeded."""
    db = connect(seeded_ws / "enginy.db")
    fair = ensure_list(db, "Autumn fair", now=NOW - timedelta(days=60), created_by="ana")
    db.execute("INSERT INTO list_members SELECT ?, id, ? FROM contacts ORDER BY id LIMIT 3", [fair, NOW.isoformat()])
    set_list_tags(db, "Autumn fair", add=["q4"])
    ensure_list(db, "Zeta", now=NOW - timedelta(days=2), created_by="bo")
    db.close()
    return seeded_ws


def status(screen) -> str:
    return str(screen.query_one("#lists-filters", Static).render())


def report(screen) -> str:
    return str(screen.query_one("#lists-report", Static).render())


def names(screen) -> list[str]:
    return [r["name"] for r in screen.rows]


async def open_lists(app, pilot) -> ListsScreen:
    await pilot.pause()
    await pilot.press("L")
    await until(pilot, lambda: isinstance(app.screen, ListsScreen) and app.screen.rows, "lists screen")
    return app.screen


async def choose(app, pilot, value: str | None) -> None:
    await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "a choice")
    app.screen.dismiss(value)
    await pilot.pause()


@pytest.mark.asyncio
async def test_search_sort_and_filters(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lists(app, pilot)
        assert names(screen) == ["Demo leads", "Zeta", "Autumn fair"]
        await pilot.press("s")
        await until(pilot, lambda: names(screen) == ["Autumn fair", "Demo leads", "Zeta"], "alphabetical")
        assert "sort: alphabetical" in status(screen)
        await pilot.press("f")
        await choose(app, pilot, "created_by")
        await choose(app, pilot, "ana")
        await until(pilot, lambda: names(screen) == ["Autumn fair"], "created by ana")
        assert "created by: ana" in status(screen)
        await pilot.press("x")
        await until(pilot, lambda: len(screen.rows) == 3, "filters cleared")
        await pilot.press("f")
        await choose(app, pilot, "days")
        await choose(app, pilot, "30")
        await until(pilot, lambda: names(screen) == ["Demo leads", "Zeta"], "created in the last 30 days")
        await pilot.press("f")
        await choose(app, pilot, "tag")
        await choose(app, pilot, "q4")
        await until(pilot, lambda: "no list matches" in status(screen), "q4 and last 30 days: none")
        await pilot.press("x")
        await pilot.press("slash")
        assert screen.query_one("#lists-search", Input).has_focus
        await pilot.press(*"ZET")
        await until(pilot, lambda: names(screen) == ["Zeta"], "searched by name")


@pytest.mark.asyncio
async def test_add_a_list_to_a_campaign_skips_a_removed_contact_and_says_so(ws: Path) -> None:
    members = [r[0] for r in q(ws, "SELECT contact_id FROM list_members m JOIN lists l ON l.id = m.list_id"
                                   " WHERE l.name = 'Autumn fair' ORDER BY contact_id")]
    cid, name = q(ws, "SELECT id, name FROM campaigns WHERE status = 'running' ORDER BY id LIMIT 1")[0]
    db = connect(ws / "enginy.db")
    db.execute("DELETE FROM enrollments WHERE campaign_id = ? AND contact_id IN (?, ?)", [cid, *members[1:]])
    db.execute("INSERT OR IGNORE INTO enrollments (campaign_id, contact_id, status, enrolled_at, updated_at)"
               " VALUES (?, ?, 'finished', ?, ?)", [cid, members[0], NOW.isoformat(), NOW.isoformat()])
    db.execute("UPDATE enrollments SET removed = 1 WHERE campaign_id = ? AND contact_id = ?", [cid, members[0]])
    db.close()
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lists(app, pilot)
        screen.table.move_cursor(row=names(screen).index("Autumn fair"))
        await pilot.press("a")
        await choose(app, pilot, name)
        await until(pilot, lambda: "added" in report(screen), "the report line")
        assert "2 added of 3" in report(screen)
        assert "1 removed from it before (never re-added)" in report(screen)
        assert q(ws, "SELECT contact_id, removed FROM enrollments WHERE campaign_id = ? AND contact_id IN (?, ?, ?)"
                     " ORDER BY contact_id", cid, *members) == [(members[0], 1), (members[1], 0), (members[2], 0)]


@pytest.mark.asyncio
async def test_delete_asks_first_and_keeps_the_contacts(ws: Path) -> None:
    contacts = q(ws, "SELECT count(*) FROM contacts")
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lists(app, pilot)
        screen.table.move_cursor(row=names(screen).index("Autumn fair"))
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is screen, "back, nothing deleted")
        assert "Autumn fair" in names(screen)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation again")
        await pilot.press("y")
        await until(pilot, lambda: "Autumn fair" not in names(screen), "deleted")
        assert "3 memberships; the contacts are kept" in report(screen)
        assert q(ws, "SELECT count(*) FROM lists WHERE name = 'Autumn fair'") == [(0,)]
        assert q(ws, "SELECT count(*) FROM contacts") == contacts


@pytest.mark.asyncio
async def test_rename_tags_and_open_the_members(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_lists(app, pilot)
        screen.table.move_cursor(row=names(screen).index("Autumn fair"))
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the rename prompt")
        app.screen.dismiss("Demo leads")
        await until(pilot, lambda: app.screen is screen, "back")
        assert "Autumn fair" in names(screen), "a taken name is refused"
        await pilot.press("r")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the rename prompt")
        app.screen.dismiss("Spring fair")
        await until(pilot, lambda: "Spring fair" in names(screen), "renamed")
        await pilot.press("t")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the tags prompt")
        app.screen.dismiss("smb,  events ")
        await until(pilot, lambda: screen.current() and screen.current()["tags"] == ["events", "smb"], "retagged")
        assert q(ws, "SELECT tags FROM lists WHERE name = 'Spring fair'") == [('["events", "smb"]',)]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, ContactsScreen), "its members")
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: not table.fetching and table.total == (3, True), "three members")
        assert "List Spring fair: 3" in str(app.screen.query_one("#contacts-status", Static).render())


@pytest.mark.asyncio
async def test_the_contacts_marked_count_updates_at_once(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ContactsScreen(app.ctx))
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: not table.fetching and table.total[0] > 0, "contacts loaded")
        loads = len(table.timings)
        await pilot.press("space", "j", "space")  # space marks in place; j moves
        await pilot.pause()
        assert len(table.timings) == loads, "no page was read"
        assert "2 marked" in str(app.screen.query_one("#contacts-status", Static).render())
        await pilot.press("k", "space")
        await pilot.pause()
        assert "1 marked" in str(app.screen.query_one("#contacts-status", Static).render())
