"""Steps 3 and 4 of the wizard as forms over the campaign row: the AI agent and the settings.

Each form reads its values from the row (`load`) and gives back the changes
for `update_campaign` (`changes`); the wizard compares the two to know whether
Esc would lose input. Tags complete from the tags other campaigns use (the
last comma-separated word), the folder from the existing folders.
"""

from __future__ import annotations

from typing import Any

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.suggester import Suggester, SuggestFromList
from textual.widgets import Checkbox, Input, Label, RadioButton, RadioSet, Select, SelectionList, Static, TextArea

from storage.ai_variables import parse_prompts, prompts_text
from storage.campaign_setup import campaign_facets
from storage.campaigns import Settings, settings_of
from storage.inboxes import list_inboxes
from tui.screens.wizard_agent import AgentPreview
from tui.text import literal
from tui.widgets.status import PRIORITY

REPLY_MODES = {"manual": "Manual — you answer every reply yourself",
               "copilot": "Copilot — the AI drafts, you approve each answer",
               "auto": "Automatic — the AI answers on its own"}
SYNC = [("don't sync", "no"), ("sync", "yes"), ("sync on reply", "on_reply")]


class TagSuggester(Suggester):
    """Completes the last tag of a comma-separated list from the workspace's tags."""

    def __init__(self, tags: list[str]) -> None:
        super().__init__(use_cache=False, case_sensitive=False)
        self.tags = tags

    async def get_suggestion(self, value: str) -> str | None:
        head, _, last = value.rpartition(",")
        word = last.lstrip()
        if not word:
            return None
        for tag in self.tags:
            if tag.casefold().startswith(word.casefold()) and tag.casefold() != word.casefold():
                return value[: len(value) - len(word)] + tag
        return None


def split_tags(text: str) -> list[str]:
    return sorted({t.strip() for t in text.split(",") if t.strip()})


class AgentStep(Vertical):
    """Step 3: how replies are handled, the campaign's prompt (stored in the settings), and the preview."""

    def compose(self) -> ComposeResult:
        yield Static(Text("A reply stops the lead's sequence; then the conversation goes on as chosen here. "
                          "The AI needs [ai] in enginy.toml (`enginy ai check`).", style="dim italic"), id="agent-note")
        yield Label(Text("When a lead replies", style="bold"))
        with RadioSet(id="agent-mode"):
            for key, label in REPLY_MODES.items():
                yield RadioButton(label, id=f"mode-{key}")
        yield Label(Text("Campaign prompt (what the AI should know: offer, tone, goals)", style="bold"))
        yield TextArea(id="agent-prompt", soft_wrap=True, show_line_numbers=False)
        yield AgentPreview(lambda: self.query_one("#agent-prompt", TextArea).text.strip(), id="agent-preview-box")
        yield Label(Text("AI variables ('name: prompt', one a line; messages use {ai: name})", style="bold"))
        yield TextArea(id="agent-variables", soft_wrap=True, show_line_numbers=False)

    def show_preview(self, row: dict[str, Any] | None, identity: str) -> None:
        self.query_one(AgentPreview).show(row, identity)

    def load(self, row: dict[str, Any]) -> None:
        settings = settings_of(row)
        self.query_one(f"#mode-{settings.reply_handling}", RadioButton).value = True
        self.query_one("#agent-prompt", TextArea).load_text(settings.ai_prompt)
        self.query_one("#agent-variables", TextArea).load_text(prompts_text(settings.ai_variables))

    def mode(self) -> str:
        pressed = self.query_one("#agent-mode", RadioSet).pressed_button
        return (pressed.id or "mode-manual").removeprefix("mode-") if pressed else "manual"

    def changes(self, row: dict[str, Any]) -> dict[str, Any]:
        """The settings changed on this step; CampaignError when the AI variables cannot be read."""
        current = settings_of(row)
        variables = self.query_one("#agent-variables", TextArea).text
        unchanged = variables.strip() == prompts_text(current.ai_variables)  # (a long prompt stays whole)
        new = msgspec.structs.replace(current, reply_handling=self.mode(),
                                      ai_prompt=self.query_one("#agent-prompt", TextArea).text.strip(),
                                      ai_variables=current.ai_variables if unchanged else parse_prompts(variables))
        return {"settings": new} if new != current else {}


class SettingsStep(Vertical):
    """Step 4: tags, folder, priority, CRM sync, prior conversations, inboxes, tracking."""

    def __init__(self, ctx, **kwargs) -> None:
        super().__init__(**kwargs)
        self.ctx = ctx
        self.tags, self.folders = campaign_facets(ctx.db)
        self.inbox_ids: list[int] = []

    def compose(self) -> ComposeResult:
        yield Label(Text("Tags (comma-separated; → completes)", style="bold"))
        yield Input(id="set-tags", suggester=TagSuggester(self.tags), placeholder="e.g. q4, founders")
        with Horizontal(classes="wizard-row"):
            with Vertical():
                yield Label(Text("Folder", style="bold"))
                yield Input(id="set-folder", suggester=SuggestFromList(self.folders, case_sensitive=False),
                            placeholder="none")
            with Vertical():
                yield Label(Text("Priority", style="bold"))
                yield Select([(Text(f"{s} {label}", style=st), k) for k, (s, label, st) in PRIORITY.items()],
                             allow_blank=False, id="set-priority")
        with Horizontal(classes="wizard-row"):
            with Vertical():
                yield Label(Text("CRM: contacts", style="bold"))
                yield Select(SYNC, allow_blank=False, id="set-crm-contacts")
            with Vertical():
                yield Label(Text("CRM: conversations", style="bold"))
                yield Select(SYNC, allow_blank=False, id="set-crm-conversations")
        yield Checkbox("Skip contacts who already had a conversation with this identity", id="set-skip-prior")
        yield Label(Text("Send emails from (none ticked: every connected inbox)", style="bold"))
        yield SelectionList[int](id="set-inboxes")
        yield Checkbox("Shuffle: rotate new leads across the inboxes", id="set-shuffle")
        yield Checkbox("Track email opens", id="set-opens")
        yield Checkbox("Track link clicks", id="set-clicks")

    def load(self, row: dict[str, Any]) -> None:
        settings = settings_of(row)
        self.query_one("#set-tags", Input).value = ", ".join(msgspec.json.decode(row["tags"]))
        self.query_one("#set-folder", Input).value = row["folder"] or ""
        self.query_one("#set-priority", Select).value = row["priority"]
        self.query_one("#set-crm-contacts", Select).value = settings.crm_contacts_sync
        self.query_one("#set-crm-conversations", Select).value = settings.crm_conversations_sync
        self.query_one("#set-skip-prior", Checkbox).value = settings.skip_prior_conversations
        self.query_one("#set-shuffle", Checkbox).value = settings.shuffle_inboxes
        self.query_one("#set-opens", Checkbox).value = settings.track_opens
        self.query_one("#set-clicks", Checkbox).value = settings.track_clicks
        inboxes = list_inboxes(self.ctx.db, row["identity_id"])
        self.inbox_ids = [i["id"] for i in inboxes]
        picker = self.query_one("#set-inboxes", SelectionList)
        picker.clear_options()
        for inbox in inboxes:
            state = "" if inbox["connected"] else "  (disconnected)"
            picker.add_option((literal(inbox["email"] + state), inbox["id"], inbox["id"] in settings.inboxes))
        picker.display = bool(inboxes)
        if not inboxes:
            self.query_one("#set-shuffle", Checkbox).label = "Shuffle inboxes (this identity has no inbox yet)"

    def changes(self, row: dict[str, Any]) -> dict[str, Any]:
        current = settings_of(row)
        new = Settings(
            skip_prior_conversations=self.query_one("#set-skip-prior", Checkbox).value,
            inboxes=sorted(self.query_one("#set-inboxes", SelectionList).selected),
            shuffle_inboxes=self.query_one("#set-shuffle", Checkbox).value,
            track_opens=self.query_one("#set-opens", Checkbox).value,
            track_clicks=self.query_one("#set-clicks", Checkbox).value,
            reply_handling=current.reply_handling, ai_prompt=current.ai_prompt,
            crm_contacts_sync=self.query_one("#set-crm-contacts", Select).value,  # type: ignore[arg-type]
            crm_conversations_sync=self.query_one("#set-crm-conversations", Select).value,  # type: ignore[arg-type]
        )
        out: dict[str, Any] = {}
        if new != current:
            out["settings"] = new
        tags = split_tags(self.query_one("#set-tags", Input).value)
        if tags != msgspec.json.decode(row["tags"]):
            out["tags"] = tags
        folder = self.query_one("#set-folder", Input).value.strip()
        if folder != (row["folder"] or ""):
            out["folder"] = folder
        priority = self.query_one("#set-priority", Select).value
        if priority != row["priority"]:
            out["priority"] = priority
        return out
