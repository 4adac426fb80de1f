"""A message editor: a multi-line text, its live character count, and `{variable}` completion.

Typing `{` opens a short list of the personalisation variables (the contact
fields, the workspace's custom fields as `{custom.<name>}`, then the campaign's
AI variables as `{ai: <name>}`), narrowed as
the name is typed; up/down move in it, tab or enter insert the variable with
its closing brace, esc closes it. Its last line explains the fallback syntax
(`{first_name|there}`), which the list cannot guess. Under the text, one line
counts the characters against the spec's limit ("1,234/1,900"), turns into a
warning past it (a "⚠ over by N" word as well as the colour, for monochrome
terminals), and names every unknown variable as soon as it is typed.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label, OptionList, Static, TextArea
from textual.widgets.option_list import Option

from sequences.render import CONTACT_FIELDS, ai_variables_in, is_known_variable, variables_in
from tui.text import literal

#: the variable being typed: an unclosed `{` and a name so far, right before the cursor.
_OPEN = re.compile(r"\{([\w. :\-]*)$")
FALLBACK_HINT = "{name|fallback} uses the fallback when the lead has no value, e.g. {first_name|there}"
MAX_SUGGESTIONS = 12  # (the list scrolls; typing narrows it)


def count_line(text: str, limit: int | None, ai_variables: tuple[str, ...] | None = None) -> Text:
    """"1,234/1,900", or "2,104/1,900 ⚠ over by 204" past the limit; unknown variables after it, and
    (given the campaign's `ai_variables`) the AI variables it has no prompt for."""
    n = len(text)
    if limit is None:
        line = Text(f"{n:,} characters", style="dim")
    elif n > limit:
        line = Text(f"{n:,}/{limit:,} ⚠ over by {n - limit:,}", style="bold reverse")
    else:
        line = Text(f"{n:,}/{limit:,}", style="dim")
    unknown = list(dict.fromkeys(v for v in variables_in(text) if not is_known_variable(v)))
    if unknown:
        line.append("  ⚠ unknown ", style="bold")
        line.append_text(literal(", ".join(f"{{{v}}}" for v in unknown), "bold"))
    if ai_variables is not None and (no_prompt := [v for v in ai_variables_in(text) if v not in ai_variables]):
        line.append("  ⚠ no prompt for ", style="bold")
        line.append_text(literal(", ".join(f"{{ai: {v}}}" for v in no_prompt), "bold"))
    return line


def _matchable(name: str) -> str:
    """A variable name as typed or listed, compared loosely (`AI: Op` finds `ai: opener`)."""
    return name.strip().casefold().replace(": ", ":").replace(" ", "_")


class VariableTextArea(TextArea):
    """A TextArea that hands the completion keys to its field while the list is open."""

    COMPLETION_KEYS = ("up", "down", "tab", "enter", "escape")

    async def _on_key(self, event: events.Key) -> None:
        field = self.parent
        if isinstance(field, MessageField) and field.completing and event.key in self.COMPLETION_KEYS:
            event.stop()
            event.prevent_default()  # (TextArea's own handler and bindings do not see it)
            field.completion_key(event.key)


class MessageField(Vertical):
    """Label, text, count line and the completion list of one message field."""

    class Edited(Message):
        """The text changed (the form re-validates and re-renders its preview)."""

    def __init__(self, label: str, text: str, *, limit: int | None, custom_fields: list[str],
                 ai_variables: tuple[str, ...] | None = None, short: bool = False, read_only: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id, classes="message-field short" if short else "message-field")
        self.label = label
        self.initial = text
        self.limit = limit
        self.read_only = read_only
        self.ai_variables = ai_variables  # the campaign's (None: not known here)
        self.variables = [*CONTACT_FIELDS, *(f"custom.{name}" for name in custom_fields),
                          *(f"ai: {name}" for name in ai_variables or ())]
        self.suggestions: list[str] = []

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        yield VariableTextArea(self.initial, soft_wrap=True, read_only=self.read_only, classes="message-text")
        completion = OptionList(classes="completion")
        completion.can_focus = False
        completion.display = False
        yield completion
        yield Static(count_line(self.initial, self.limit, self.ai_variables), classes="count-line")

    @property
    def area(self) -> VariableTextArea:
        return self.query_one(VariableTextArea)

    @property
    def text(self) -> str:
        return self.area.text

    @property
    def completing(self) -> bool:
        return self.query_one(".completion", OptionList).display

    @on(TextArea.Changed)
    def _changed(self, event: TextArea.Changed) -> None:
        event.stop()
        self.query_one(".count-line", Static).update(count_line(self.text, self.limit, self.ai_variables))
        self._suggest()
        self.post_message(self.Edited())

    @on(TextArea.SelectionChanged)
    def _moved(self, event: TextArea.SelectionChanged) -> None:
        event.stop()
        if self.completing:
            self._suggest()

    def _typed_name(self) -> str | None:
        """The partial variable name before the cursor, None when the cursor is not in one."""
        row, col = self.area.cursor_location
        match = _OPEN.search(self.area.document.get_line(row)[:col])
        return match.group(1) if match else None

    def _suggest(self) -> None:
        completion = self.query_one(".completion", OptionList)
        typed = self._typed_name()
        key = _matchable(typed or "")
        self.suggestions = ([v for v in self.variables if key in _matchable(v)][:MAX_SUGGESTIONS]
                            if typed is not None else [])
        if not self.suggestions or self.area.read_only:
            completion.display = False
            return
        completion.clear_options()
        completion.add_options([*(Option(literal(f"{{{v}}}"), id=v) for v in self.suggestions),
                                Option(Text(FALLBACK_HINT, style="dim italic"), disabled=True)])
        completion.highlighted = 0
        completion.display = True

    def completion_key(self, key: str) -> None:
        completion = self.query_one(".completion", OptionList)
        if key == "escape":
            completion.display = False
        elif key in ("up", "down"):
            last = len(self.suggestions) - 1
            current = completion.highlighted or 0
            completion.highlighted = max(0, min(last, current + (1 if key == "down" else -1)))
        else:
            self.insert(self.suggestions[completion.highlighted or 0])

    def insert(self, variable: str) -> None:
        """Replace the `{partial` before the cursor with `{variable}` (one closing brace, not two)."""
        area = self.area
        row, col = area.cursor_location
        typed = self._typed_name() or ""
        after = area.document.get_line(row)[col:]
        closing = "" if after.startswith("}") else "}"
        area.replace("{" + variable + closing, (row, col - len(typed) - 1), (row, col))
        if not closing:
            area.move_cursor_relative(columns=1)
        self.query_one(".completion", OptionList).display = False
