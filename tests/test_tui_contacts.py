"""Pilot tests of the import mapping step and the Contacts screen, on the seeded workspace."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from textual.widgets import Select, Static

from storage.workspace import open_workspace
from tests.tui_support import q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.contacts import ContactsScreen
from tui.screens.import_contacts import ImportScreen
from tui.screens.modals import ChoiceScreen
from tui.widgets.virtual_table import VirtualTable

SIZE = (120, 36)
EXPORTS = Path(__file__).parent / "data" / "exports"


def text_of(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


@pytest.mark.asyncio
async def test_mapping_step_change_a_column_see_errors_commit_and_summary(ws: Path, tmp_path: Path) -> None:
    f = tmp_path / "odd.csv"
    f.write_text("Who,Reach me,Employer\nAda Lovelace,ada@example.com,Engines\nBob Stone,not-an-email,Quarry\n")
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ImportScreen(app.ctx, str(f)))
        screen = app.screen
        await until(pilot, lambda: screen.found is not None and screen.query("#map-2")
                    and screen.query_one("#map-2", Select).value == "company", "columns shown")
        assert "2 rows" in text_of(screen, "#import-info")
        assert [screen.query_one(f"#map-{i}", Select).value for i in range(3)] == ["custom", "custom", "company"]
        screen.query_one("#map-0", Select).value = "full_name"
        screen.query_one("#map-1", Select).value = "email"
        await pilot.pause()
        await pilot.press("ctrl+r")
        await until(pilot, lambda: "Check" in text_of(screen, "#import-check"), "the dry run reported")
        check = text_of(screen, "#import-check")
        assert "1 new" in check and "1 rows with errors" in check and "row 3" in check and "not-an-email" in check
        assert q(ws, "SELECT count(*) FROM lists WHERE name = 'Imported'") == [(0,)]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "Imported:" in text_of(screen, "#import-summary"), "the import finished")
        assert q(ws, "SELECT first_name, last_name, email, company FROM contacts WHERE email = 'ada@example.com'") \
            == [("Ada", "Lovelace", "ada@example.com", "Engines")]
        assert q(ws, "SELECT count(*) FROM list_members m JOIN lists l ON l.id = m.list_id"
                     " WHERE l.name = 'Imported'") == [(1,)]


@pytest.mark.asyncio
async def test_mapping_step_reads_a_linkedin_export_with_its_preamble(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await app.push_screen(ImportScreen(app.ctx, str(EXPORTS / "linkedin_connections.csv")))
        screen = app.screen
        await until(pilot, lambda: screen.found is not None and screen.query("#map-6")
                    and screen.query_one("#map-6", Select).value == "custom", "columns shown")
        assert "header on row 4" in text_of(screen, "#import-info")
        assert screen.query_one("#map-2", Select).value == "linkedin_url"


@pytest.mark.asyncio
async def test_contacts_screen_search_mark_and_add_to_a_campaign(ws: Path) -> None:
    app = EnginyApp(open_workspace(ws))
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("C")
        await until(pilot, lambda: isinstance(app.screen, ContactsScreen), "contacts screen")
        screen = app.screen
        table = screen.query_one(VirtualTable)
        await until(pilot, lambda: not table.fetching and table.total[0] > 0, "contacts loaded")
        total = q(ws, "SELECT count(*) FROM contacts")[0][0]
        assert table.total == (total, True)
        email = q(ws, "SELECT email FROM contacts WHERE email IS NOT NULL ORDER BY id LIMIT 1 OFFSET 5")[0][0]
        await pilot.press("slash")
        await pilot.press(*email)
        await until(pilot, lambda: not table.fetching and table.total == (1, True), "search narrowed to one")
        await pilot.press("enter")  # back to the table
        await pilot.press("space")
        assert len(table.marked) == 1
        contact = next(iter(table.marked))
        campaign = q(ws, "SELECT id, name FROM campaigns WHERE status != 'archived' AND id NOT IN"
                         " (SELECT campaign_id FROM enrollments WHERE contact_id = ?) ORDER BY id LIMIT 1", contact)
        cid, name = campaign[0]
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "campaign choice")
        app.screen.dismiss(name)
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM enrollments WHERE campaign_id = ? AND contact_id = ?",
                                     cid, contact) == [(1,)], "contact enrolled")
        assert not table.marked


@pytest.mark.asyncio
async def test_a_removed_contact_is_not_re_added_and_the_screen_says_so(ws: Path) -> None:
    contact, cid, name = q(ws, "SELECT e.contact_id, c.id, c.name FROM enrollments e JOIN campaigns c"
                               " ON c.id = e.campaign_id WHERE c.status != 'archived' ORDER BY e.id LIMIT 1")[0]
    conn = sqlite3.connect(ws / "enginy.db")
    conn.execute("UPDATE enrollments SET removed = 1 WHERE contact_id = ? AND campaign_id = ?", [contact, cid])
    conn.commit()
    conn.close()
    app = EnginyApp(open_workspace(ws))
    notes: list[str] = []
    async with app.run_test(size=SIZE) as pilot:
        app.notify = lambda message, **kw: notes.append(str(message))  # type: ignore[method-assign]
        await app.push_screen(ContactsScreen(app.ctx))
        table = app.screen.query_one(VirtualTable)
        await until(pilot, lambda: not table.fetching, "contacts loaded")
        table.marked.add(contact)
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "campaign choice")
        app.screen.dismiss(name)
        await until(pilot, lambda: notes, "a report")
        assert "0 added" in notes[-1] and "1 removed from it before (never re-added)" in notes[-1]
        assert q(ws, "SELECT removed FROM enrollments WHERE contact_id = ? AND campaign_id = ?", contact, cid) == [(1,)]
