"""Snapshot tests of the main views (pytest-textual-snapshot; `--snapshot-update` to accept a change).

The workspace is seeded at a fixed time and the app reads that time, so
relative dates and the sparkline are stable; the header's workspace path is
replaced because tmp paths differ per run.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from storage.workspace import open_workspace
from tests.tui_support import NOW, make, settle
from tui.app import EnginyApp



@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    return make(tmp_path_factory.mktemp("snap") / "ws")


def _app(seeded: Path, tmp_path: Path) -> EnginyApp:
    shutil.copytree(seeded, tmp_path / "ws")
    return EnginyApp(open_workspace(tmp_path / "ws"), wall=lambda: NOW)


async def _stable(pilot) -> None:
    await settle(pilot)


SIZES = pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])


async def _open_q4(pilot, *keys: str) -> None:
    await _stable(pilot)
    await pilot.press("slash", *"Q4", "enter", "enter")
    await _stable(pilot)
    if keys:
        await pilot.press(*keys)
        await _stable(pilot)


@SIZES
def test_dashboard(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=_stable)


@SIZES
def test_dashboard_help(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    async def help_screen(pilot) -> None:
        await _stable(pilot)
        await pilot.press("question_mark")
        await _stable(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=help_screen)


@SIZES
def test_campaign_overview(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=_open_q4)


@SIZES
def test_audience_error_chip_with_side_panel(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    async def audience(pilot) -> None:
        await _open_q4(pilot, "right_square_bracket", "4")
        await pilot.press("enter")
        await _stable(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=audience)


@SIZES
def test_activity(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    async def activity(pilot) -> None:
        await _open_q4(pilot, "right_square_bracket", "right_square_bracket")

    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=activity)


def _draft_with_problems(ws: Path) -> None:
    """A Draft from "Conditional multichannel" (five levels of branches) whose first message is
    too long and with a new, empty email: the rows carry their problems."""
    from sequences.editing import EditorState, Insert, SetParams
    from sequences.templates import find_template
    from storage import campaigns as store
    from storage.db import connect

    db = connect(ws / "enginy.db")
    try:
        seq = find_template("Conditional multichannel").sequence
        campaign = store.create_campaign(db, identity=1, sequence=seq, name="Branchy draft", now=NOW, actor="t")
        first = next(n for n in seq.nodes if n.id == seq.start)
        state = EditorState.open(seq).apply(Insert(kind="email", anchor=first.id, where="yes"))
        message = next(n for n in state.sequence.nodes if type(n).__name__ == "LinkedInMessage")
        state = state.apply(SetParams(node=type(message)(id=message.id, chunks=["x" * 2104])))
        store.save_edited_sequence(db, campaign, state.sequence, now=NOW, actor="t")
    finally:
        db.close()


async def _editor_of(pilot, name: str) -> None:
    await _stable(pilot)
    await pilot.press("colon", *f"Edit sequence of {name}")
    await _stable(pilot)
    await pilot.press("enter")
    await _stable(pilot)


def test_sequence_editor_locked_at_80x24(snap_compare, seeded: Path, tmp_path: Path) -> None:
    async def editor(pilot) -> None:
        await _editor_of(pilot, "Q4 Fintech CFOs")
        await pilot.press("j", "j", "j")
        await _stable(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=(80, 24), run_before=editor)


def test_sequence_editor_draft_with_problems_at_160x48(snap_compare, seeded: Path, tmp_path: Path) -> None:
    app = _app(seeded, tmp_path)
    _draft_with_problems(tmp_path / "ws")

    async def editor(pilot) -> None:
        await _editor_of(pilot, "Branchy draft")
        await pilot.press("j", "j")
        await _stable(pilot)

    assert snap_compare(app, terminal_size=(160, 48), run_before=editor)


def _identities(then: tuple[str, ...] = ()):
    async def steps(pilot) -> None:
        await _stable(pilot)
        await pilot.press("i")
        await _stable(pilot)
        if then:
            await pilot.press(*then)
            await _stable(pilot)

    return steps


def test_identities_at_80x24(snap_compare, seeded: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=(80, 24), run_before=_identities())


def test_identities_at_160x48(snap_compare, seeded: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=(160, 48), run_before=_identities())


def test_identity_configuration_at_80x24(snap_compare, seeded: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=(80, 24), run_before=_identities(("enter", "j", "j")))


def test_identity_configuration_at_160x48(snap_compare, seeded: Path, tmp_path: Path) -> None:
    assert snap_compare(_app(seeded, tmp_path), terminal_size=(160, 48), run_before=_identities(("enter",)))


@SIZES
def test_contacts_screen(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    async def contacts(pilot) -> None:
        await _stable(pilot)
        await pilot.press("C")
        await _stable(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=contacts)


@SIZES
def test_import_mapping(snap_compare, seeded: Path, tmp_path: Path, size) -> None:
    from tui.screens.import_contacts import ImportScreen

    # relative, as a user types it: the snapshot must not hold the checkout's own path
    export = os.path.relpath(Path(__file__).parent / "data" / "exports" / "linkedin_connections.csv")

    async def mapping(pilot) -> None:
        from textual.widgets import Select

        from tests.tui_support import until

        await _stable(pilot)
        await pilot.app.push_screen(ImportScreen(pilot.app.ctx, str(export)))
        screen = pilot.app.screen
        await until(pilot, lambda: screen.found is not None and screen.query("#map-6")
                    and screen.query_one("#map-6", Select).value == "custom", "the columns as detected")
        await _stable(pilot)

    assert snap_compare(_app(seeded, tmp_path), terminal_size=size, run_before=mapping)
