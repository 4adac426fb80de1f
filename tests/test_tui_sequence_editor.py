"""Pilot tests of the sequence tree editor: built by keys alone, undo/redo, the subtree
confirmation, the launch lock, saved as you go (a fresh app sees every change).

Steps' parameters are typed into the real step form (tui/screens/step_form.py) by keys.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from textual import events
from textual.widgets import Input, TextArea

from sequences.editing.commands import Where
from sequences.lock import HINT
from sequences.editing import SetDelay
from sequences.model import Delay, Sequence, from_json
from storage import campaigns as store
from storage.db import connect
from storage.workspace import open_workspace
from tests.test_sequences_editing import CALL, EXPECTED_DYNAMIC, HELLO, NOTE
from tests.tui_support import NOW, q, template_ws, until, ws  # noqa: F401 (fixtures)
from tui import app as tui_app
from tui.app import EnginyApp
from tui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen
from tui.screens.sequence_editor import ACTION_KINDS, CONDITION_KINDS, SequenceEditorScreen, parse_delay
from tui.screens.step_form import StepForm
from tui.widgets.sequence_tree import SequenceTree

SIZE = (120, 40)
ALL_KINDS = ACTION_KINDS + CONDITION_KINDS


def draft(ws: Path, name: str, template: str = "LinkedIn Only (New)") -> int:
    db = connect(ws / "enginy.db")
    try:
        identity = db.execute("SELECT id FROM identities ORDER BY id LIMIT 1").fetchone()[0]
        return store.create_campaign(db, identity=identity, template=template, name=name, now=NOW, actor="test")
    finally:
        db.close()


def stored(ws: Path, campaign_id: int) -> Sequence:
    return from_json(q(ws, "SELECT sequence FROM campaigns WHERE id = ?", campaign_id)[0][0])


class RecordingApp(EnginyApp):
    """The app, keeping what it told the user (refusals are notifications)."""

    CSS_PATH = str(Path(tui_app.__file__).with_name("app.tcss"))  # (relative paths resolve from here)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.said: list[str] = []

    def notify(self, message: str, **kwargs) -> None:  # type: ignore[override]
        self.said.append(message)
        super().notify(message, **kwargs)


def app_for(ws: Path) -> RecordingApp:
    return RecordingApp(open_workspace(ws), wall=lambda: NOW)


async def open_editor(pilot, name: str) -> SequenceEditorScreen:
    """Through the palette, as a user would: ':' then "Edit sequence of <name>"."""
    app = pilot.app
    await until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen", "the dashboard")
    await pilot.press("colon")
    await until(pilot, lambda: type(app.screen).__name__ == "CommandPalette", "the palette")
    await pilot.press(*f"Edit sequence of {name}")
    await pilot.pause(0.3)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(app.screen, SequenceEditorScreen), "the editor")
    return app.screen


def tree(pilot) -> SequenceTree:
    return pilot.app.screen.query_one(SequenceTree)


def drawn(widget: SequenceTree) -> str:
    """The tree's lines on screen, as text."""
    return "\n".join(widget.render_line(y).text for y in range(widget.scrollable_content_region.height))


async def goto(pilot, node: str | None) -> None:
    """Cursor on step `node` (None: Start) with g and j."""
    editor = pilot.app.screen
    keys = [r.node for r in tree(pilot).shown]
    await pilot.press("g", *["j"] * keys.index(node))
    await until(pilot, lambda: editor.row is not None and editor.row.node == node, f"the cursor on {node}")


async def pick(pilot, choices: list[str], choice: str) -> None:
    """In an open picker, move down to `choice` and take it."""
    await until(pilot, lambda: isinstance(pilot.app.screen, ChoiceScreen), "the picker")
    await pilot.press(*["j"] * choices.index(choice), "enter")
    await until(pilot, lambda: not isinstance(pilot.app.screen, ChoiceScreen), "the picker to close")


async def insert(pilot, key: str, kind: str, *, branch: Where | None = None) -> None:
    """`key` (a, c, y, n …) on the current row, then the kind (and the branch, when asked)."""
    pool = {"a": ACTION_KINDS, "A": ACTION_KINDS, "c": CONDITION_KINDS, "C": CONDITION_KINDS}.get(key, ALL_KINDS)
    count = len(pilot.app.screen.state.sequence.nodes)
    await pilot.press(key)
    if branch is not None:
        await pick(pilot, ["yes", "no"], branch)
    await pick(pilot, pool, kind)
    await until(pilot, lambda: len(pilot.app.screen.state.sequence.nodes) == count + 1, f"the new {kind}")


async def form(pilot, *keys: str) -> None:
    """enter on the step, `keys` typed into its form (the step form of tui/screens/step_form.py), ctrl+s.
    A '{' typed in a text opens the variables' completion; typing on narrows it and "}" closes it."""
    editor = pilot.app.screen
    before = editor.state.sequence
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, StepForm), "the step form")
    await pilot.pause()
    await pilot.press(*keys, "ctrl+s")
    await until(pilot, lambda: pilot.app.screen is editor and editor.state.sequence is not before, "the saved form")


async def paste(pilot, branch: Where | None = None) -> None:
    count = len(pilot.app.screen.state.sequence.nodes)
    await pilot.press("P")
    if branch is not None:
        await pick(pilot, ["yes", "no"], branch)
    await until(pilot, lambda: len(pilot.app.screen.state.sequence.nodes) > count, "the paste")


@pytest.mark.asyncio
async def test_the_spec_dynamic_sequence_built_with_keys_alone_is_what_is_stored(ws: Path) -> None:
    campaign = draft(ws, "Dynamic by keys")
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Dynamic by keys")
        # a fresh start: the template's steps go (D asks first)
        await goto(pilot, "visit")
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        await pilot.press("y")
        await until(pilot, lambda: editor.state.sequence == Sequence(), "an empty sequence")
        assert stored(ws, campaign) == Sequence()

        await goto(pilot, None)
        await insert(pilot, "c", "has_linkedin_profile")                       # n1, after Start
        await insert(pilot, "y", "visit_profile")                              # n2 into n1's Yes
        await insert(pilot, "c", "is_connection")                              # n3 after n2
        await insert(pilot, "y", "linkedin_message")                           # n4
        await form(pilot, *HELLO)
        await goto(pilot, "n3")
        await insert(pilot, "n", "connection_request")                         # n5 into n3's No
        await form(pilot, *NOTE)
        await insert(pilot, "c", "accepted_connection")                        # n6 after n5
        await form(pilot, "end", "backspace", "1", "5")
        await insert(pilot, "y", "linkedin_message")                           # n7
        await form(pilot, *"Thanks for connecting!", "ctrl+n", *HELLO)
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the delay prompt")
        await pilot.press("backspace", "1", "d", "enter")
        await until(pilot, lambda: editor.node("n7").delay == Delay(days=1), "the delay of n7")
        await goto(pilot, "n1")
        await insert(pilot, "n", "has_professional_email")                     # n8
        await insert(pilot, "y", "email")                                      # n9
        await form(pilot, *"Hello {first_name|there}", "tab", *HELLO)
        await insert(pilot, "c", "has_mobile_phone")                           # n10
        await insert(pilot, "y", "task")                                       # n11
        await form(pilot, *CALL, "tab", "enter", "home", "enter")
        await goto(pilot, "n8")
        await insert(pilot, "n", "has_mobile_phone")                           # n12
        await goto(pilot, "n11")
        await pilot.press("Y")                                                 # copy the call task
        await goto(pilot, "n12")
        await paste(pilot, "yes")                                              # n13
        await goto(pilot, "n8")
        await pilot.press("Y")                                                 # copy the email-then-call tail
        await goto(pilot, "n4")
        await paste(pilot)                                                     # n14–n19
        await goto(pilot, "n7")
        await paste(pilot)                                                     # n20–n25
        await goto(pilot, "n6")
        await paste(pilot, "no")                                               # n26–n31
        assert editor.state.sequence == EXPECTED_DYNAMIC
        assert not editor.save_error
    # what the workspace holds, read by another connection; and it launches as it is
    assert stored(ws, campaign) == EXPECTED_DYNAMIC
    db = connect(ws / "enginy.db")
    try:
        assert store.launch_campaign(db, campaign, now=NOW, actor="test")["status"] == "running"
    finally:
        db.close()


@pytest.mark.asyncio
async def test_undo_and_redo_walk_back_and_forth_and_each_step_is_saved(ws: Path) -> None:
    campaign = draft(ws, "Undo me")
    original = stored(ws, campaign)
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Undo me")
        await goto(pilot, "visit")
        await insert(pilot, "a", "email")
        await goto(pilot, "invite")
        await pilot.press("x")
        await until(pilot, lambda: "invite" not in {n.id for n in editor.state.sequence.nodes}, "the delete")
        edited = editor.state.sequence
        assert stored(ws, campaign) == edited
        await pilot.press("u")
        await until(pilot, lambda: len(editor.state.past) == 1, "one undo")
        await pilot.press("u")
        await until(pilot, lambda: editor.state.sequence == original, "back to the original")
        assert stored(ws, campaign) == original
        await pilot.press("u")  # nothing left: said, nothing changes
        await until(pilot, lambda: "nothing to undo" in app.said, "the refusal")
        await pilot.press("ctrl+r", "ctrl+r")
        await until(pilot, lambda: editor.state.sequence == edited, "redone")
        assert stored(ws, campaign) == edited
        assert editor.row is not None


@pytest.mark.asyncio
async def test_delete_subtree_asks_first_and_no_keeps_everything(ws: Path) -> None:
    campaign = draft(ws, "Careful")
    original = stored(ws, campaign)
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Careful")
        await goto(pilot, "accepted")
        await pilot.press("D")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")
        assert "accepted" in app.screen.title_text
        await pilot.press("n")
        await until(pilot, lambda: app.screen is editor, "back in the editor")
        assert editor.state.sequence == original and stored(ws, campaign) == original
        # a condition's delete asks which branch stays
        await pilot.press("x")
        await pick(pilot, ["yes", "no"], "no")
        await until(pilot, lambda: "accepted" not in {n.id for n in editor.state.sequence.nodes}, "the delete")
        assert "accepted" not in {n.id for n in stored(ws, campaign).nodes}


@pytest.mark.asyncio
async def test_a_launched_campaign_refuses_structure_with_the_lock_message_and_takes_delays(ws: Path) -> None:
    app = app_for(ws)
    original = stored(ws, 1)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Q4 Fintech CFOs")
        assert editor.state.locked
        assert "locked: texts and delays only" in str(editor.query_one("#editor-header").render())
        await goto(pilot, "invite")
        for keys in (["x"], ["K"], ["X"], ["D", "y"], ["a", "enter"]):
            await pilot.press(*keys)
            await pilot.pause(0.1)
            await until(pilot, lambda: app.screen is editor, "back in the editor")
        await until(pilot, lambda: len(app.said) >= 5, "five refusals")
        assert len(app.said) == 5 and all(m.endswith(HINT) for m in app.said), "\n".join(app.said)
        assert editor.state.sequence == original and stored(ws, 1) == original
        await pilot.press("d")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the delay prompt")
        await pilot.press("backspace", "2", "d", "space", "3", "h", "enter")
        await until(pilot, lambda: editor.node("invite").delay == Delay(days=2, hours=3), "the new delay")
    assert {n.id: n for n in stored(ws, 1).nodes}["invite"].delay == Delay(days=2, hours=3)


@pytest.mark.asyncio
async def test_saved_as_you_go_a_fresh_app_on_the_same_workspace_sees_the_change(ws: Path) -> None:
    campaign = draft(ws, "Keep me")
    async with app_for(ws).run_test(size=SIZE) as pilot:
        await open_editor(pilot, "Keep me")
        await goto(pilot, "msg1")
        await insert(pilot, "a", "task")
        await form(pilot, *"Call {first_name|them}")
    # the first app ends without any "save"; a second one opens the editor on what was stored
    async with app_for(ws).run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Keep me")
        task = next(n for n in editor.state.sequence.nodes if n.id == "n1")
        assert task.title == "Call {first_name|them}"
        assert any(r.node == "n1" and "Task" in r.label for r in tree(pilot).shown)
    assert stored(ws, campaign) == editor.state.sequence


@pytest.mark.asyncio
async def test_problems_show_on_the_row_the_moment_they_are_true_and_escape_goes_back(ws: Path) -> None:
    draft(ws, "Live checks")
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Live checks")
        await goto(pilot, "msg1")
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, StepForm), "the step form")
        # 2,104 characters: put into the chunk's text at once (typing them key by key takes minutes)
        app.screen.query_one(TextArea).text = "x" * 2104
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.screen is editor and len(editor.node("msg1").chunks[0]) == 2104, "the save")
        assert len(editor.node("msg1").chunks) > 1  # (the template's message has several chunks)
        row = next(r for r in tree(pilot).shown if r.node == "msg1")
        assert row.problems == ("chunk 1 too long 2,104/1,900",)
        assert "⚠ chunk 1 too long 2,104/1,900" in drawn(tree(pilot))
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is not editor, "back")
        assert type(app.screen).__name__ == "DashboardScreen"


def test_delays_typed_as_people_write_them() -> None:
    assert parse_delay("0") == parse_delay("asap") == parse_delay("") == Delay()
    assert parse_delay("2d 3h") == parse_delay("2 days 3 hours") == Delay(days=2, hours=3)
    assert parse_delay("5h") == Delay(hours=5) and parse_delay("4") == Delay(days=4)
    with pytest.raises(ValueError, match="not a delay: 'soon'"):
        parse_delay("soon")


@pytest.mark.asyncio
async def test_from_the_campaign_view_with_S_template_and_duplicate_and_a_click_selects(ws: Path) -> None:
    campaign = draft(ws, "Reach me")
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: type(app.screen).__name__ == "DashboardScreen", "the dashboard")
        app.open_campaign(campaign)
        await until(pilot, lambda: type(app.screen).__name__ == "CampaignScreen", "the campaign view")
        view = app.screen
        await pilot.press("S")
        await until(pilot, lambda: isinstance(app.screen, SequenceEditorScreen), "the editor")
        editor = app.screen
        assert editor.campaign["id"] == campaign
        # a click puts the cursor on a row (and opens nothing); a double click edits it
        row = (4, [r.node for r in tree(pilot).shown].index("accepted"))
        await pilot.click(SequenceTree, offset=row)
        await until(pilot, lambda: editor.row is not None and editor.row.node == "accepted", "the clicked row")
        await pilot.pause(0.1)
        assert app.screen is editor
        await pilot.double_click(SequenceTree, offset=row)
        await until(pilot, lambda: isinstance(app.screen, StepForm) and app.screen.node.id == "accepted", "the form")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is editor, "the form closed")
        await pilot.press("T")
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the template name prompt")
        await pilot.press("enter")
        await until(pilot, lambda: q(ws, "SELECT name FROM user_templates") == [("Reach me template",)], "the template")
        await pilot.press("ctrl+d")
        await until(pilot, lambda: q(ws, "SELECT status FROM campaigns WHERE name = 'Reach me (copy)'") == [("draft",)],
                    "the Draft copy")
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is view, "back in the campaign view")


@pytest.mark.asyncio
async def test_a_refused_save_says_why_and_keeps_the_edit_on_screen(ws: Path) -> None:
    campaign = draft(ws, "Archived under me")
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Archived under me")
        db = connect(ws / "enginy.db")
        try:
            store.archive_campaign(db, campaign, now=NOW, actor="someone else")
        finally:
            db.close()
        # the next command, before the app has seen the change: applied on screen, refused by the store
        assert editor.apply(SetDelay(node="msg2", delay=Delay(days=9)))
        assert editor.node("msg2").delay == Delay(days=9)
        assert "is archived" in editor.save_error and "not saved" in str(editor.query_one("#editor-header").render())
        assert any(m.startswith("Not saved: campaign 'Archived under me' is archived") for m in app.said)
    assert {n.id: n for n in stored(ws, campaign).nodes}["msg2"].delay != Delay(days=9)


def burst(app, *keys: str) -> None:
    """Keys as a terminal delivers them when typed fast, pasted, or sent in one SSH packet: all read
    before the first has been handled (Pilot's press waits for each key; this does not)."""
    for key in keys:
        app.post_message(events.Key("space" if key == " " else key, key if len(key) == 1 else None))


@pytest.mark.asyncio
async def test_keys_typed_ahead_of_a_prompt_go_into_the_prompt(ws: Path) -> None:
    """"d" and the delay typed at once: the prompt opens after the delay's keys were read. They were
    handed to the tree (the prompt kept "0", or lost letters). Now each key goes where the one before
    left the focus (tui/typeahead.py): a key after the enter that closes the prompt goes to the tree
    again, the app's Quit key typed for the prompt is text, and a backspace runs in its place."""
    campaign = draft(ws, "Typed ahead")
    app = app_for(ws)
    async with app.run_test(size=SIZE) as pilot:
        editor = await open_editor(pilot, "Typed ahead")
        await goto(pilot, "visit")
        rows = [r.node for r in tree(pilot).shown]
        below = rows[rows.index("visit") + 1]
        burst(app, "d", "backspace", *"2d 5h", "enter", "j")  # the j after the prompt has closed: the tree's
        await until(pilot, lambda: editor.node("visit").delay == Delay(days=2, hours=5), "the delay typed ahead")
        await until(pilot, lambda: editor.row is not None and editor.row.node == below, "the cursor moved by j")
        assert app.screen is editor and stored(ws, campaign).nodes[0].delay == Delay(days=2, hours=5)

        burst(app, "d", *"q1")  # the app's Quit key, typed for the prompt
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), "the delay prompt")
        field = app.screen.query_one(Input)
        await until(pilot, lambda: field.value == "q1", "q1 in the prompt")
        assert app.is_running
        burst(app, "backspace", "backspace", "a", "b", "backspace", "c")  # an Input's backspace is a binding
        await until(pilot, lambda: field.value == "ac", "the backspace in its place: ac")
