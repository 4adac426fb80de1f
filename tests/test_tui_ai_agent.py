"""The AI agent in the app (issue 15), against a real detached `python -m runtime` on the workspace (it is
what asks the AI: the app never does) and the AI test server (real HTTP on loopback): copilot in the
thread view — `a` asks for a suggested reply, which opens in the reply editor to edit and send through
the outbox — and the wizard's AI Agent step, where a reply typed as the sample lead shows what the AI
would answer under the prompt as typed. With no AI configured, the thread view says so."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import contextlib

import pytest
from textual.widgets import Input, TextArea

from runtime.clock import wall_now
from runtime.lease import spawn_background
from storage.db import connect
from storage.runtime_lease import runtime_alive
from storage.workspace import open_workspace
from tests.support.ai_replies import configure_ai, is_tagging
from tests.support.ai_server import start_ai_server
from tests.test_tui_conversations import seeded  # noqa: F401 — the module's seeded workspace
from tests.tui_support import NOW, q, until
from tui.app import EnginyApp
from tui.screens.conversations import ReplyScreen, ThreadScreen
from tui.screens.wizard import WizardScreen

SUGGESTION = "Happy to walk you through pricing: would Thursday at 15:00 work?"


def _stop(pid: int) -> None:
    """SIGTERM: the runtime stops cleanly on it (as on `enginy stop`); SIGKILL if it would not."""
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if os.waitpid(pid, os.WNOHANG)[0]:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


@contextlib.contextmanager
def runtime_and_ai(seeded: Path, tmp_path: Path):
    """A copy of the seeded workspace on the AI test server, with its runtime running detached."""
    ws = tmp_path / "ws"
    shutil.copytree(seeded, ws)
    ai = start_ai_server(key=None, answer=lambda request: SUGGESTION)
    configure_ai(ws, ai.url)
    db = connect(ws / "enginy.db")
    pid = spawn_background(ws)
    try:
        for _ in range(100):
            if runtime_alive(db, wall_now()):
                break
            time.sleep(0.1)
        yield ws, ai
    finally:
        _stop(pid)
        db.close()
        ai.stop()


async def _open_thread(pilot, app, ws: Path) -> ThreadScreen:
    """The email answer asking about pricing, opened as enter on it in the inbox opens it (a running
    runtime adds conversations meanwhile, so it is found by its text, not its place in the list)."""
    (cid,), = q(ws, "SELECT conversation_id FROM messages WHERE body LIKE '%about pricing%'")
    await pilot.pause(0.2)
    app.push_screen(ThreadScreen(app.ctx, cid))
    await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and app.screen.data, "the thread")
    return app.screen


def _asked(ai, text: str) -> list[str]:
    """The prompts of the answers asked for that carry `text` (the runtime may ask for tags meanwhile)."""
    return [m for r in ai.completions() if not is_tagging(r) and text in (m := r["json"]["messages"][-1]["content"])]


@pytest.mark.asyncio
async def test_copilot_suggests_a_reply_to_edit_and_send(seeded: Path, tmp_path: Path) -> None:  # noqa: F811
    with runtime_and_ai(seeded, tmp_path) as (ws, ai):
        app = EnginyApp(open_workspace(ws), wall=wall_now)
        async with app.run_test(size=(80, 24)) as pilot:
            thread = await _open_thread(pilot, app, ws)
            await pilot.press("a")
            assert "Asking the AI" in str(thread.query_one("#thread-report").render())
            await until(pilot, lambda: isinstance(app.screen, ReplyScreen) and app.screen.query("#reply-text"),
                        "the suggestion in the reply editor")
            editor = app.screen.query_one("#reply-text")
            assert editor.text == SUGGESTION
            editor.move_cursor(editor.document.end)
            await pilot.press(*" Or Friday.")
            await pilot.press("ctrl+s")
            await until(pilot, lambda: q(ws, "SELECT count(*) FROM outbox WHERE key LIKE 'reply:%'") == [(1,)], "queued")
        payload = q(ws, "SELECT payload FROM outbox WHERE key LIKE 'reply:%'")[0][0]
        assert f"{SUGGESTION} Or Friday." in (payload.decode() if isinstance(payload, bytes) else payload)
        assert _asked(ai, "tell me more about pricing")  # the thread went to the AI


@pytest.mark.asyncio
async def test_the_wizard_simulates_a_reply_as_the_lead(seeded: Path, tmp_path: Path) -> None:  # noqa: F811
    with runtime_and_ai(seeded, tmp_path) as (ws, ai):
        app = EnginyApp(open_workspace(ws), wall=wall_now)
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause(0.3)
            app.push_screen(WizardScreen(app.ctx, campaign_id=1))
            await until(pilot, lambda: isinstance(app.screen, WizardScreen), "the wizard")
            wizard = app.screen
            await wizard.action_goto("agent")
            preview = wizard.query_one("#agent-preview")
            await until(pilot, lambda: "Sample lead" in str(preview.render()), "the sample lead's conversation")
            (first_lead,), = q(ws, "SELECT k.first_name FROM enrollments e JOIN contacts k ON k.id = e.contact_id"
                                   " WHERE e.campaign_id = 1 ORDER BY e.id LIMIT 1")
            assert first_lead in str(preview.render())  # the campaign's first lead, its messages rendered
            wizard.query_one("#agent-prompt", TextArea).focus()
            await pilot.press(*"We sell Zebra CRM.", "tab")  # typed, not saved: the simulation uses it
            assert app.focused is wizard.query_one("#agent-simulate", Input)
            await pilot.press(*"How much does it cost?", "enter")
            assert "Asking the AI" in str(wizard.query_one("#agent-simulate-status").render())
            await until(pilot, lambda: "AI would answer" in str(preview.render()), "the AI's answer in the preview")
            assert SUGGESTION.split(":")[0] in str(preview.render())
        assert _asked(ai, "We sell Zebra CRM.") and "How much does it cost?" in _asked(ai, "We sell Zebra CRM.")[0]
        assert q(ws, "SELECT count(*) FROM outbox WHERE key LIKE 'reply:%'") == [(0,)]  # a simulation sends nothing


@pytest.mark.asyncio
async def test_copilot_without_an_ai_says_so(seeded: Path, tmp_path: Path) -> None:  # noqa: F811
    shutil.copytree(seeded, tmp_path / "ws")
    app = EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        thread = await _open_thread(pilot, app, tmp_path / "ws")
        await pilot.press("a")
        assert "No AI provider is configured" in str(thread.query_one("#thread-report").render())
        assert q(tmp_path / "ws", "SELECT count(*) FROM ai_requests") == [(0,)]
