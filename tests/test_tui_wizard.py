"""The Create Campaign wizard (tui/screens/wizard*.py), walked from the dashboard by keys alone.

Each test opens the real app on a copy of the seeded workspace, presses keys as
a user would, and reads the result back from the database with its own
connection: the Draft saved after step 1, the audience enrolled, the settings,
the schedule, the launch refused with its reasons.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from textual.widgets import Input, Select, Static

from storage.identities import create_identity
from storage.workspace import open_workspace
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.modals import ConfirmScreen
from tui.screens.wizard import WizardScreen
from tui.screens.wizard_finish import parse_schedule
from tui.screens.wizard_start import TemplateGallery

SIZE = (100, 40)


def app_on(ws) -> EnginyApp:
    return EnginyApp(open_workspace(ws), wall=lambda: NOW)


def shown(pilot, selector: str) -> str:
    return str(pilot.app.screen.query_one(selector, Static).render())


async def dashboard_ready(pilot) -> None:
    """The dashboard (keys pressed before it settles are tests/test_tui_start_keys.py's matter)."""
    app = pilot.app
    await until(pilot, lambda: app.screen.__class__.__name__ == "DashboardScreen", "the dashboard")


async def open_gallery(pilot) -> None:
    await dashboard_ready(pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(pilot.app.screen, TemplateGallery), "the gallery opened")


async def pick_template(pilot, name: str) -> WizardScreen:
    """In the gallery, move down (j) until `name` is highlighted, then enter."""
    await open_gallery(pilot)
    for _ in range(12):
        if name in shown(pilot, "#gallery-detail").splitlines()[0]:
            break
        await pilot.press("j")
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, WizardScreen), "the wizard opened")
    return pilot.app.screen


async def choose_identity(pilot, downs: int) -> None:
    """Tab from the name to the identity picker, open it, go down `downs` options, choose."""
    await pilot.press("tab", "enter", *["down"] * downs, "enter")
    await pilot.pause()


async def choose(pilot, wizard: WizardScreen, button: str) -> None:
    """On the Finish step: move through the choices with up (they wrap) until `button` is pressed by enter."""
    choices = wizard.query_one("#finish-choice")
    await until(pilot, lambda: pilot.app.focused is choices, "the choices focused")
    for _ in range(4):
        await pilot.press("enter")
        await pilot.pause()
        if choices.pressed_button.id == button:
            return
        await pilot.press("up")
    raise AssertionError(f"{button} never pressed")


async def to_step(pilot, wizard: WizardScreen, step: str, key: str = "ctrl+n") -> None:
    for _ in range(6):
        if wizard.step == step:
            return
        await pilot.press(key)
        await pilot.pause()
    assert wizard.step == step


@pytest.mark.asyncio
async def test_template_list_settings_schedule_and_launch_checks(ws) -> None:
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await pick_template(pilot, "Email Only")
        assert "Email" in shown(pilot, "#wiz-sequence")
        await pilot.press(*"Q1 founders")
        await choose_identity(pilot, 1)  # the first identity (the prompt is the blank option)
        await pilot.press("ctrl+n")  # saves the Draft, then the audience
        await until(pilot, lambda: wizard.step == "audience", "the audience step")
        (cid, status, identity_id), = q(ws, "SELECT id, status, identity_id FROM campaigns WHERE name = 'Q1 founders'")
        assert status == "draft" and identity_id == 1

        # Finish before any audience: the launch is refused with its reason, nothing changes
        await to_step(pilot, wizard, "finish")
        await choose(pilot, wizard, "finish-launch")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: "No audience" in shown(pilot, "#finish-problems"), "the launch checks")
        assert not isinstance(app.screen, ConfirmScreen)
        assert q(ws, "SELECT status FROM campaigns WHERE id = ?", cid) == [("draft",)]

        # the audience: the list "Demo leads" (enter on the highlighted list)
        await pilot.press("ctrl+b", "ctrl+b", "ctrl+b")
        await until(pilot, lambda: wizard.step == "audience", "back to the audience")
        await pilot.press(*"Demo")
        await until(pilot, lambda: len(wizard.query_one("#audience-step").lists) == 1, "the list filtered")
        await pilot.press("tab", "tab", "tab", "tab", "tab")  # sort, creator, date, tag → the lists
        assert app.focused is wizard.query_one("#list-options")
        await pilot.press("enter")
        (members,), = q(ws, "SELECT count(*) FROM list_members JOIN lists ON lists.id = list_id"
                            " WHERE name = 'Demo leads'")
        await until(pilot, lambda: f"{members} added of {members}" in shown(pilot, "#audience-report"),
                    "the list enrolled")
        assert q(ws, "SELECT count(*) FROM enrollments WHERE campaign_id = ?", cid) == [(members,)]

        # step 3: copilot and a prompt
        await pilot.press("ctrl+n")
        await until(pilot, lambda: wizard.step == "agent", "the AI agent step")
        assert "A reply stops" in shown(pilot, "#agent-note")
        assert "Sample lead" in shown(pilot, "#agent-preview")
        await pilot.press("down", "enter", "tab", *"Friendly, short.")
        # step 4: tags with completion, folder, tracking
        await pilot.press("ctrl+n")
        await until(pilot, lambda: wizard.step == "settings", "the settings step")
        await pilot.press(*"q4, fin", "right")  # completes "fintech" (a tag of the demo campaigns)
        assert wizard.query_one("#set-tags", Input).value == "q4, fintech"
        await pilot.press("tab", *"Outbound")
        await pilot.press("ctrl+n")
        await until(pilot, lambda: wizard.step == "finish", "the finish step")
        row = dict(zip(("tags", "folder", "settings"),
                       q(ws, "SELECT tags, folder, settings FROM campaigns WHERE id = ?", cid)[0]))
        assert json.loads(row["tags"]) == ["fintech", "q4"] and row["folder"] == "Outbound"
        settings = json.loads(row["settings"])
        assert settings["reply_handling"] == "copilot" and settings["ai_prompt"] == "Friendly, short."

        # schedule: a bad time is refused in one line, a good one converted and shown both ways
        await choose(pilot, wizard, "finish-schedule")
        inp = wizard.query_one("#finish-at", Input)
        await until(pilot, lambda: app.focused is inp, "choosing Schedule moves to the time box")
        await pilot.press(*"tomorrow 9am")
        assert "YYYY-MM-DD HH:MM" in shown(pilot, "#finish-at-check")
        at_local = (NOW + timedelta(days=2)).strftime("%Y-%m-%d") + " 09:00"
        inp.value = ""
        await pilot.press(*at_local)
        zone = q(ws, "SELECT timezone FROM identities WHERE id = 1")[0][0]
        expected = parse_schedule(at_local, zone, NOW).astimezone(timezone.utc)
        check = shown(pilot, "#finish-at-check")
        assert zone in check and expected.strftime("%Y-%m-%d %H:%M UTC") in check
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, WizardScreen | ConfirmScreen), "the wizard closed")
        status, scheduled = q(ws, "SELECT status, scheduled_at FROM campaigns WHERE id = ?", cid)[0]
        assert status == "scheduled"
        assert datetime.fromisoformat(scheduled) == expected


@pytest.mark.asyncio
async def test_launch_refused_for_identity_without_channels(ws) -> None:
    db = open_workspace(ws).open_db()
    create_identity(db, "Nobody Yet", now=NOW, actor="test")
    db.close()
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await pick_template(pilot, "LinkedIn + Email")
        await choose_identity(pilot, 4)  # the new, unconnected identity (4th)
        assert wizard.query_one("#wiz-identity", Select).value == 4
        await pilot.press("f6")
        await until(pilot, lambda: wizard.step == "finish", "the finish step")
        problems = shown(pilot, "#finish-problems")
        assert "No audience" in problems
        assert "Nobody Yet has no connected inbox for step email" in problems
        assert "Nobody Yet has no connected LinkedIn account" in problems
        await choose(pilot, wizard, "finish-launch")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, WizardScreen)
        assert q(ws, "SELECT status FROM campaigns WHERE identity_id = 4") == [("draft",)]


@pytest.mark.asyncio
async def test_from_scratch_to_a_draft_and_esc_asks(ws) -> None:
    before = q(ws, "SELECT count(*) FROM campaigns")[0][0]
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        await open_gallery(pilot)
        await pilot.press("enter")  # "From scratch" is first
        await until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard")
        wizard = app.screen
        # no identity yet: moving on is refused, nothing is written
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert wizard.step == "sequence" and q(ws, "SELECT count(*) FROM campaigns")[0][0] == before
        assert app.focused is wizard.query_one("#wiz-identity")  # sent to the identity picker
        # typed input and Esc: asked first; "n" stays
        await pilot.press("shift+tab", *"Scratch")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked before abandoning")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is wizard, "back in the wizard")
        assert wizard.query_one("#wiz-name", Input).value == "Scratch"
        await choose_identity(pilot, 2)
        await pilot.press("ctrl+n")
        await until(pilot, lambda: wizard.step == "audience", "the Draft saved")
        (name, status, seq), = q(ws, "SELECT name, status, sequence FROM campaigns WHERE name = 'Scratch'")
        assert status == "draft" and json.loads(seq)["nodes"] == []
        await pilot.press("f6")
        await until(pilot, lambda: "Sequence: the sequence has no steps" in shown(pilot, "#finish-problems"),
                    "the empty sequence named")
        await pilot.press("ctrl+s")  # "Leave it a Draft" is the default
        await until(pilot, lambda: not isinstance(app.screen, WizardScreen), "the wizard closed")
        assert q(ws, "SELECT status FROM campaigns WHERE name = 'Scratch'") == [("draft",)]


@pytest.mark.asyncio
async def test_edit_quick_action_on_a_running_campaign(ws) -> None:
    (cid, name, identity_id), = q(ws, "SELECT id, name, identity_id FROM campaigns WHERE status = 'running'"
                                      " ORDER BY id LIMIT 1")
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard_ready(pilot)
        dashboard = app.screen
        await until(pilot, lambda: dashboard.current_campaign() is not None, "the cards")
        while dashboard.current_campaign()["id"] != cid:
            await pilot.press("j")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard on the campaign")
        wizard = app.screen
        assert wizard.query_one("#wiz-name", Input).value == name
        assert wizard.query_one("#wiz-identity", Select).disabled  # launched: the identity is fixed
        assert "Launched" in shown(pilot, "#wiz-sequence")
        inp = wizard.query_one("#wiz-name", Input)
        inp.value = ""
        await pilot.press(*"Renamed")
        await pilot.press("f5")  # saves step 1 on the way
        await until(pilot, lambda: wizard.step == "settings", "the settings")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: wizard.step == "finish", "the finish step")
        assert "Already launched" in shown(pilot, "#finish-problems")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, WizardScreen), "saved and closed")
        assert q(ws, "SELECT name, status, identity_id FROM campaigns WHERE id = ?", cid) == [
            ("Renamed", "running", identity_id)]


@pytest.mark.asyncio
async def test_edit_from_the_campaign_view_and_archived_refused(ws) -> None:
    (cid,), = q(ws, "SELECT id FROM campaigns WHERE status = 'draft' ORDER BY id LIMIT 1")
    (archived,), = q(ws, "SELECT id FROM campaigns WHERE status = 'archived' ORDER BY id LIMIT 1")
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard_ready(pilot)
        await app.open_campaign(archived)
        await until(pilot, lambda: app.screen.__class__.__name__ == "CampaignScreen", "the campaign view")
        await pilot.press("ctrl+e")
        await pilot.pause()
        assert not isinstance(app.screen, WizardScreen)
        app.pop_screen()
        await app.open_campaign(cid)
        await until(pilot, lambda: app.screen.__class__.__name__ == "CampaignScreen", "the campaign view")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard on the draft")
        wizard = app.screen
        assert not wizard.query_one("#wiz-identity", Select).disabled  # a Draft may change identity
        await pilot.press("f3")
        await until(pilot, lambda: wizard.step == "audience", "the audience")
        # contacts one by one: the table, search, mark two, enter adds them
        wizard.query_one("#contact-search", Input).focus()
        await pilot.press("tab")
        table = wizard.query_one("#contact-table")
        await until(pilot, lambda: table.current is not None, "the contacts table")
        before = q(ws, "SELECT count(*) FROM enrollments WHERE campaign_id = ?", cid)[0][0]
        enrolled = {r[0] for r in q(ws, "SELECT contact_id FROM enrollments WHERE campaign_id = ?", cid)}
        fresh = [r for r in (table.row_at(i) for i in range(40)) if r is not None and r.id not in enrolled]
        while table.current.id != fresh[0].id:
            await pilot.press("j")
        await pilot.press("space")
        while table.current.id != fresh[1].id:
            await pilot.press("j")
        await pilot.press("space", "enter")
        await until(pilot, lambda: "2 added of 2" in shown(pilot, "#audience-report"), "two contacts enrolled")
        assert q(ws, "SELECT count(*) FROM enrollments WHERE campaign_id = ?", cid)[0][0] == before + 2


@pytest.mark.asyncio
async def test_removed_contact_is_never_readded_and_the_screen_says_so(ws) -> None:
    (cid,), = q(ws, "SELECT id FROM campaigns WHERE status = 'draft' ORDER BY id LIMIT 1")
    (contact,), = q(ws, "SELECT contact_id FROM enrollments WHERE campaign_id = ? ORDER BY id LIMIT 1", cid)
    import sqlite3
    conn = sqlite3.connect(ws / "enginy.db")
    conn.execute("UPDATE enrollments SET removed = 1 WHERE campaign_id = ? AND contact_id = ?", (cid, contact))
    conn.commit()
    conn.close()
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard_ready(pilot)
        app.push_screen(WizardScreen(app.ctx, campaign_id=cid))
        await until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard")
        wizard = app.screen
        await pilot.press("f3")
        await until(pilot, lambda: wizard.step == "audience", "the audience")
        wizard.query_one("#list-options").focus()
        await pilot.press("enter")
        await until(pilot, lambda: "1 removed from it before (never re-added)" in shown(pilot, "#audience-report"),
                    "the report names the removed contact")
        assert q(ws, "SELECT removed FROM enrollments WHERE campaign_id = ? AND contact_id = ?", cid, contact) == [(1,)]


def test_parse_schedule_in_the_identity_zone() -> None:
    at = parse_schedule("2026-12-01 09:00", "Europe/Paris", NOW)
    assert at.astimezone(timezone.utc) == datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
    with pytest.raises(ValueError, match="in the past"):
        parse_schedule("2026-11-01 09:00", "Europe/Paris", NOW)
    with pytest.raises(ValueError, match="YYYY-MM-DD HH:MM"):
        parse_schedule("next monday", "UTC", NOW)


@pytest.mark.asyncio
async def test_launch_now_from_the_palette_after_confirming(ws) -> None:
    """A ready Draft (the seeded one has an audience and a connected identity): Edit, then the
    palette's "Finish: launch now", ctrl+s, the confirmation (n keeps it a Draft, y launches)."""
    (cid,), = q(ws, "SELECT id FROM campaigns WHERE status = 'draft' ORDER BY id LIMIT 1")
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard_ready(pilot)
        app.push_screen(WizardScreen(app.ctx, campaign_id=cid))
        await until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard")
        wizard = app.screen
        await pilot.press("ctrl+p")  # (":" types a colon in the name box that has the focus)
        await pilot.press(*"launch now")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await until(pilot, lambda: wizard.step == "finish", "the palette chose the Finish step")
        assert wizard.query_one("#finish-choice").pressed_button.id == "finish-launch"
        assert "Ready to launch" in shown(pilot, "#finish-problems")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked first")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is wizard, "back in the wizard")
        assert q(ws, "SELECT status FROM campaigns WHERE id = ?", cid) == [("draft",)]
        await pilot.press("ctrl+s")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")
        await until(pilot, lambda: not isinstance(app.screen, WizardScreen | ConfirmScreen), "closed")
        assert q(ws, "SELECT status FROM campaigns WHERE id = ?", cid) == [("running",)]


@pytest.mark.asyncio
async def test_a_workspace_without_identity_says_so(tmp_path) -> None:
    from storage.workspace import init_workspace

    folder = init_workspace(tmp_path / "empty").dir
    app = app_on(folder)
    async with app.run_test(size=SIZE) as pilot:
        wizard = await pick_template(pilot, "Email Only")
        assert "no identity yet" in shown(pilot, "#wiz-identity-note")
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert wizard.step == "sequence" and q(folder, "SELECT count(*) FROM campaigns") == [(0,)]


@pytest.mark.asyncio
async def test_edit_sequence_opens_the_tree_editor_and_the_wizard_shows_its_change(ws) -> None:
    from tui.screens.sequence_editor import SequenceEditorScreen

    (cid,), = q(ws, "SELECT id FROM campaigns WHERE status = 'draft' ORDER BY id LIMIT 1")
    app = app_on(ws)
    async with app.run_test(size=SIZE) as pilot:
        await dashboard_ready(pilot)
        app.push_screen(WizardScreen(app.ctx, campaign_id=cid))
        await until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard")
        wizard = app.screen
        assert "email1" in shown(pilot, "#wiz-sequence")
        await pilot.press("ctrl+e")
        await until(pilot, lambda: isinstance(app.screen, SequenceEditorScreen), "the tree editor")
        assert app.screen.campaign["id"] == cid
        await pilot.press("g", "j", "x")  # delete the first step
        await until(pilot, lambda: "email1" not in q(ws, "SELECT sequence FROM campaigns WHERE id = ?", cid)[0][0],
                    "the editor saved the change")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is wizard, "back in the wizard")
        assert "email1" not in shown(pilot, "#wiz-sequence") and "email2" in shown(pilot, "#wiz-sequence")
