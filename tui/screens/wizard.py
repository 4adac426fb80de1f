"""The Create Campaign wizard (spec: "Creating a Campaign", steps 1–4), also the Edit screen.

New: the dashboard's `n` (or "New campaign" in the palette) opens the template
gallery (wizard_start.py), then this screen. Step 1 asks the name and the
identity; the campaign is saved as a Draft through storage as soon as an
identity is chosen and the user moves on (or edits the sequence, or adds an
audience), so nothing typed after that is lost. Each later step writes its
changes through `update_campaign` when the user leaves it. Finish launches
now, schedules (a date and time in the identity's time zone) or leaves the
Draft; a launch shows the launch checks (storage.launch) first and asks for confirmation.

Edit (the `e` quick action of the dashboard and the campaign view) opens the
same screen on an existing campaign; once launched, the identity is fixed,
the sequence editor allows only texts and delays, and Finish only saves.

Keys: ctrl+n / ctrl+b next / previous step (they work inside text boxes),
f2…f6 a step directly (alt+digit is not sent reliably by terminals), Tab / shift+Tab between fields, ctrl+s Finish, ctrl+p the palette (":" types
a colon in the text boxes), Esc leaves
(asking first when the current step has input not saved yet).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Button, ContentSwitcher, Header, Input, Label, Select, Static

from sequences.model import Sequence
from sequences.statuses import CampaignStatus
from storage.campaigns import (CampaignError, create_campaign, get_campaign, sequence_of,
                               update_campaign)
from storage.identities import list_identities
from storage.launch import launch, launch_problems
from tui.commands import Command
from tui.screens.modals import ConfirmScreen
from tui.screens.sequence_editor import SequenceEditorScreen
from tui.screens.wizard_audience import AudienceStep
from tui.screens.wizard_finish import FinishStep, both_ways
from tui.screens.wizard_settings import AgentStep, SettingsStep
from tui.screens.wizard_start import tree_text
from tui.text import literal
from tui.widgets.footer import BindingsFooter


STEPS = {"sequence": "1 Sequence", "audience": "2 Audience", "agent": "3 AI Agent", "settings": "4 Settings",
         "finish": "Finish"}
class WizardScreen(Screen):
    """Create a campaign (template = a template name, "" = from scratch) or edit one (campaign_id)."""

    BINDINGS = [
        Binding("ctrl+n", "step(1)", "Next step", priority=True, id="wizard.next",
                tooltip="Save this step and go to the next one"),
        Binding("ctrl+b", "step(-1)", "Previous step", priority=True, id="wizard.previous",
                tooltip="Save this step and go back one"),
        *[Binding(f"f{i}", f"goto('{key}')", f"Step: {label}", show=False, id=f"wizard.goto_{key}")
          for i, (key, label) in enumerate(STEPS.items(), 2)],
        Binding("ctrl+s", "finish", "Finish", priority=True, id="wizard.finish",
                tooltip="To the Finish step; there: launch, schedule or keep the Draft"),
        Binding("ctrl+e", "edit_sequence", "Edit sequence", priority=True, id="wizard.edit_sequence",
                tooltip="The tree editor on this campaign's sequence"),
        Binding("f1", "app.help", "Keys", id="wizard.help", tooltip="Every key of the wizard"),
        # ":" types a colon in a text box: ctrl+p opens the palette from anywhere in the wizard
        Binding("ctrl+p", "app.command_palette", "", priority=True, id="wizard.palette"),
        # q outside a text box would quit the app and lose this step's input: here it does nothing
        Binding("q", "stay", "", show=False, id="wizard.stay"),
    ]

    def __init__(self, ctx, *, template: str | None = None, campaign_id: int | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.template = template
        self.campaign_id = campaign_id
        self.row: dict[str, Any] | None = get_campaign(ctx.db, campaign_id) if campaign_id is not None else None
        self.step = "sequence"
        self.identities = list_identities(ctx.db)

    # --- building ----------------------------------------------------------------------

    @property
    def launched(self) -> bool:
        return self.row is not None and self.row["status"] != CampaignStatus.DRAFT.value

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="wizard-steps")
        with ContentSwitcher(initial="sequence", id="wizard-body"):
            with VerticalScroll(id="sequence"):
                yield Label(Text("Campaign name", style="bold"))
                yield Input(id="wiz-name", placeholder="default: [Identity]'s Campaign")
                yield Label(Text("Identity (mandatory): who sends", style="bold"))
                yield Select([(literal(i["name"]), i["id"]) for i in self.identities], prompt="choose an identity",
                             id="wiz-identity", disabled=self.launched)
                yield Static(id="wiz-identity-note")
                with Horizontal(classes="wizard-row"):
                    yield Button("Edit sequence (ctrl+e)", id="wiz-edit-sequence", compact=True, variant="primary")
                yield Static(id="wiz-sequence")
            with VerticalScroll(id="audience"):
                yield AudienceStep(self, id="audience-step")
            with VerticalScroll(id="agent"):
                yield AgentStep(id="agent-step")
            with VerticalScroll(id="settings"):
                yield SettingsStep(self.ctx, id="settings-step")
            with VerticalScroll(id="finish"):
                yield FinishStep(self.ctx.now, id="finish-step")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.sub_title = "Edit campaign" if self.row else "New campaign"
        if not self.identities:
            self.query_one("#wiz-identity-note", Static).update(Text(
                "This workspace has no identity yet: create one first (`enginy identity add NAME`), "
                "then come back.", style="bold red"))
        elif len(self.identities) == 1 and self.row is None:
            self.query_one("#wiz-identity", Select).value = self.identities[0]["id"]
        if self.row is not None:
            self._load_row()
        self._draw()
        self.query_one("#wiz-name", Input).focus()

    def _load_row(self) -> None:
        assert self.row is not None
        self.query_one("#wiz-name", Input).value = self.row["name"]
        self.query_one("#wiz-identity", Select).value = self.row["identity_id"]
        self.query_one(AgentStep).load(self.row)
        self.query_one(SettingsStep).load(self.row)

    def _identity(self) -> dict[str, Any] | None:
        value = self.query_one("#wiz-identity", Select).value
        return next((i for i in self.identities if i["id"] == value), None)

    def _sequence(self) -> Sequence:
        if self.row is not None:
            return sequence_of(self.row)
        if self.template:
            from sequences.templates import find_template
            from storage.campaigns import user_templates

            found = find_template(self.template, user_templates(self.ctx.db))
            if found is not None:
                return found.sequence
        return Sequence()

    def _draw(self) -> None:
        """The step bar, the sequence preview and the Finish summary (cheap: a few rows)."""
        bar = Text()
        for key, label in STEPS.items():
            bar.append(f" {label} ", style="reverse bold" if key == self.step else "dim")
            bar.append(" ")
        bar.append("  ctrl+n next · ctrl+b back · f2–f6 a step · ctrl+p commands · esc leave", style="dim")
        self.query_one("#wizard-steps", Static).update(bar)
        ident = self._identity()
        name_input = self.query_one("#wiz-name", Input)
        name_input.placeholder = f"{ident['name']}'s Campaign" if ident else "default: [Identity]'s Campaign"
        seq = self._sequence()
        source = ("" if self.row else f" (from template {self.template})" if self.template else " (from scratch)")
        head = Text.assemble(("Sequence", "bold"), source, "\n")
        if self.launched:
            head.append("🔒 Launched: only texts and delays can change in the editor.\n", style="yellow")
        if self.row is None:
            head.append("The Draft is saved when you go to the next step or edit the sequence.\n", style="dim")
        self.query_one("#wiz-sequence", Static).update(head + tree_text(seq))
        self._finish().show(self.row, self._zone())

    @on(Select.Changed, "#wiz-identity")
    def _identity_changed(self) -> None:
        self._draw()

    # --- saving -----------------------------------------------------------------------

    def _step_changes(self) -> dict[str, Any]:
        """What the current step would write (empty: nothing unsaved)."""
        if self.step == "sequence":
            name = self.query_one("#wiz-name", Input).value.strip()
            ident = self._identity()
            if self.row is None:
                return {"name": name} if name or ident else {}
            out: dict[str, Any] = {}
            if name and name != self.row["name"]:
                out["name"] = name
            if ident and ident["id"] != self.row["identity_id"]:
                out["identity"] = ident["id"]
            return out
        if self.row is None:
            return {}
        if self.step == "agent":
            return self.query_one(AgentStep).changes(self.row)
        if self.step == "settings":
            return self.query_one(SettingsStep).changes(self.row)
        return {}

    async def ensure_campaign(self) -> int | None:
        """The campaign's id, creating the Draft now from step 1 if needed (None: step 1 is incomplete)."""
        if self.row is not None:
            return self.row["id"]
        ident = self._identity()
        if ident is None:
            self.notify("Choose an identity first (step 1): a campaign needs one", severity="warning")
            await self._go("sequence")
            self.query_one("#wiz-identity", Select).focus()
            return None
        name = self.query_one("#wiz-name", Input).value.strip() or None
        try:
            cid = self.ctx.run_intent(create_campaign, identity=ident["id"], name=name,
                                      template=self.template or None,
                                      sequence=None if self.template else Sequence())
        except CampaignError as exc:
            self.notify(str(exc), severity="error")
            return None
        self.campaign_id = cid
        self.row = get_campaign(self.ctx.db, cid)
        self._load_row()
        self.notify(f"Saved Draft {self.row['name']}")
        self._draw()
        return cid

    def save_step(self) -> bool:
        """Write the current step's changes; False (with a notification) when storage refuses them."""
        if self.row is None:
            return True
        try:
            changes = self._step_changes()
            if not changes:
                return True
            self.row = self.ctx.run_intent(update_campaign, self.row["id"], **changes)
        except CampaignError as exc:
            self.notify(str(exc), severity="error")
            return False
        if "identity" in changes:
            self.query_one(SettingsStep).load(self.row)
        self._draw()
        return True

    # --- moving -------------------------------------------------------------------------

    async def action_step(self, delta: int) -> None:
        keys = list(STEPS)
        target = keys[max(0, min(len(keys) - 1, keys.index(self.step) + delta))]
        await self._go(target)

    async def action_goto(self, key: str) -> None:
        await self._go(key)

    async def _go(self, target: str) -> None:
        if target == self.step:
            return
        if self.step == "sequence" and self.row is None and target != "sequence":
            if await self.ensure_campaign() is None:
                return
        if not self.save_step():
            return
        self.step = target
        self.query_one(ContentSwitcher).current = target
        if target == "audience":
            await self.query_one(AudienceStep).refresh_data()
        if target == "agent":
            ident = self._identity()
            self.query_one(AgentStep).show_preview(self.row, ident["name"] if ident else "you")
        if target == "finish":
            self._show_problems()
        self._draw()
        self._focus_step()

    def _focus_step(self) -> None:
        first = {"sequence": "#wiz-name", "audience": "#list-search", "agent": "#agent-mode",
                 "settings": "#set-tags", "finish": "#finish-choice"}[self.step]
        widget = self.query_one(first)
        if not widget.display or widget.disabled:
            widget = self.query_one("#finish-go")
        # Into view once the step is laid out, without animation: focus's own scroll reads the
        # geometry before the switched-in step has any, and a busy machine then scrolled it by a line.
        widget.focus(scroll_visible=False)
        self.call_after_refresh(widget.scroll_visible, animate=False)

    # --- finishing -----------------------------------------------------------------------

    def _finish(self) -> FinishStep:
        return self.query_one(FinishStep)

    def _zone(self) -> str:
        ident = self._identity()
        return ident["timezone"] if ident else "UTC"

    def _show_problems(self) -> list[str]:
        problems = launch_problems(self.ctx.db, self.row["id"]) if self.row else []
        self._finish().show_problems(problems, launched=self.launched, saved=self.row is not None)
        return problems

    async def action_finish(self) -> None:
        if self.step != "finish":  # first the Finish step, its checks and choices; ctrl+s again finishes
            await self._go("finish")
            return
        if await self.ensure_campaign() is None or self.row is None:
            return
        mode = "draft" if self.launched else self._finish().choice()
        if mode == "draft":
            self.notify(f"Saved {self.row['name']}" + ("" if self.launched else " as a Draft"))
            self.dismiss_wizard()
            return
        at = None
        if mode == "schedule":
            at = self._finish().check_schedule()
            if at is None:
                self.notify("Give a valid date and time to schedule (YYYY-MM-DD HH:MM)", severity="warning")
                self._finish().focus_time()
                return
        problems = self._show_problems()
        if problems:
            self.notify(f"Cannot launch yet: {problems[0]}" + (f" (+{len(problems) - 1} more)" if len(problems) > 1
                                                               else ""), severity="warning")
            return
        row = self.row
        title = f"Launch {row['name']} now?" if at is None else \
            f"Schedule {row['name']} for {both_ways(at)}?"
        detail = "Its leads start receiving the sequence's actions; the structure is then locked."

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                self.row = self.ctx.run_intent(launch, row["id"], at=at)
            except CampaignError as exc:
                self.notify(str(exc), severity="error")
                return
            self.notify(f"Launched {row['name']}" if at is None else f"Scheduled {row['name']}")
            self.dismiss_wizard()

        self.app.push_screen(ConfirmScreen(title, detail, danger=False), confirmed)

    def dismiss_wizard(self) -> None:
        self.app.pop_screen()
        self.app.call_later(self.app.refresh_screen)

    async def action_back(self) -> None:
        """Esc: leave; asks first when the current step holds input not saved yet."""
        try:
            unchanged = not self._step_changes()
        except CampaignError:
            unchanged = False  # input that cannot be saved as it is: still input to lose
        if unchanged:
            self.dismiss_wizard()
            return
        detail = ("The Draft itself is saved; what you typed on this step is not." if self.row
                  else "Nothing was saved yet (no identity chosen).")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self.dismiss_wizard()

        self.app.push_screen(ConfirmScreen("Leave the wizard and lose this step's input?", detail), confirmed)

    def action_stay(self) -> None:
        """q outside a text box does nothing here (typing q in a box types it)."""

    async def action_edit_sequence(self) -> None:
        cid = await self.ensure_campaign()
        if cid is not None and self.save_step():
            self.app.push_screen(SequenceEditorScreen(self.ctx, cid))

    async def on_screen_resume(self) -> None:
        """Back from the editor: the sequence may have changed."""
        if self.row is not None:
            self.row = get_campaign(self.ctx.db, self.row["id"])
        self._draw()
        if self.step == "finish":
            self._show_problems()

    # --- buttons and the palette -----------------------------------------------------------

    @on(Button.Pressed, "#wiz-edit-sequence")
    async def _edit_pressed(self) -> None:
        await self.action_edit_sequence()

    @on(Button.Pressed, "#finish-go")
    async def _finish_pressed(self) -> None:
        await self.action_finish()

    def palette_commands(self) -> list[Command]:
        """The steps (f2–f6), Finish (ctrl+s) and the rest come from the bindings; these have no key."""
        audience = self.query_one(AudienceStep)
        return [
            Command("Add highlighted list", "Enrol the list highlighted in step 2", audience.add_list),
            Command("Add marked contacts", "Enrol the contacts marked in step 2", audience.add_marked),
            *[Command(f"Finish: {label}", "Choose it on the Finish step", lambda b=button: self.choose_finish(b))
              for button, label in (("launch", "launch now"), ("schedule", "schedule"), ("draft", "leave a Draft"))],
            Command("Leave the wizard", "esc (asks if this step has unsaved input)", self.action_back),
        ]

    async def choose_finish(self, button: str) -> None:
        """Go to the Finish step with `button` chosen (then ctrl+s finishes)."""
        await self._go("finish")
        if self.step == "finish":
            self._finish().choose(button)
