"""Snapshots of the wizard's start and of each step, at 80×24 and 160×48 (`--snapshot-update` to accept).

The wizard is opened with Edit on the seeded workspace's first Draft (so every
step has data and nothing depends on a creation time), and the gallery from
the dashboard's `n`; the app reads the fixed seeding time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_tui_snapshots import _app, seeded  # noqa: F401 (the seeded workspace fixture)
from tests.tui_support import q, settle
from tui.screens.wizard import WizardScreen
from tui.screens.wizard_start import TemplateGallery

SIZES = {"80x24": (80, 24), "160x48": (160, 48)}


async def _settle(pilot) -> None:
    await settle(pilot, rounds=4)
    pilot.app.clear_notifications()
    await pilot.pause(0.1)


def _on_step(step: str, draft_id: int):
    async def run_before(pilot) -> None:
        await pilot.pause(0.3)
        pilot.app.push_screen(WizardScreen(pilot.app.ctx, campaign_id=draft_id))
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(pilot.app.screen, WizardScreen):
                break
        await pilot.app.screen.action_goto(step)
        await _settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("step", ["sequence", "audience", "agent", "settings", "finish"])
def test_wizard_step(snap_compare, seeded: Path, tmp_path: Path, step: str, size: str) -> None:
    (draft_id,), = q(seeded, "SELECT id FROM campaigns WHERE status = 'draft' ORDER BY id LIMIT 1")
    assert snap_compare(_app(seeded, tmp_path), terminal_size=SIZES[size], run_before=_on_step(step, draft_id))


@pytest.mark.parametrize("size", SIZES)
def test_template_gallery(snap_compare, seeded: Path, tmp_path: Path, size: str) -> None:
    async def run_before(pilot) -> None:
        await pilot.pause(0.3)
        await pilot.press("n")
        for _ in range(100):
            await pilot.pause(0.05)
            if isinstance(pilot.app.screen, TemplateGallery):
                break
        await pilot.press("j", "j")
        await _settle(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=SIZES[size], run_before=run_before)
