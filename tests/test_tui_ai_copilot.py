"""Copilot in the thread view (issue 15): `a` asks for a suggested reply, the runtime — a real detached
`python -m runtime` on the workspace — asks the AI test server (real HTTP on loopback), and the answer
opens in the reply editor to edit and send through the outbox. With no AI configured, it says so."""

from __future__ import annotations

import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from runtime.clock import wall_now
from runtime.lease import request_stop, spawn_background
from storage.db import connect
from storage.runtime_lease import runtime_alive
from storage.workspace import open_workspace
from tests.support.ai_replies import configure_ai
from tests.support.ai_server import start_ai_server
from tests.test_tui_conversations import seeded  # noqa: F401 — the module's seeded workspace
from tests.tui_support import NOW, q, until
from tui.app import EnginyApp
from tui.screens.conversations import ConversationsScreen, ReplyScreen, ThreadScreen

SUGGESTION = "Happy to walk you through pricing: would Thursday at 15:00 work?"


def _stop(ws: Path, pid: int) -> None:
    db = connect(ws / "enginy.db")
    try:
        request_stop(db)
    finally:
        db.close()
    for _ in range(100):
        if os.waitpid(pid, os.WNOHANG)[0]:
            return
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)


async def _open_thread(pilot, app) -> ThreadScreen:
    await pilot.press("M")
    await until(pilot, lambda: isinstance(app.screen, ConversationsScreen) and len(app.screen.rows) == 3, "inbox")
    await pilot.press("j", "j", "enter")  # the oldest: the email answer asking about pricing
    await until(pilot, lambda: isinstance(app.screen, ThreadScreen) and app.screen.data, "the thread")
    return app.screen


@pytest.mark.asyncio
async def test_copilot_suggests_a_reply_to_edit_and_send(seeded: Path, tmp_path: Path) -> None:  # noqa: F811
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
        app = EnginyApp(open_workspace(ws), wall=wall_now)
        async with app.run_test(size=(80, 24)) as pilot:
            thread = await _open_thread(pilot, app)
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
        prompt = ai.completions()[-1]["json"]["messages"][-1]["content"]
        assert "tell me more about pricing" in prompt  # the thread went to the AI
    finally:
        _stop(ws, pid)
        db.close()
        ai.stop()


@pytest.mark.asyncio
async def test_copilot_without_an_ai_says_so(seeded: Path, tmp_path: Path) -> None:  # noqa: F811
    shutil.copytree(seeded, tmp_path / "ws")
    app = EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        thread = await _open_thread(pilot, app)
        await pilot.press("a")
        assert "No AI provider is configured" in str(thread.query_one("#thread-report").render())
        assert q(tmp_path / "ws", "SELECT count(*) FROM ai_requests") == [(0,)]
