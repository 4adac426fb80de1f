"""The identity screen's share link (L, also in the palette): a live one-time link is made and shown."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from storage.share_links import ROUTE, open_link
from storage.workspace import open_workspace
from tests.test_tui_identities import SIZE, app_of
from tests.test_tui_identity_lifecycle import configure_first
from tests.tui_support import template_ws, until, ws  # noqa: F401 (fixtures)
from tui.screens.modals import NoticeScreen


@pytest.mark.asyncio
async def test_the_key_shows_a_link_that_opens_the_page(ws: Path) -> None:
    async with app_of(ws).run_test(size=SIZE) as pilot:
        config = await configure_first(pilot)
        await pilot.press("L")
        await until(pilot, lambda: isinstance(pilot.app.screen, NoticeScreen), "the link shown")
        url = str(pilot.app.screen.detail).split()[0]
    path = "/" + url.split("/", 3)[3]
    link_id, secret = ROUTE.match(path).groups()
    db = open_workspace(ws).open_db()
    link = open_link(db, int(link_id), secret, datetime.fromisoformat(db.execute(
        "SELECT created_at FROM share_links").fetchone()[0]))
    assert link["identity_id"] == config.identity_id and url.startswith("http://127.0.0.1:8025/s/")
    db.close()
