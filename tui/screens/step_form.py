"""The form that edits one step of a sequence, built for its kind from `step_fields.FIELDS`.

`StepForm(node, custom_fields=…, locked=…)` dismisses with the edited node
(same id, kind, delay and pointers: only the kind's own fields are replaced)
or None when cancelled. As you type it shows the step's problems
(`sequences.validate.node_errors`): saving a text with a problem is allowed
(the tree shows it on the step), but a value that makes no sense — a number
out of range, an empty required choice, a file that is not there — is
refused with the reason. `locked` is a launched campaign: only the fields
`sequences.lock` allows stay editable, the others are shown read-only.

AI: the message editors complete the campaign's AI variables (`{ai: opener}`)
and flag one without a prompt; ctrl+g ("Generate with AI") makes the message
one AI variable, written for each lead when it is sent. The preview shows the
text an AI variable got for a lead of the campaign (`ai_sample`, with that
lead as the sample), else says it is generated when sent.

The target campaign of "Add to another campaign" lists the workspace's
campaigns (`storage.campaigns.campaign_names` on the app's `ctx.db`); a
caller without an app context passes `campaigns=` itself.
"""

from __future__ import annotations

from typing import Any

import msgspec
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from sequences.lock import EDITABLE_FIELDS, HINT, lock_message, locked_changes
from sequences.model import LABEL, Node, Sequence, kind_of
from sequences.render import AI_PREFIX, PREVIEW_LEAD, LeadData, render_pieces
from sequences.validate import node_errors
from storage.campaigns import campaign_names
from tui.screens.modals import ChoiceScreen, ConfirmScreen
from tui.screens.step_fields import AUDIO_EXTENSIONS, FIELDS, Field, choice_label, options
from tui.text import literal
from tui.widgets.chunks_field import ChunksField
from tui.widgets.file_field import FileField
from tui.widgets.footer import BindingsFooter
from tui.widgets.message_field import MessageField

CHUNK_ACTIONS = ("add_chunk", "remove_chunk", "move_chunk")


class StepForm(ModalScreen[Node | None]):
    """Edit one step's parameters (its delay is edited in the tree, and kept here)."""

    BINDINGS = [
        Binding("ctrl+s", "save", "Save", id="step_form.save", tooltip="Save the step and close the form"),
        Binding("escape", "cancel", "Cancel", id="step_form.cancel", tooltip="Close without saving (asks if changed)"),
        Binding("f1", "app.help", "Keys", show=False, id="step_form.help",
                tooltip="Every key of the form (? types a question mark here)"),
        Binding("q", "stay", "Stay", show=False, id="step_form.stay",
                tooltip="q does not quit from an open form (edits would be lost): save or cancel first"),
        Binding("f2", "preview", "Preview", id="step_form.preview",
                tooltip="The messages as a sample lead would get them, missing variables marked"),
        Binding("ctrl+g", "generate", "Generate with AI", id="step_form.generate",
                tooltip="Let the AI write this message for each lead: the body becomes one of the campaign's "
                        "AI variables ({ai: name})"),
        Binding("ctrl+o", "pick_file", "Pick file", id="step_form.pick_file", tooltip="Choose the file from a folder tree"),
        Binding("ctrl+n", "add_chunk", "Add chunk", id="step_form.add_chunk", tooltip="A new chunk after this one"),
        Binding("ctrl+r", "remove_chunk", "Remove chunk", id="step_form.remove_chunk",
                tooltip="Remove this chunk (asks when it has text)"),
        Binding("alt+up", "move_chunk(-1)", "Chunk up", id="step_form.chunk_up", tooltip="Send this chunk earlier"),
        Binding("alt+down", "move_chunk(1)", "Chunk down", id="step_form.chunk_down", tooltip="Send this chunk later"),
    ]

    def __init__(self, node: Node, *, custom_fields: list[str], locked: bool, campaigns: list[str] | None = None,
                 preview_lead: LeadData = PREVIEW_LEAD, ai_variables: tuple[str, ...] | None = None,
                 ai_sample: dict[str, str] | None = None) -> None:
        super().__init__()
        self.node = node
        self.kind = kind_of(node)
        self.fields: tuple[Field, ...] = FIELDS[self.kind]
        self.custom_fields = list(custom_fields)
        self.locked = locked
        self.campaigns = campaigns
        self.preview_lead = preview_lead
        self.ai_variables = ai_variables  # the campaign's AI variables (None: not known to the caller)
        self.ai_sample = ai_sample or {}  # what they became for `preview_lead` at this step, if generated
        self._initial: tuple | None = None

    # --- building ------------------------------------------------------------------

    def editable(self, field: Field) -> bool:
        return not self.locked or field.name in EDITABLE_FIELDS.get(self.kind, frozenset())

    def compose(self) -> ComposeResult:
        with Vertical(id="step-form"):
            yield Label(Text.assemble(("Edit step: ", "bold"), (LABEL[self.kind], "bold"), "  ",
                                      literal(self.node.id, "dim")), id="form-title")
            if self.locked and any(not self.editable(f) for f in self.fields):
                yield Static(Text(f"🔒 Launched: {HINT} (only texts and waits change)", style="bold"),
                             id="lock-line")
            with VerticalScroll(id="form-fields"):
                for field in self.fields:
                    yield self._widget(field)
                if not self.fields:
                    yield Static(Text("This step has no settings of its own; its wait is set in the tree.",
                                      style="dim"))
            preview = VerticalScroll(Static(id="form-preview-text"), id="form-preview")
            preview.display = False
            yield preview
            yield Static(id="form-problems")
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", id="form-save", variant="primary", compact=True)
                yield Button("Cancel (esc)", id="form-cancel", compact=True)
        yield BindingsFooter()

    def _widget(self, field: Field) -> Widget:
        value = getattr(self.node, field.name)
        wid = f"field-{field.name}"
        locked = not self.editable(field)
        label = field.label + (" 🔒" if locked else "")
        if field.editor == "text":
            return MessageField(label, value, limit=field.limit, custom_fields=self.custom_fields, short=field.short,
                                ai_variables=self.ai_variables, read_only=locked, id=wid)
        if field.editor == "chunks":
            return ChunksField(label, value, limit=field.limit or 0, custom_fields=self.custom_fields,
                               ai_variables=self.ai_variables, id=wid)
        if field.editor == "file":
            return FileField(label, value, audio_extensions=AUDIO_EXTENSIONS if field.audio else (),
                             read_only=locked, id=wid)
        if field.editor == "choice":
            values = options(self.kind, field, campaigns=self._campaigns() if field.source == "campaigns" else [],
                             custom_fields=self.custom_fields)
            if value and value not in values:
                values.append(value)  # (kept as it is: a target renamed or a field not imported yet)
            # (the workspace's names are outside text: literal, never markup)
            select: Select[str] = Select([(literal(v) if field.source else choice_label(v), v) for v in values],
                                         value=value if value else Select.NULL, allow_blank=not value,
                                         prompt=f"Choose the {field.label.lower()}", disabled=locked, compact=True)
            return self._row(label, select, field, wid)
        text = "" if value is None else str(value)
        placeholder = ("a number of days" + (", or empty" if field.optional else "") if field.editor == "number"
                       else "the value to compare with")
        box = Input(text, type="integer" if field.editor == "number" else "text", placeholder=placeholder,
                    disabled=locked, compact=True)
        return self._row(label, box, field, wid)

    @staticmethod
    def _row(label: str, widget: Widget, field: Field, wid: str) -> Vertical:
        parts: list[Widget] = [Label(label, classes="field-label"), widget]
        if field.help:
            parts.append(Static(Text(field.help, style="dim"), classes="field-help"))
        return Vertical(*parts, id=wid, classes="choice-field")

    def _campaigns(self) -> list[str]:
        if self.campaigns is None:
            ctx = getattr(self.app, "ctx", None)
            self.campaigns = campaign_names(ctx.db) if ctx is not None else []
        return self.campaigns

    def on_mount(self) -> None:
        self._initial = self._raw()
        self._refresh_problems()
        for widget in self.query("#form-fields TextArea, #form-fields Input, #form-fields Select"):
            if widget.focusable:
                widget.focus()
                break

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in CHUNK_ACTIONS:
            return self.kind == "linkedin_message"  # (False: neither run nor shown in the footer)
        if action == "generate":
            return self._body_field() is not None
        if action == "pick_file":
            return any(f.editor == "file" and self.editable(f) for f in self.fields)
        return True

    # --- reading the fields -----------------------------------------------------------

    def _raw(self) -> tuple:
        """What the widgets hold now, to tell whether anything changed."""
        return tuple(self._raw_value(f) for f in self.fields)

    def _raw_value(self, field: Field) -> Any:
        widget = self.query_one(f"#field-{field.name}")
        if isinstance(widget, MessageField):
            return widget.text
        if isinstance(widget, ChunksField):
            return tuple(widget.texts)
        if isinstance(widget, FileField):
            return widget.path
        inner = widget.query_one("Select, Input")
        return inner.value

    def read(self) -> tuple[dict[str, Any], list[str]]:
        """The kind's fields as the node will hold them, and why some cannot be saved."""
        values: dict[str, Any] = {}
        refusals: list[str] = []
        for field in self.fields:
            raw = self._raw_value(field)
            widget = self.query_one(f"#field-{field.name}")
            if field.editor == "chunks":
                chunks = [c for c in raw if c.strip()]
                values[field.name] = chunks
            elif field.editor == "file":
                problem = widget.problem  # type: ignore[attr-defined]
                if problem:
                    refusals.append(f"{field.label}: {problem}")
                values[field.name] = raw
            elif field.editor == "choice":
                if raw is Select.NULL or raw is None:
                    refusals.append(f"{field.label}: choose one" + (" (the workspace has no other campaign yet)"
                                                                    if field.source == "campaigns" and not self._campaigns() else ""))
                else:
                    values[field.name] = raw
            elif field.editor == "number":
                number = _number(raw, field)
                if isinstance(number, str):
                    refusals.append(f"{field.label}: {number}")
                else:
                    values[field.name] = number
            else:
                values[field.name] = raw
        return values, refusals

    def candidate(self) -> tuple[Node, list[str]]:
        values, refusals = self.read()
        return msgspec.structs.replace(self.node, **values), refusals

    # --- live feedback --------------------------------------------------------------

    @on(MessageField.Edited)
    @on(FileField.Edited)
    @on(Input.Changed)
    @on(Select.Changed)
    def _edited(self) -> None:
        if self.is_mounted and self._initial is not None:
            self._refresh_problems()

    def _refresh_problems(self) -> None:
        node, refusals = self.candidate()
        text = Text()
        for refusal in refusals:
            text.append("✗ ", style="bold").append_text(literal(refusal, "bold")).append(" — fix it to save\n")
        for error in node_errors(node):
            text.append("⚠ ").append_text(literal(error.message.split(": ", 1)[-1])).append("\n")
        text.rstrip()
        problems = self.query_one("#form-problems", Static)
        problems.update(text)
        problems.display = bool(text.plain)
        if self.query_one("#form-preview").display:
            self._render_preview(node)

    def _render_preview(self, node: Node) -> None:
        lead = msgspec.structs.replace(self.preview_lead, ai=self.ai_sample)
        who = " ".join(p for p in (lead.first_name, lead.last_name) if p) or "a lead"
        text = Text.assemble(("Preview for ", "dim"), literal(who, "bold"),
                             (f", {lead.job_title} at {lead.company}" if lead.company else "", "dim"), "\n")
        shown = False
        for field in self.fields:
            value = getattr(node, field.name)
            texts = value if field.editor == "chunks" else [value] if field.editor == "text" else []
            for i, part in enumerate(texts):
                if not part.strip():
                    continue
                label = f"Chunk {i + 1}" if field.editor == "chunks" else field.label.split(" (")[0]
                text.append(f"{label}: ", style="bold")
                missing = []
                for piece, name in render_pieces(part, lead):
                    if name and name.startswith(AI_PREFIX):
                        text.append(f"‹{{ai: {name[len(AI_PREFIX):]}}}: written by the AI when sent›", style="italic")
                        continue
                    for n, line in enumerate(piece.split("\n")):  # (literal() would show a newline as �)
                        text.append("\n  " if n else "").append_text(literal(line, "reverse" if name else ""))
                    if name:
                        missing.append(name)
                if missing:
                    text.append(f"  ⚠ no value for {', '.join('{' + m + '}' for m in dict.fromkeys(missing))}",
                                style="bold")
                text.append("\n")
                shown = True
        if not shown:
            text.append("This step sends no message.", style="dim")
        self.query_one("#form-preview-text", Static).update(text.rstrip() or text)

    # --- actions --------------------------------------------------------------------

    def action_preview(self) -> None:
        preview = self.query_one("#form-preview")
        preview.display = not preview.display
        if preview.display:
            self._render_preview(self.candidate()[0])

    def _body_field(self) -> Field | None:
        """The message body "Generate with AI" replaces (None: this kind sends no text body)."""
        return next((f for f in self.fields if f.name in ("chunks", "body", "text") and self.editable(f)), None)

    def action_generate(self) -> None:
        field = self._body_field()
        if field is None:
            return
        if not self.ai_variables:
            self.notify("This campaign has no AI variables yet: add one in the wizard's AI Agent step "
                        "(or `enginy campaigns ai-variable set`)", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name is None:
                return
            widget = self.query_one(f"#field-{field.name}")
            area = widget.fields[widget.current()].area if isinstance(widget, ChunksField) else widget.area
            area.replace(f"{{ai: {name}}}", area.document.start, area.document.end)  # (ctrl+z undoes it)
            area.focus()
            self.notify(f"The AI writes this message for each lead: {{ai: {name}}}")

        self.app.push_screen(ChoiceScreen("Generate with AI: which AI variable writes the message?",
                                          [(n, f"{{ai: {n}}}") for n in self.ai_variables]), chosen)

    def action_save(self) -> None:
        node, refusals = self.candidate()
        if refusals:
            self.notify(f"Not saved — {refusals[0]}", severity="error")
            return
        if self.locked:
            before, after = Sequence(self.node.id, [self.node]), Sequence(self.node.id, [node])
            if problems := locked_changes(before, after):
                self.notify(lock_message(problems), severity="error")
                return
        self.dismiss(node)

    def action_cancel(self) -> None:
        if self._raw() == self._initial:
            self.dismiss(None)
            return

        def answer(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(ConfirmScreen("Discard your changes to this step?",
                                           "y: discard them    n / esc: keep editing"), answer)

    @on(Button.Pressed, "#form-save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#form-cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()

    def action_stay(self) -> None:
        self.notify("The form is open: ctrl+s saves it, esc cancels", severity="warning")

    def action_pick_file(self) -> None:
        for widget in self.query(FileField):
            if not widget.read_only:
                widget.pick()
                return

    def _chunks(self) -> ChunksField:
        return self.query_one(ChunksField)

    async def action_add_chunk(self) -> None:
        await self._chunks().add()

    def action_remove_chunk(self) -> None:
        chunks = self._chunks()
        index = chunks.current()
        if not chunks.texts[index].strip():
            self.run_worker(chunks.remove(index))
            return

        def answer(remove: bool | None) -> None:
            if remove:
                self.run_worker(chunks.remove(index))

        self.app.push_screen(ConfirmScreen(f"Remove chunk {index + 1} and its text?"), answer)

    def action_move_chunk(self, delta: int) -> None:
        chunks = self._chunks()
        if not chunks.move(chunks.current(), delta):
            self.notify("That chunk is already " + ("first" if delta < 0 else "last"), severity="warning")


def _number(raw: str, field: Field) -> int | None | str:
    """The number typed, None when left empty where allowed, or why it cannot be saved."""
    if not raw.strip():
        return None if field.optional else _range(field)
    try:
        number = int(raw)
    except ValueError:
        return _range(field)
    if (field.low is not None and number < field.low) or (field.high is not None and number > field.high):
        return _range(field)
    return number


def _range(field: Field) -> str:
    if field.high is not None:
        return f"enter a whole number from {field.low} to {field.high}"
    return f"enter a whole number of at least {field.low}" + (" (or leave it empty)" if field.optional else "")
