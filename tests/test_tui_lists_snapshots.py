"""Snapshot tests of the Lists screen at 80×24 and 160×48 (`--snapshot-update` to accept a change).

The seeded workspace gets a second list with a hostile name (markup, drawn literally) and tags; the
app reads the seeding's fixed time, so "Created" is stable.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from storage.contacts import ensure_list, set_list_tags
from storage.db import connect
from storage.workspace import open_workspace
from tests.tui_support import NOW, make, settle
from tui.app import EnginyApp


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    folder = make(tmp_path_factory.mktemp("snap-lists") / "ws")
    db = connect(folder / "enginy.db")
    fair = ensure_list(db, "Autumn fair [bold]2026[/]", now=NOW - timedelta(days=60), created_by="ana")
    db.execute("INSERT INTO list_members SELECT ?, id, ? FROM contacts ORDER BY id LIMIT 3", [fair, NOW.isoformat()])
    set_list_tags(db, "Autumn fair [bold]2026[/]", add=["q4", "events"])
    db.close()
    return folder


async def _lists(pilot) -> None:
    pilot.app.sub_title = "snapshot"
    await pilot.pause(0.2)
    await pilot.press("L")
    await settle(pilot)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_lists_screen(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    shutil.copytree(seeded, tmp_path / "ws")
    app = EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW)
    assert snap_compare(app, terminal_size=size, run_before=_lists)
