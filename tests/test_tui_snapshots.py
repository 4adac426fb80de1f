"""Snapshot tests of the main views (pytest-textual-snapshot; `--snapshot-update` to accept a change).

The workspace is seeded at a fixed time and the app reads that time, so
relative dates and the sparkline are stable; the header's workspace path is
replaced because tmp paths differ per run.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from storage.workspace import open_workspace
from tests.tui_support import NOW, make
from tui.app import EnginyApp

SIZE = (120, 36)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("snap") / "ws")


def _app(seeded: Path, tmp_path: Path) -> EnginyApp:
    shutil.copytree(seeded, tmp_path / "ws")
    return EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW)


async def _stable(pilot) -> None:
    pilot.app.sub_title = "snapshot"
    for _ in range(3):
        await pilot.pause(0.2)


def test_dashboard(snap_compare, seeded: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=SIZE, run_before=_stable)


def test_campaign_overview(snap_compare, seeded: Path, tmp_path: Path) -> None:
    async def open_q4(pilot) -> None:
        await _stable(pilot)
        await pilot.press("slash", *"Q4", "enter", "enter")
        await _stable(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=SIZE, run_before=open_q4)


def test_audience_error_chip_with_side_panel(snap_compare, seeded: Path, tmp_path: Path) -> None:
    async def audience(pilot) -> None:
        await _stable(pilot)
        await pilot.press("slash", *"Q4", "enter", "enter")
        await _stable(pilot)
        await pilot.press("right_square_bracket", "4")
        await _stable(pilot)
        await pilot.press("enter")
        await _stable(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=SIZE, run_before=audience)
