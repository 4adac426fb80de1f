"""Pilot tests of what the campaign view does to leads (issue 18): bulk actions that do not
misfire, the Activity tab's keys, and the side panel's shortcuts — each on the seeded workspace,
checked in the database the runtime reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.activity import record
from storage.db import connect
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tests.test_tui_screens import app_for, cells, panel_text, plain, settle, table_text
from tui.screens.campaign import CampaignScreen
from tui.screens.contacts import ContactsScreen
from tui.screens.lead_actions import PathScreen
from tui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen, TaskScreen
from tui.widgets.lead_panel import LeadPanel
from tui.widgets.virtual_table import VirtualTable

SIZE = (120, 36)


def notes(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def audience(pilot, app, chip: str = "0") -> tuple[CampaignScreen, VirtualTable]:
    await settle(pilot)
    await app.push_screen(CampaignScreen(app.ctx, 1, tab="audience"))
    screen = app.screen
    table = screen.query_one("#audience-table", VirtualTable)
    await settle(pilot, table)
    await pilot.press(chip)
    await until(pilot, lambda: not table.fetching and table.current is not None, "the list")
    return screen, table


@pytest.mark.asyncio
async def test_retry_is_offered_only_for_a_lead_in_error_and_results_say_why(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await audience(pilot, app, "1")  # Not started: no lead of the list is in Error
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the bulk actions")
        keys = [k for k, _ in app.screen.choices]
        assert "retry" not in keys and "pause" in keys and "resume" not in keys
        assert "Highlighted lead" in app.screen.title_text
        await pilot.press("escape")
        # a replied lead and a not-started one, marked: pause changes one and says why it skipped the other
        replied = q(ws, "SELECT id FROM enrollments WHERE campaign_id = 1 AND status = 'replied'")[0][0]
        table.marked.update({replied, table.current.id})
        await pilot.press("b")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the bulk actions")
        assert "2 marked leads" == app.screen.title_text
        assert ("pause", "Pause — 1 of 2") in app.screen.choices
        app.screen.dismiss("pause")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        assert app.screen.title_text == "Pause 1 lead?"
        assert "Left as they are: 1 replied" in app.screen.detail.plain
        await pilot.press("y")
        await until(pilot, lambda: any(n.startswith("Pause: 1 changed, 1 skipped: lead is replied")
                                       for n in notes(app)), "a result with its reason")
        assert not table.marked


@pytest.mark.asyncio
async def test_esc_unmarks_before_leaving_and_the_filter_line_counts_marks_at_once(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await audience(pilot, app)
        await pilot.press("j", "space", "k", "space")
        assert len(table.marked) == 2
        await until(pilot, lambda: "2 marked" in plain(screen.query_one("#audience-filters")), "the mark count")
        await pilot.press("escape")
        assert not table.marked and app.screen is screen


@pytest.mark.asyncio
async def test_activity_keys_enter_stage_recipient_dates_and_failed_steps(ws: Path) -> None:
    db = connect(ws / "enginy.db")
    enrollment = q(ws, "SELECT id FROM enrollments WHERE campaign_id = 1 AND status = 'error' ORDER BY id")[0][0]
    record(db, kind="step_failed", now=NOW, enrollment_id=enrollment, node_id="invite")
    db.close()
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        await app.push_screen(CampaignScreen(app.ctx, 1, tab="activity"))
        screen = app.screen
        table = screen.query_one("#activity-table", VirtualTable)
        await settle(pilot, table)
        assert "✖ failed" in table_text(table)  # the newest action: a failed step, not "✔ completed"
        await pilot.press("space")  # no bulk action works on actions: nothing to mark
        assert not table.marked
        await pilot.press("enter")  # opens the recipient's lead beside the list
        panel = screen.query_one("#activity-lead-panel", LeadPanel)
        assert panel.has_class("open")
        await until(pilot, lambda: "Timeline" in plain(panel.query_one("#lead-body")), "the lead beside the actions")
        await pilot.press("escape")
        assert not panel.has_class("open") and app.screen is screen
        await pilot.press("r")  # only this recipient, named
        await until(pilot, lambda: screen.activity.contact_id is not None, "the recipient filter")
        line = plain(screen.query_one("#activity-filters"))
        assert "recipient:" in line and "contact #" not in line
        await pilot.press("s")  # the stage filter works here too
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the stage picker")
        await pilot.press("escape")
        await pilot.press("w")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the date ranges")
        app.screen.dismiss("Custom…")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the range prompt")
        await pilot.press(*"2026-11-01..2026-11-23", "enter")
        await until(pilot, lambda: screen.activity.until is not None, "the custom range")
        assert screen.activity.since == "2026-11-01T00:00:00+00:00"
        assert screen.activity.until == "2026-11-24T00:00:00+00:00"
        assert "2026-11-01 – 2026-11-23" in plain(screen.query_one("#activity-filters"))


@pytest.mark.asyncio
async def test_side_panel_shortcuts(ws: Path) -> None:
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        screen, table = await audience(pilot, app, "4")  # Error leads
        await pilot.press("j", "enter")
        await panel_text(pilot, screen)
        lead = screen.panel_enrollment
        contact, url, company = q(ws, "SELECT c.id, c.linkedin_url, c.company FROM enrollments e"
                                      " JOIN contacts c ON c.id = e.contact_id WHERE e.id = ?", lead)[0]
        assert "S edit sequence" in plain(screen.query_one("#lead-body"))  # the error banner's CTA
        await pilot.press("o")  # the profile URL, copied (OSC 52): over SSH there is no browser
        assert app.clipboard == url
        await pilot.press("n")  # a task: title and notes
        await until(pilot, lambda: isinstance(app.screen, TaskScreen), "the task form")
        await pilot.press(*"Call her", "enter", *"about the pilot", "enter")
        await until(pilot, lambda: q(ws, "SELECT title, notes, status FROM tasks WHERE enrollment_id = ?", lead)
                    == [("Call her", "about the pilot", "pending")], "the task")
        await pilot.press("plus")  # add to another campaign
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the campaigns")
        other = next(k for k, _ in app.screen.choices)
        app.screen.dismiss(other)
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM enrollments e JOIN campaigns k ON k.id = e.campaign_id"
                                         " WHERE k.name = ? AND e.contact_id = ?", other, contact)[0][0] == 1,
                    "enrolled in the other campaign")
        await pilot.press("p")  # the sequence with this lead's path
        await until(pilot, lambda: isinstance(app.screen, PathScreen), "the path")
        assert any("➤" in line.plain for line in app.screen.lines)
        await pilot.press("escape")
        await pilot.press("B")  # blocklist: the lead, or its company
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "what to block")
        assert [k for k, _ in app.screen.choices] == (["lead", "company"] if company else ["lead"])
        app.screen.dismiss("lead")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: q(ws, "SELECT kind, value FROM blocklist") == [("lead", str(contact))],
                    "the blocklist entry")
        await pilot.press("L")  # the contact list it came from
        await until(pilot, lambda: isinstance(app.screen, ContactsScreen), "the list")
        assert app.screen.flt.list_id is not None


@pytest.mark.asyncio
async def test_dashboard_marks_act_on_several_campaigns_and_ask(ws: Path) -> None:
    from tui.screens.dashboard import DashboardScreen

    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        await pilot.press("slash", *"fintech", "enter")  # Q4 Fintech CFOs (running); NYC fintech is under Paused
        await until(pilot, lambda: [r["name"] for r in screen.shown] == ["Q4 Fintech CFOs"], "the running one")
        await pilot.press("space", "4")  # marks stay across tabs: the paused one too
        await until(pilot, lambda: [r["status"] for r in screen.shown] == ["paused"], "the paused one")
        await pilot.press("space")
        assert len(screen.marked) == 2
        assert sum(name.startswith("● ") for name in cells(app)) == 1  # (the one shown on this tab)
        assert "2 marked" in plain(screen.query_one("#filter-line"))
        await pilot.press("m")  # both into one folder at once
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the folder prompt")
        app.screen.query_one("Input").value = ""
        await pilot.press(*"Fintech", "enter")
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM campaigns WHERE folder = 'Fintech'") == [(2,)],
                    "two campaigns moved")
        assert not screen.marked  # acted on: unmarked
        await pilot.press("space", "1")  # the paused one, then the running one: which, then confirmed
        await until(pilot, lambda: [r["status"] for r in screen.shown] == ["running"], "the Active tab")
        await pilot.press("space", "z")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "pause or resume")
        assert [k for k, _ in app.screen.choices] == ["pause", "resume"]
        app.screen.dismiss("pause")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        assert app.screen.title_text == "Pause 1 campaign?"
        await pilot.press("y")
        await until(pilot, lambda: q(ws, "SELECT count(*) FROM campaigns WHERE folder = 'Fintech'"
                                         " AND status = 'paused'") == [(2,)], "both paused")
        await pilot.press("4")  # both under Paused now
        await until(pilot, lambda: len(screen.shown) == 2, "the paused tab")
        await pilot.press("space", "V")  # the campaign's contacts in the Contacts screen
        await until(pilot, lambda: isinstance(app.screen, ContactsScreen), "the contacts")
        assert app.screen.flt.campaign_ids


@pytest.mark.asyncio
async def test_dashboard_filters_by_several_tags_and_a_custom_range(ws: Path) -> None:
    from tui.screens.dashboard import DashboardScreen
    from tui.screens.modals import MultiChoiceScreen

    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DashboardScreen)
        screen._pick_value("tags")
        await until(pilot, lambda: isinstance(app.screen, MultiChoiceScreen), "the tags")
        app.screen.dismiss(["saas", "logistics"])
        await until(pilot, lambda: screen.flt.tags == ("saas", "logistics"), "two tags")
        assert sorted(r["name"] for r in screen.shown) == ["Spain SaaS founders", "US logistics re-engage"]
        screen._pick_value("days")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "the date ranges")
        app.screen.dismiss("custom")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the range prompt")
        await pilot.press(*"2026-11-01..2026-11-30", "enter")
        await until(pilot, lambda: screen.flt.days == "custom", "the custom range")
        assert [r["name"] for r in screen.shown] == ["Spain SaaS founders"]
        assert "2026-11-01 – 2026-11-30" in plain(screen.query_one("#filter-line"))
