"""Connecting a Microsoft 365 / Google inbox from the identity screen, for real.

The app drives the runtime's sign-in (runtime/inbox_connect.py, handed over as
`enginy tui` does) against the project's authorization server over HTTP on
127.0.0.1 (tests/support/oauth_server.py), and the inbox is checked by logging
in to a real Dovecot + Postfix that ask the same server whether the token is
good (XOAUTH2). Nothing is mocked.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from textual.widgets import Input, OptionList, Static

from runtime.inbox_connect import InboxConnection
from storage.workspace import open_workspace
from tests.support.oauth_server import CLIENT_ID
from tests.test_email_oauth import auth, stack  # noqa: F401 (fixtures: the authorization server, a mail stack asking it)
from tests.test_tui_identities import open_identities
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.identity_config import IdentityConfigScreen
from tui.screens.inbox_connect import InboxConnectScreen
from tui.screens.modals import ChoiceScreen

pytestmark = pytest.mark.timeout(120)
SIZE = (80, 24)


@pytest.fixture
def workspace(ws: Path) -> Path:  # noqa: F811
    toml = ws / "enginy.toml"
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"'))
    return ws


def app_of(ws: Path) -> EnginyApp:
    return EnginyApp(open_workspace(ws), wall=lambda: NOW, connect_inbox=InboxConnection.of_fields)


def shown(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def open_dialog(pilot, provider: str, fields: dict[str, str]) -> InboxConnectScreen:
    """Identity screen → c → the provider → the form filled → enter."""
    if not isinstance(pilot.app.screen, IdentityConfigScreen):
        await open_identities(pilot)
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen) and pilot.app.screen.data,
                    "configuration open")
    await pilot.press("c")
    await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), "asked which provider")
    choices = pilot.app.screen.query_one(OptionList)
    choices.highlighted = next(i for i in range(choices.option_count) if choices.get_option_at_index(i).id == provider)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, InboxConnectScreen), "the sign-in dialog")
    dialog = pilot.app.screen
    for name, value in fields.items():
        dialog.query_one(f"#connect-{name}", Input).value = value
    dialog.query_one("#connect-email", Input).focus()
    await pilot.press("enter")
    return dialog


def servers(stack) -> dict[str, str]:  # noqa: F811
    return {"imap": f"{stack.host}:{stack.imap_port}", "smtp": f"{stack.host}:{stack.smtp_port}", "tls": "starttls",
            "ca_file": str(stack.ca_file)}


async def microsoft_code_shown(pilot, auth, stack, address: str) -> InboxConnectScreen:  # noqa: F811
    """The Microsoft 365 form filled for `address` on the local servers; the dialog once it shows the code."""
    dialog = await open_dialog(pilot, "microsoft", {"email": address, "client_id": CLIENT_ID, "tenant": "t1",
                                                    "authority": auth.base, **servers(stack)})
    await until(pilot, lambda: "Enter the code:" in shown(dialog, "#connect-steps"), "the code shown")
    return dialog


def user_code(dialog) -> str:
    return shown(dialog, "#connect-steps").split("Enter the code:")[1].split()[0]


@pytest.mark.asyncio
async def test_the_device_flow_connects_the_inbox_from_the_identity_screen(auth, stack, workspace) -> None:
    ana = stack.new_user("ana")
    async with app_of(workspace).run_test(size=SIZE) as pilot:
        dialog = await microsoft_code_shown(pilot, auth, stack, ana.address)
        assert f"{auth.base}/device" in shown(dialog, "#connect-steps")
        await until(pilot, lambda: "checked 1 time" in shown(dialog, "#connect-status"), "polling shown")
        auth.approve(user_code(dialog), ana.address)
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen), "the dialog closed")
        await until(pilot, lambda: any(ana.address in str(o.prompt) and "connected" in str(o.prompt)
                                       for o in pilot.app.screen.query_one(OptionList)._options), "shown connected")
    assert q(workspace, "SELECT provider, connected FROM inboxes WHERE email = ?", ana.address) == [("microsoft", 1)]
    assert (workspace / ".secrets").is_dir() and not any(t.encode() in (workspace / "enginy.db").read_bytes()
                                                         for t in auth.tokens_seen())


@pytest.mark.asyncio
async def test_a_declined_sign_in_says_approval_required_and_saves_nothing(auth, stack, workspace) -> None:
    bob = stack.new_user("bob")
    async with app_of(workspace).run_test(size=SIZE) as pilot:
        dialog = await microsoft_code_shown(pilot, auth, stack, bob.address)
        auth.deny(user_code(dialog))
        await until(pilot, lambda: "Approval required" in shown(dialog, "#connect-status"), "the refusal told")
        assert "Traceback" not in shown(dialog, "#connect-status")
        await pilot.press("enter")  # start again: the form as typed
        await until(pilot, lambda: dialog.phase == "form", "back to the form")
        assert dialog.query_one("#connect-email", Input).value == bob.address
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen), "closed")
    assert q(workspace, "SELECT count(*) FROM inboxes WHERE email = ?", bob.address) == [(0,)]


@pytest.mark.asyncio
async def test_google_takes_the_pasted_address_and_esc_cancels_a_device_sign_in(auth, stack, workspace) -> None:
    cy = stack.new_user("cy")
    auth.sign_in_as = cy.address
    async with app_of(workspace).run_test(size=SIZE) as pilot:
        dialog = await open_dialog(pilot, "google", {"email": cy.address, "client_id": CLIENT_ID,
                                                     "client_secret": "desktop-secret",
                                                     "authorize_url": f"{auth.base}/authorize",
                                                     "token_url": f"{auth.base}/token", **servers(stack)})
        await until(pilot, lambda: "/authorize?" in shown(dialog, "#connect-steps"), "the address to open")
        url = next(w for w in shown(dialog, "#connect-steps").replace("\n", " ").split() if "/authorize?" in w)
        landed = httpx.get(url).headers["location"]  # the browser on another machine ends here
        paste = dialog.query_one("#connect-paste", Input)
        paste.value = landed.replace("state=", "state=x")  # a wrong paste is told, the wait goes on
        await pilot.press("enter")
        await until(pilot, lambda: "state does not match" in shown(dialog, "#connect-status"), "wrong paste told")
        paste.value = landed
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen), "connected and closed")
        dialog = await microsoft_code_shown(pilot, auth, stack, "dee@example.test")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(pilot.app.screen, IdentityConfigScreen), "cancelled")
        await until(pilot, lambda: dialog.worker.is_finished, "the polling stopped")
    assert q(workspace, "SELECT provider, connected FROM inboxes WHERE email = ?", cy.address) == [("google", 1)]
