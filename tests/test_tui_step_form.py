"""The step form (tui/screens/step_form.py): every kind of step edited by keys alone.

A tiny app pushes the form the way the sequence editor does and keeps what it
dismisses with; the tests press keys as a user would and compare the node.
"""

from __future__ import annotations

from pathlib import Path

import msgspec
import pytest
from textual.app import App
from textual.widgets import Select, Static

import tui
from sequences import model as m
from sequences.limits import NOTE_MAX_CHARS
from storage.workspace import open_workspace
from tests.tui_support import NOW, q, settle, template_ws, until, ws  # noqa: F401 (fixtures)
from tui.app import EnginyApp
from tui.screens.modals import ConfirmScreen
from tui.screens.step_form import StepForm
from tui.widgets.chunks_field import ChunksField
from tui.widgets.file_field import FileField
from tui.widgets.message_field import MessageField

CUSTOM = ["industry", "team size"]
CAMPAIGNS = ["Nurture", "Q4 outreach"]
UNSET = object()
WAIT = m.Delay(days=2)


class Harness(App[None]):
    """Pushes one StepForm and keeps its result (UNSET while the form is open)."""

    CSS_PATH = str(Path(tui.__file__).parent / "app.tcss")

    def __init__(self, node: m.Node, *, locked: bool = False, campaigns: list[str] | None = None) -> None:
        super().__init__()
        self.node = node
        self.locked = locked
        self.campaigns = CAMPAIGNS if campaigns is None else campaigns
        self.result: object = UNSET

    def on_mount(self) -> None:
        form = StepForm(self.node, custom_fields=CUSTOM, locked=self.locked, campaigns=self.campaigns)
        self.push_screen(form, self._done)

    def _done(self, node: m.Node | None) -> None:
        self.result = node


def text_of(widget: Static) -> str:
    return str(widget.render())


async def opened(pilot) -> StepForm:
    await until(pilot, lambda: isinstance(pilot.app.screen, StepForm), "the form opened")
    await pilot.pause()
    return pilot.app.screen


async def saved(pilot) -> object:
    await pilot.press("ctrl+s")
    await until(pilot, lambda: pilot.app.result is not UNSET, "the form closed with a node")
    return pilot.app.result


@pytest.fixture
def mp3(tmp_path: Path) -> Path:
    file = tmp_path / "hello.mp3"
    file.write_bytes(b"ID3")
    return file


def _cases(tmp: Path) -> list[tuple[m.Node, list[str], dict]]:
    """(node, keys, the fields the saved node must have) for each of the 17 kinds."""
    doc = tmp / "deck.pdf"
    doc.write_bytes(b"%PDF")
    voice = tmp / "hi.m4a"
    voice.write_bytes(b"....")
    act = {"delay": WAIT, "next": "after"}
    cond = {"delay": WAIT, "yes": "y", "no": "n"}
    return [
        (m.VisitProfile(id="s", **act), [], {}),
        (m.ReactToPost(id="s", **act), ["enter", "down", "enter"], {"reaction": "celebrate"}),
        (m.ConnectionRequest(id="s", **act), [*"Hi ", "{", "f", "i", "enter", *"!"], {"note": "Hi {first_name}!"}),
        (m.LinkedInMessage(id="s", chunks=["a"], **act), ["end", "b"], {"chunks": ["ab"]}),
        (m.InMail(id="s", **act), [*"Hello", "tab", *"Body"], {"subject": "Hello", "body": "Body"}),
        (m.LinkedInAttachment(id="s", **act), [*"See", "tab", *str(doc)], {"text": "See", "file": str(doc)}),
        (m.VoiceMessage(id="s", **act), [*str(voice)], {"file": str(voice)}),
        (m.Email(id="s", **act), [*"Hi", "tab", *"Body"], {"subject": "Hi", "body": "Body"}),
        (m.Task(id="s", **act), [*"Call", "tab", "enter", "up", "enter"], {"title": "Call", "task_type": "other"}),
        (m.AddToCampaign(id="s", **act), ["enter", "down", "down", "enter"], {"campaign": "Q4 outreach"}),
        (m.AcceptedConnection(id="s", **cond), ["end", "backspace", *"14"], {"within_days": 14}),
        (m.IsConnection(id="s", **cond), [], {}),
        (m.HasBeenContacted(id="s", **cond), ["tab", *"30", "tab", "enter", "down", "enter"],
         {"within_days": 30, "channel": "email"}),
        (m.HasLinkedInProfile(id="s", **cond), [], {}),
        (m.HasProfessionalEmail(id="s", **cond), [], {}),
        (m.HasMobilePhone(id="s", **cond), [], {}),
        (m.CustomCondition(id="s", field="first_name", **cond), ["enter", "down", "enter", "tab", "tab", *"Ada"],
         {"field": "last_name", "value": "Ada"}),
    ]


def test_every_kind_has_a_case(tmp_path: Path) -> None:
    assert {m.kind_of(node) for node, _, _ in _cases(tmp_path)} == set(m.LABEL)


@pytest.mark.asyncio
@pytest.mark.parametrize("index", range(17), ids=list(m.LABEL))
async def test_each_kind_edited_with_keys_and_saved(index: int, tmp_path: Path) -> None:
    node, keys, changes = _cases(tmp_path)[index]
    app = Harness(node)
    async with app.run_test(size=(100, 40)) as pilot:
        await opened(pilot)
        await pilot.press(*keys)
        result = await saved(pilot)
    # the kind's fields changed; id, kind, delay and pointers are the input node's
    assert result == msgspec.structs.replace(node, **changes)


@pytest.mark.asyncio
async def test_live_count_warns_past_the_limit() -> None:
    app = Harness(m.ConnectionRequest(id="s", note="x" * (NOTE_MAX_CHARS - 1)))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        count = form.query_one("#field-note .count-line", Static)
        assert text_of(count) == "299/300"
        await pilot.press("a")  # (the cursor starts at the beginning of the text)
        await until(pilot, lambda: text_of(count) == "300/300", "the count followed the typing")
        await pilot.press("b", "c")
        await until(pilot, lambda: "302/300 ⚠ over by 2" in text_of(count), "the count warned past the limit")
        assert "note too long" not in text_of(form.query_one("#form-problems", Static))
        assert "302 characters; LinkedIn allows 300" in text_of(form.query_one("#form-problems", Static))
        result = await saved(pilot)  # an over-long text is saved: the tree shows the problem
    assert result.note == "abc" + "x" * 299


@pytest.mark.asyncio
async def test_completion_inserts_contact_and_custom_fields_and_flags_unknown_ones() -> None:
    app = Harness(m.Email(id="s"))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("tab")  # the body
        field = form.query_one("#field-body", MessageField)
        await pilot.press(*"Hi {")
        await until(pilot, lambda: field.completing, "the completion list opened on {")
        assert field.suggestions[0] == "first_name" and "custom.team size" in field.suggestions
        await pilot.press(*"fir", "tab")
        await until(pilot, lambda: field.text == "Hi {first_name}", "tab inserted {first_name}")
        assert not field.completing
        await pilot.press(*" at {ind")
        await until(pilot, lambda: field.suggestions == ["custom.industry"], "the list narrowed to the custom field")
        await pilot.press("enter")
        await until(pilot, lambda: field.text == "Hi {first_name} at {custom.industry}", "enter inserted it")
        await pilot.press(*" {comp", "escape")  # esc closes the list and leaves the text alone
        assert not field.completing and isinstance(app.screen, StepForm)
        await pilot.press(*"x}")
        count = field.query_one(".count-line", Static)
        await until(pilot, lambda: "unknown {compx}" in text_of(count), "the unknown variable was flagged")
        assert "unknown variable {compx}" in text_of(form.query_one("#form-problems", Static))


@pytest.mark.asyncio
async def test_chunks_added_reordered_and_removed_by_keys() -> None:
    node = m.LinkedInMessage(id="s", chunks=["one"], next="x")
    app = Harness(node)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        chunks = form.query_one(ChunksField)
        await pilot.press("ctrl+n", *"two", "ctrl+n", *"three")
        await until(pilot, lambda: chunks.texts == ["one", "two", "three"], "two chunks were added")
        labels = [text_of(f.query_one(".field-label")) for f in chunks.fields]
        assert labels == ["Chunk 1 of 3", "Chunk 2 of 3", "Chunk 3 of 3"]
        await pilot.press("alt+up", "alt+up")  # "three" goes first
        await until(pilot, lambda: chunks.texts == ["three", "one", "two"], "the chunk moved up twice")
        await pilot.press("alt+up")
        assert chunks.texts == ["three", "one", "two"]  # already first: nothing moves
        await pilot.press("ctrl+r")  # it has text: asks first
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "removing a chunk with text asked")
        await pilot.press("n")
        assert chunks.texts == ["three", "one", "two"]
        await pilot.press("ctrl+r")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")
        await until(pilot, lambda: chunks.texts == ["one", "two"], "the chunk was removed")
        assert text_of(chunks.fields[0].query_one(".field-label")) == "Chunk 1 of 2"
        await pilot.press("ctrl+n")  # an empty chunk is removed without a question
        await until(pilot, lambda: len(chunks.texts) == 3, "an empty chunk was added")
        await pilot.press("ctrl+r")
        await until(pilot, lambda: len(chunks.texts) == 2, "the empty chunk was removed")
        result = await saved(pilot)
    assert result == msgspec.structs.replace(node, chunks=["one", "two"])


@pytest.mark.asyncio
@pytest.mark.parametrize("what, expected", [
    ("missing", "no such file"), ("folder", "is a folder, not a file"), ("text", "is not an audio file"),
])
async def test_file_check_says_what_is_wrong_and_refuses_to_save(what: str, expected: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hi")
    path = {"missing": tmp_path / "nope.mp3", "folder": tmp_path, "text": tmp_path / "notes.txt"}[what]
    app = Harness(m.VoiceMessage(id="s"))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press(*str(path))
        check = form.query_one("#field-file .file-check", Static)
        await until(pilot, lambda: expected in text_of(check), f"the check said {expected!r}")
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET and isinstance(app.screen, StepForm)
        assert expected in text_of(form.query_one("#form-problems", Static))


@pytest.mark.asyncio
async def test_file_picker_fills_the_path(mp3: Path) -> None:
    app = Harness(m.VoiceMessage(id="s", file=str(mp3.parent / "missing.mp3")))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("ctrl+o")
        await until(pilot, lambda: type(app.screen).__name__ == "FilePicker", "the picker opened")
        await pilot.pause(0.3)
        await pilot.press("down", "enter")  # the root's first entry: hello.mp3
        await until(pilot, lambda: isinstance(app.screen, StepForm), "the picker returned")
        assert form.query_one(FileField).path == str(mp3)
        assert "readable" in text_of(form.query_one("#field-file .file-check", Static))
        result = await saved(pilot)
    assert result.file == str(mp3)


@pytest.mark.asyncio
async def test_locked_form_keeps_structure_read_only_and_refuses_a_structural_change() -> None:
    node = m.ReactToPost(id="s", reaction="like", next="x")
    app = Harness(node, locked=True)
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        select = form.query_one("#field-reaction Select", Select)
        assert select.disabled
        assert "locked" in text_of(form.query_one("#lock-line", Static))
        await pilot.press("enter", "down", "enter")
        assert select.value == "like"
        select.disabled = False  # (as if a key got through) the save itself refuses the change
        select.value = "love"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET and isinstance(app.screen, StepForm)


@pytest.mark.asyncio
async def test_locked_form_still_edits_texts_and_the_acceptance_wait() -> None:
    node = m.AcceptedConnection(id="s", within_days=7, yes="a", no="b")
    app = Harness(node, locked=True)
    async with app.run_test(size=(100, 40)) as pilot:
        await opened(pilot)
        await pilot.press("end", "backspace", *"10")
        result = await saved(pilot)
    assert result == msgspec.structs.replace(node, within_days=10)


@pytest.mark.asyncio
@pytest.mark.parametrize("typed, why", [("-3", "from 1 to 90"), ("0", "from 1 to 90"), ("", "from 1 to 90"),
                                         ("120", "from 1 to 90")])
async def test_structurally_invalid_numbers_are_refused(typed: str, why: str) -> None:
    app = Harness(m.AcceptedConnection(id="s"))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("end", "backspace", *typed)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET
        assert why in text_of(form.query_one("#form-problems", Static))


@pytest.mark.asyncio
async def test_an_empty_required_choice_is_refused() -> None:
    app = Harness(m.AddToCampaign(id="s"), campaigns=[])
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.result is UNSET
        assert "choose one (the workspace has no other campaign yet)" in text_of(form.query_one("#form-problems", Static))


@pytest.mark.asyncio
async def test_cancel_returns_none_and_asks_before_discarding() -> None:
    app = Harness(m.Email(id="s", subject="Hi"))
    async with app.run_test(size=(100, 40)) as pilot:
        await opened(pilot)
        await pilot.press("escape")  # nothing changed: closes at once
        await until(pilot, lambda: app.result is None, "esc closed the form with None")
    app = Harness(m.Email(id="s", subject="Hi"))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("end", "!", "escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "esc asked before discarding")
        await pilot.press("n")
        await until(pilot, lambda: app.screen is form, "n went back to the form")
        assert form.query_one("#field-subject", MessageField).text == "Hi!"
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ConfirmScreen), "asked again")
        await pilot.press("y")
        await until(pilot, lambda: app.result is None, "y discarded the changes")


@pytest.mark.asyncio
async def test_preview_renders_for_the_sample_lead_and_marks_missing_variables() -> None:
    app = Harness(m.Email(id="s", subject="For {company}", body="Hi {first_name}, {custom.industry} {x|ok}"))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("f2")
        preview = form.query_one("#form-preview-text", Static)
        await until(pilot, lambda: "For Northwind" in text_of(preview), "the preview rendered the subject")
        shown = text_of(preview)
        assert "Hi Alex, {custom.industry} ok" in shown
        assert "no value for {custom.industry}" in shown
        await pilot.press("end", *"!")
        await until(pilot, lambda: "For Northwind!" in text_of(preview), "the preview followed the typing")


# --- how it looks ---------------------------------------------------------------------

EMAIL = m.Email(id="e1", subject="Quick question, {first_name}",
                body="Hi {first_name|there},\n\nI saw {company} is hiring.\nWorth a chat?\n\n— Sam", next="x")
MESSAGE = m.LinkedInMessage(id="m1", chunks=["hi {first name}", "sorry for the direct approach — just wondering",
                                             "if it's not a fit, no worries"])


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("node", [EMAIL, MESSAGE], ids=["email", "linkedin_message"])
def test_snapshot(snap_compare, node: m.Node, size: tuple[int, int]) -> None:
    async def steady(pilot) -> None:
        await settle(pilot, rounds=2)

    assert snap_compare(Harness(node), terminal_size=size, run_before=steady)


@pytest.mark.asyncio
async def test_in_the_app_the_targets_are_the_workspace_campaigns_and_q_does_not_quit(ws: Path) -> None:
    names = sorted((r[0] for r in q(ws, "SELECT name FROM campaigns WHERE status != 'archived'")), key=str.casefold)
    app = EnginyApp(open_workspace(ws), wall=lambda: NOW)
    results: list[object] = []
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.push_screen(StepForm(m.AddToCampaign(id="s"), custom_fields=[], locked=False), results.append)
        form = await opened(pilot)
        select = form.query_one("#field-campaign Select", Select)
        assert [value for _, value in select._options[1:]] == names and names
        await pilot.press("q")  # on a Select: the app's quit key must not lose the form
        await pilot.pause()
        assert app.is_running and app.screen is form
        await pilot.press("enter", "down", "enter", "ctrl+s")
        await until(pilot, lambda: results, "the form closed")
    assert results == [m.AddToCampaign(id="s", campaign=names[0])]


@pytest.mark.asyncio
async def test_workspace_names_are_shown_literally() -> None:
    evil = "[bold red]Evil[/] Corp"
    app = Harness(m.AddToCampaign(id="s", campaign=evil), campaigns=[evil, "Nurture"])
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        current = form.query_one("#field-campaign SelectCurrent")
        assert evil in text_of(current.query_one("#label", Static))
        result = await saved(pilot)
    assert result.campaign == evil
