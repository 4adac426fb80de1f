"""Pilot tests of the identity actions that go through the runtime: bulk withdrawal (a request),
likings opt-out, one disconnect, the HTML signature preview, and deleting an identity."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import OptionList

from storage.workspace import open_workspace
from tests.test_tui_identities import SIZE, app_of, ask_to_disconnect, open_identities, open_setting
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.screens.identities import IdentitiesScreen
from tui.screens.identity_config import IdentityConfigScreen
from tui.screens.modals import ConfirmScreen


def prompts(screen) -> list[str]:
    options = screen.query_one(OptionList)
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def configure_first(pilot) -> IdentityConfigScreen:
    await open_identities(pilot)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                "configuration open")
    return pilot.app.screen


def pending_invitations(ws: Path, identity_id: int, n: int) -> None:
    db = open_workspace(ws).open_db()
    for i in range(n):
        db.execute("INSERT INTO linkedin_invitations (identity_id, provider_id, state, sent_at, updated_at)"
                   " VALUES (?, ?, 'pending', ?, ?)", [identity_id, f"ACo{i}", f"2026-11-0{i + 1}T10:00:00+00:00",
                                                       NOW.isoformat()])
    db.execute("INSERT INTO linkedin_invitations (identity_id, provider_id, public_id, state, sent_at, withdrawn_at,"
               " withdrawn_by, updated_at) VALUES (?, 'ACoW', 'old-friend', 'withdrawn', '2026-10-01T10:00:00+00:00',"
               " '2026-10-25T10:00:00+00:00', 'auto', ?)", [identity_id, NOW.isoformat()])
    db.close()


@pytest.mark.asyncio
async def test_bulk_withdraw_is_confirmed_with_the_count_and_written_for_the_runtime(ws: Path) -> None:
    identity_id = q(ws, "SELECT id FROM identities ORDER BY name")[0][0]
    pending_invitations(ws, identity_id, 3)
    async with app_of(ws).run_test(size=SIZE) as pilot:
        config = await configure_first(pilot)
        shown = "\n".join(prompts(config))
        assert "2026-10-25 · auto · old-friend" in shown  # the history
        await pilot.press("W")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "asked first")
        assert pilot.app.screen.title_text == "Withdraw 3 pending invitations?"
        assert "3 weeks" in str(pilot.app.screen.detail)
        await pilot.press("y")
        await until(pilot, lambda: q(ws, "SELECT COUNT(*) FROM linkedin_invitations WHERE identity_id = ?"
                                         " AND withdraw_requested_at IS NOT NULL", identity_id)[0][0] == 3, "requested")
        await until(pilot, lambda: any("3 asked to withdraw" in p for p in prompts(config)), "shown as asked")
        await pilot.press("W")  # asked already: nothing to confirm again
        await pilot.pause(0.2)
        assert pilot.app.screen is config


@pytest.mark.asyncio
async def test_likings_opt_out_toggles_and_the_html_signature_is_previewed_escaped(ws: Path) -> None:
    identity_id = q(ws, "SELECT id FROM identities ORDER BY name")[0][0]
    db = open_workspace(ws).open_db()
    db.execute("UPDATE inboxes SET signature_html = ? WHERE identity_id = ?",
               ["<p><b>[bold red]Ana[/]</b> &amp; co<br>\x1b[2J<a href='https://acme.example'>Acme</a></p>"
                "<style>p {color: red}</style>", identity_id])
    db.close()
    async with app_of(ws).run_test(size=SIZE) as pilot:
        config = await configure_first(pilot)
        shown = prompts(config)
        assert any(p.rstrip().endswith("[bold red]Ana[/] & co") and "HTML preview" in p for p in shown)
        assert any("\ufffd[2JAcme (https://acme.example)" in p for p in shown)  # escape shown, not obeyed
        assert not any("color" in p for p in shown)
        await open_setting(pilot, "likings_opt_out")
        await until(pilot, lambda: q(ws, "SELECT likings_opt_out FROM identities WHERE id = ?",
                                     identity_id)[0][0] == 1, "opted out")
        await until(pilot, lambda: any("Likings opt-out" in p and " on " in p for p in prompts(config)), "shown on")
        await pilot.press("u")
        await until(pilot, lambda: q(ws, "SELECT likings_opt_out FROM identities WHERE id = ?",
                                     identity_id)[0][0] == 0, "undone")


@pytest.mark.asyncio
async def test_disconnect_names_the_leads_and_asks_the_runtime_to_forget_the_password(ws: Path) -> None:
    async with app_of(ws).run_test(size=SIZE) as pilot:
        config = await configure_first(pilot)
        inbox_id = config.data.inboxes[0]["id"]
        db = open_workspace(ws).open_db()
        db.execute("UPDATE enrollments SET inbox_id = ?, status = 'in_progress' WHERE id = (SELECT MIN(id) FROM"
                   " enrollments WHERE campaign_id IN (SELECT id FROM campaigns WHERE identity_id = ?))",
                   [inbox_id, config.identity_id])
        db.close()
        await ask_to_disconnect(pilot, inbox_id)
        detail = str(pilot.app.screen.detail)
        assert "Warning: If you disconnect" in detail and "Leads mid-sequence on this inbox" in detail
        assert "password is forgotten" in detail
        await pilot.press("y")
        await until(pilot, lambda: q(ws, "SELECT connected FROM inboxes WHERE id = ?", inbox_id)[0][0] == 0,
                    "disconnected")
        assert q(ws, "SELECT name FROM secret_purges") == [(f"inbox-{inbox_id}",)]


@pytest.mark.asyncio
async def test_delete_from_the_list_and_from_the_configuration(ws: Path) -> None:
    names = [r[0] for r in q(ws, "SELECT name FROM identities ORDER BY name")]
    async with app_of(ws).run_test(size=SIZE) as pilot:
        screen = await open_identities(pilot)
        await pilot.press("D")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "asked first")
        detail = str(pilot.app.screen.detail)
        assert "The campaign will lose that identity." in detail and "campaign #" in detail
        await pilot.press("n")
        await until(pilot, lambda: pilot.app.screen is screen, "declined")
        assert len(q(ws, "SELECT id FROM identities")) == len(names)
        await pilot.press("D", "y")
        await until(pilot, lambda: [r.stats.name for r in screen.rows] == names[1:], "the first one is gone")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                    "configuration of the next one")
        await pilot.press("D")
        await until(pilot, lambda: isinstance(pilot.app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentitiesScreen)
                    and [r.stats.name for r in pilot.app.screen.rows] == names[2:], "back on the list, deleted")
        assert q(ws, "SELECT name FROM identities ORDER BY name") == [(n,) for n in names[2:]]
