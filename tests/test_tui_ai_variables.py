"""AI variables in the app: the step form completes them, flags one without a prompt, makes a
message "Generate with AI" (ctrl+g), and previews the text a lead of the campaign got; the
wizard's AI Agent step edits the campaign's prompts."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.app import App, ComposeResult
from textual.widgets import Static, TextArea

import tui
from sequences import model as m
from sequences.render import LeadData
from storage.ai_variables import prompts_of
from storage.campaigns import CampaignError, create_campaign, get_campaign
from storage.db import open_db
from tests.support.seed import sandbox_identity
from tests.tui_support import NOW, until
from tui.screens.modals import ChoiceScreen
from tui.screens.step_form import StepForm
from tui.screens.wizard_settings import AgentStep
from tui.widgets.message_field import MessageField

UNSET = object()
SAMPLE = LeadData(first_name="Zoë", last_name="Ng", company="Acme", job_title="CTO")


class Harness(App[None]):
    CSS_PATH = str(Path(tui.__file__).parent / "app.tcss")

    def __init__(self, node: m.Node, **form) -> None:
        super().__init__()
        self.node, self.form, self.result = node, form, UNSET

    def on_mount(self) -> None:
        self.push_screen(StepForm(self.node, custom_fields=[], locked=False, **self.form),
                         lambda node: setattr(self, "result", node))


async def opened(pilot) -> StepForm:
    await until(pilot, lambda: isinstance(pilot.app.screen, StepForm), "the form opened")
    await pilot.pause()
    return pilot.app.screen


@pytest.mark.asyncio
async def test_the_form_completes_ai_variables_and_flags_one_without_a_prompt() -> None:
    app = Harness(m.Email(id="e1", subject="Hi"), ai_variables=("opener", "ps"))
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("tab")  # the body
        field = form.query_one("#field-body", MessageField)
        await pilot.press(*"Hi {ai: op")
        await until(pilot, lambda: field.suggestions == ["ai: opener"], "the list narrowed to the AI variable")
        await pilot.press("tab")
        await until(pilot, lambda: field.text == "Hi {ai: opener}", "tab inserted it")
        await pilot.press(*" {ai: closing}")
        count = field.query_one(".count-line", Static)
        await until(pilot, lambda: "no prompt for {ai: closing}" in str(count.render()), "flagged")
        assert "unknown" not in str(count.render())


@pytest.mark.asyncio
async def test_generate_with_ai_makes_the_message_one_ai_variable_and_the_preview_shows_a_leads_text() -> None:
    node = m.LinkedInMessage(id="m1", chunks=["hi {first_name}, a manual text"])
    app = Harness(node, ai_variables=("opener", "ps"), preview_lead=SAMPLE,
                  ai_sample={"ps": "P.S. loved the Acme launch."})
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, ChoiceScreen), "which AI variable?")
        await pilot.press("j", "enter")
        await until(pilot, lambda: app.screen is form, "back to the form")
        await pilot.press("f2")
        preview = form.query_one("#form-preview-text", Static)
        await until(pilot, lambda: "P.S. loved the Acme launch." in str(preview.render()), "the lead's text")
        assert "Preview for Zoë Ng" in str(preview.render())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: app.result is not UNSET, "saved")
        assert app.result.chunks == ["{ai: ps}"]


@pytest.mark.asyncio
async def test_not_yet_generated_says_so_and_no_variables_means_a_hint() -> None:
    app = Harness(m.Email(id="e1", subject="Hi", body="{ai: opener}"), ai_variables=())
    async with app.run_test(size=(100, 40)) as pilot:
        form = await opened(pilot)
        await pilot.press("f2")
        preview = form.query_one("#form-preview-text", Static)
        await until(pilot, lambda: "{ai: opener}: written by the AI when sent" in str(preview.render()), "said")
        await pilot.press("ctrl+g")
        await pilot.pause()
        assert app.screen is form  # nothing to choose from: a notification says where to add one


class AgentHost(App[None]):
    CSS_PATH = str(Path(tui.__file__).parent / "app.tcss")

    def compose(self) -> ComposeResult:
        yield AgentStep()


@pytest.mark.asyncio
async def test_the_wizard_agent_step_edits_the_campaigns_ai_variables(tmp_path) -> None:
    db = open_db(tmp_path / "ws.db")
    sandbox_identity(db, "Ana", now=NOW)
    cid = create_campaign(db, identity=1, sequence=m.Sequence(), now=NOW, actor="t")
    async with AgentHost().run_test(size=(100, 40)) as pilot:
        step = pilot.app.query_one(AgentStep)
        step.load(get_campaign(db, cid))
        area = step.query_one("#agent-variables", TextArea)
        assert step.changes(get_campaign(db, cid)) == {}
        area.load_text("opener: One line on their role\n\nPS: a P.S. about our offer")
        settings = step.changes(get_campaign(db, cid))["settings"]
        assert settings.ai_variables == {"opener": "One line on their role", "ps": "a P.S. about our offer"}
        area.load_text("opener One line")
        with pytest.raises(CampaignError, match="line 1: write it as 'name: what the AI writes'"):
            step.changes(get_campaign(db, cid))
    assert prompts_of(get_campaign(db, cid)) == {}
