"""Pilot tests of the Identities screen and an identity's configuration, on the seeded workspace."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import DataTable, Input, OptionList

from storage.activity import record
from storage.workspace import open_workspace
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.identities import IdentitiesScreen
from tui.screens.identity_config import IdentityConfigScreen
from tui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen

SIZE = (100, 36)


def app_of(ws: Path) -> EnginyApp:
    return EnginyApp(open_workspace(ws), wall=lambda: NOW)


async def open_identities(pilot) -> IdentitiesScreen:
    await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "DashboardScreen", "dashboard")
    await pilot.press("i")
    await until(pilot, lambda: isinstance(pilot.app.screen, IdentitiesScreen) and pilot.app.screen.rows,
                "identities listed")
    return pilot.app.screen


async def open_setting(pilot, key: str) -> None:
    """Highlight the setting `key` of the configuration screen and press enter on it."""
    screen = pilot.app.screen
    options = screen.query_one(OptionList)
    options.highlighted = next(i for i in range(options.option_count) if options.get_option_at_index(i).id == key)
    await pilot.press("enter")


async def ask_to_disconnect(pilot, inbox_id: int) -> None:
    """From the configuration: the inbox's choices, "Disconnect this inbox…", up to its warning."""
    await open_setting(pilot, f"inbox:{inbox_id}")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), "the inbox's choices")
    options = pilot.app.screen.query_one(OptionList)
    options.highlighted = options.option_count - 1  # Disconnect this inbox…
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the disconnect warning")


def runtime_did(ws: Path, identity_id: int) -> None:
    """What the runtime records for identity 1 today (and one invitation yesterday, not counted)."""
    db = open_workspace(ws).open_db()
    lead = db.execute("SELECT id FROM enrollments WHERE campaign_id IN (SELECT id FROM campaigns WHERE identity_id = ?)"
                      " ORDER BY id LIMIT 1", [identity_id]).fetchone()[0]
    for kind, n, at in (("linkedin_invite_sent", 3, NOW), ("linkedin_invite_sent", 1, NOW - timedelta(days=1)),
                        ("linkedin_invite_accepted", 1, NOW), ("email_sent", 2, NOW), ("email_bounced", 1, NOW),
                        ("linkedin_message_sent", 1, NOW), ("email_reply_received", 1, NOW)):
        for _ in range(n):
            record(db, kind=kind, now=at, enrollment_id=lead, identity_id=identity_id)
    db.close()


@pytest.mark.asyncio
async def test_statistics_of_today_search_and_period(ws: Path) -> None:
    idents = q(ws, "SELECT id, name, timezone, daily_message_limit FROM identities ORDER BY name")
    runtime_did(ws, idents[0][0])
    async with app_of(ws).run_test(size=SIZE) as pilot:
        screen = await open_identities(pilot)
        table = screen.query_one(DataTable)
        assert table.row_count == len(idents) >= 2
        per_day = q(ws, "SELECT COALESCE(SUM(per_day), 0) FROM inboxes WHERE identity_id = ? AND connected = 1",
                    idents[0][0])[0][0]
        first = [str(table.get_cell_at((0, c))) for c in range(7)]
        assert first == [idents[0][1], "connected", "1/1", "1/3", f"3/{idents[0][3] + per_day}", "1", "50%"]
        for row, (identity_id, name, tz, limit) in enumerate(idents[1:], start=1):
            assert [str(table.get_cell_at((row, c))) for c in (0, 3, 6)] == [name, "0/0", "—"]
        await pilot.press("slash", *idents[1][1][:4], "enter")
        await until(pilot, lambda: table.row_count == 1, "the search keeps one identity")
        assert str(table.get_cell_at((0, 0))) == idents[1][1]
        await pilot.press("escape")
        await until(pilot, lambda: table.row_count == len(idents), "esc clears the search")
        await pilot.press("d", *"2026-13-01", "enter")  # refused: told, and offered again as typed
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "the period asked again")
        assert pilot.app.screen.query_one(Input).value == "2026-13-01"
        prompt = pilot.app.screen.query_one(Input)
        prompt.value = "2000-01-01..2000-01-02"
        await pilot.press("enter")
        await until(pilot, lambda: screen.period[0] is not None and screen.rows
                    and screen.rows[0].stats.date_from == "2000-01-01", "the period applied")
        assert str(table.get_cell_at((0, 4))).startswith("0/")


@pytest.mark.asyncio
async def test_a_change_is_saved_kept_after_reopening_and_undone(ws: Path) -> None:
    async with app_of(ws).run_test(size=SIZE) as pilot:
        screen = await open_identities(pilot)
        identity_id = screen.rows[0].stats.id
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                    "configuration open")
        await open_setting(pilot, "daily_message_limit")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "asked for the limit")
        pilot.app.screen.query_one(Input).value = "abc"
        await pilot.press("enter")  # not a number: told, asked again with what was typed
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen)
                    and pilot.app.screen.query_one(Input).value == "abc", "asked again")
        pilot.app.screen.query_one(Input).value = "90"
        await pilot.press("enter")
        await until(pilot, lambda: q(ws, "SELECT daily_message_limit FROM identities WHERE id = ?",
                                     identity_id)[0][0] == 90, "saved")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentitiesScreen), "back to the list")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                    "reopened")
        options = pilot.app.screen.query_one(OptionList)
        shown = next(str(options.get_option_at_index(i).prompt) for i in range(options.option_count)
                     if options.get_option_at_index(i).id == "daily_message_limit")
        assert "90" in shown
        await open_setting(pilot, "timezone")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "asked for the time zone")
        pilot.app.screen.query_one(Input).value = "America/New_York"
        await pilot.press("enter")
        await until(pilot, lambda: q(ws, "SELECT timezone FROM identities WHERE id = ?",
                                     identity_id)[0][0] == "America/New_York", "time zone saved")
        await pilot.press("u")
        await until(pilot, lambda: q(ws, "SELECT timezone FROM identities WHERE id = ?",
                                     identity_id)[0][0] != "America/New_York", "undone")


@pytest.mark.asyncio
async def test_declined_confirmations_change_nothing(ws: Path) -> None:
    async with app_of(ws).run_test(size=SIZE) as pilot:
        screen = await open_identities(pilot)
        identity_id = screen.rows[0].stats.id
        before = q(ws, "SELECT daily_connection_limit FROM identities WHERE id = ?", identity_id)[0][0]
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                    "configuration open")
        config = pilot.app.screen
        await open_setting(pilot, "daily_connection_limit")
        await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "asked for the limit")
        pilot.app.screen.query_one(Input).value = "60"
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "the spec's warning")
        assert "automation detection" in str(pilot.app.screen.detail)
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen is config, "back without saving")
        assert q(ws, "SELECT daily_connection_limit FROM identities WHERE id = ?", identity_id)[0][0] == before
        inbox_id = config.data.inboxes[0]["id"]
        await ask_to_disconnect(pilot, inbox_id)
        assert "those leads will fail" in str(pilot.app.screen.detail)
        await pilot.press("escape")
        await until(pilot, lambda: pilot.app.screen is config, "declined")
        assert q(ws, "SELECT connected FROM inboxes WHERE id = ?", inbox_id)[0][0] == 1


@pytest.mark.asyncio
async def test_inbox_rate_and_signature_without_reconnecting(ws: Path) -> None:
    async with app_of(ws).run_test(size=SIZE) as pilot:
        await open_identities(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                    "configuration open")
        config = pilot.app.screen
        inbox_id = config.data.inboxes[0]["id"]
        for choice, typed in (("per_day", "81"), ("per_day", "45"), ("signature_text", "Ana\\nAcme")):
            await open_setting(pilot, f"inbox:{inbox_id}")
            await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), "the inbox's choices")
            options = pilot.app.screen.query_one(OptionList)
            options.highlighted = [options.get_option_at_index(i).id for i in range(options.option_count)].index(choice)
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen), "asked")
            pilot.app.screen.query_one(Input).value = typed
            await pilot.press("enter")
            if typed == "81":  # above the spec's maximum: refused, asked again as typed
                await until(pilot, lambda: isinstance(pilot.app.screen, PromptScreen)
                            and pilot.app.screen.query_one(Input).value == "81", "asked again")
                await pilot.press("escape")
            await until(pilot, lambda: pilot.app.screen is config, "back on the configuration")
        await until(pilot, lambda: q(ws, "SELECT per_day, signature_text, connected FROM inboxes WHERE id = ?",
                                     inbox_id)[0] == (45, "Ana\nAcme", 1), "saved, still connected")


@pytest.mark.asyncio
async def test_reached_from_the_palette(ws: Path) -> None:
    async with app_of(ws).run_test(size=SIZE) as pilot:
        await until(pilot, lambda: pilot.app.screen.__class__.__name__ == "DashboardScreen", "dashboard")
        await pilot.press("colon", *"Identities")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentitiesScreen) and pilot.app.screen.rows,
                    "the Identities screen from the palette")
