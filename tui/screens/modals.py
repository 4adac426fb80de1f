"""Small modal screens: confirm, ask for a line of text, choose one of a list, help.

Every destructive action goes through `ConfirmScreen` (y/enter confirms;
n/esc cancels), and Esc closes every modal, so Esc always means "back".
"""

from __future__ import annotations

from datetime import datetime
from typing import Callable

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Label, OptionList, SelectionList, Static
from textual.widgets.option_list import Option
from textual.widgets.selection_list import Selection

from storage.tasks import TaskError, parse_due
from tui.text import literal
from tui.widgets.status import legend


class ConfirmScreen(ModalScreen[bool]):
    """Yes/no for an action that cannot be undone (dismisses with True only on y/enter)."""

    BINDINGS = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, detail: Text | str = "", *, danger: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail
        self.danger = danger

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger" if self.danger else ""):
            yield Label(literal(self.title_text, "bold"), id="dialog-title")
            if self.detail:
                yield Static(self.detail if isinstance(self.detail, Text) else literal(self.detail))
            yield Label(Text("y / enter: yes    n / esc: no", style="dim"))

    def action_answer(self, value: bool) -> None:
        self.dismiss(value)


class NoticeScreen(ModalScreen[None]):
    """Something the user must read before going on (why an action cannot be done); any of
    esc, enter or q closes it."""

    BINDINGS = [Binding("escape,enter,q", "close", "Close", id="notice.close")]

    def __init__(self, title: str, detail: Text | str = "") -> None:
        super().__init__()
        self.title_text = title
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="danger"):
            yield Label(literal(self.title_text, "bold"), id="dialog-title")
            if self.detail:
                yield Static(self.detail if isinstance(self.detail, Text) else literal(self.detail))
            yield Label(Text("esc / enter: close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)


class PromptScreen(ModalScreen[str | None]):
    """One line of text (a search, a folder, a file name); Esc cancels with None."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="prompt.cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "", *,
                 suggestions: list[str] | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.value = value
        self.placeholder = placeholder
        self.suggestions = suggestions  # completed as typed (right arrow takes the suggestion)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(literal(self.title_text, "bold"), id="dialog-title")
            suggester = SuggestFromList(self.suggestions, case_sensitive=False) if self.suggestions else None
            yield Input(value=self.value, placeholder=self.placeholder, id="prompt-input", suggester=suggester)
            yield Label(Text("enter: apply    esc: cancel", style="dim"))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_cancel(self) -> None:
        self.dismiss(None)


class TaskScreen(ModalScreen[tuple[str, str, datetime | None] | None]):
    """A task's title, notes and optional due date (the side panel's "Create a task"); Esc cancels with None.

    Enter on the title goes to the notes, enter on the notes (or the due date) creates the task;
    the due date is read as `enginy tasks add --due` reads it (storage.tasks.parse_due), and a
    date it cannot read keeps the form open with the reason, nothing typed lost."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="task.cancel")]

    def __init__(self, about: str, now: Callable[[], datetime]) -> None:
        super().__init__()
        self.about = about
        self.now = now

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(Text.assemble(("New task — ", "bold"), literal(self.about, "bold")), id="dialog-title")
            yield Input(placeholder="title (e.g. Call about the pilot)", id="task-title")
            yield Input(placeholder="notes (optional)", id="task-notes")
            yield Input(placeholder="due (optional): YYYY-MM-DD, +3d, today, tomorrow", id="task-due")
            yield Label(Text("enter: next / create    tab: due date    esc: cancel", style="dim"), id="task-hint")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        title = self.query_one("#task-title", Input)
        if event.input is title:
            self.query_one("#task-notes", Input).focus()
            return
        if not title.value.strip():
            title.focus()
            return
        try:
            due = parse_due(self.query_one("#task-due", Input).value, self.now())
        except TaskError as exc:
            self.query_one("#task-hint", Label).update(Text(str(exc), style="bold red"))
            self.query_one("#task-due", Input).focus()
            return
        self.dismiss((title.value, self.query_one("#task-notes", Input).value, due))

    def action_cancel(self) -> None:
        self.dismiss(None)


class MultiChoiceScreen(ModalScreen[list[str] | None]):
    """Pick any number of values (space toggles, enter applies); returns the chosen ids, or None on Esc."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="multi.cancel"),
        Binding("enter", "apply", "Apply", id="multi.apply", priority=True),  # before the list's own enter (toggle)
    ]

    def __init__(self, title: str, choices: list[tuple[str, Text | str]], chosen: list[str] = ()) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.chosen = set(chosen)

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(literal(self.title_text, "bold"), id="dialog-title")
            yield SelectionList(*[Selection(label if isinstance(label, Text) else literal(label), key, key in self.chosen)
                                  for key, label in self.choices], id="multi-list")
            yield Label(Text("space: pick / unpick    enter: apply    esc: cancel", style="dim"))

    def action_apply(self) -> None:
        self.dismiss(list(self.query_one(SelectionList).selected))

    def action_cancel(self) -> None:
        self.dismiss(None)


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of a few values (priority, stage, tag …); returns the option id, or None on Esc."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="choice.cancel"),
        Binding("j", "move(1)", "Down", show=False, id="choice.down"),
        Binding("k", "move(-1)", "Up", show=False, id="choice.up"),
    ]

    def __init__(self, title: str, choices: list[tuple[str, Text | str]], current: str | None = None) -> None:
        super().__init__()
        self.title_text = title
        self.choices = choices
        self.current = current

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(literal(self.title_text, "bold"), id="dialog-title")
            options = [Option(label if isinstance(label, Text) else literal(label), id=key)
                       for key, label in self.choices]
            yield OptionList(*options, id="choice-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        ids = [key for key, _ in self.choices]
        options.highlighted = ids.index(self.current) if self.current in ids else 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if delta > 0 else options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


HelpRow = tuple[str, str, str]  # keys, what they do, the tooltip


def help_sections(screen: Screen) -> list[tuple[str, list[HelpRow]]]:
    """The keys that work on `screen` now, from its live bindings, grouped: the screen's own
    first (enginy's keys), then those of every screen, then the focused list's cursor keys.

    Why this order and the merging: at 80×24 the help showed a page of generic cursor keys
    before any of enginy's, and "^q Quit" beside "q Quit". One row per action (its keys
    joined: "q, ^q"); bindings the screen disables here are left out."""
    app = screen.app
    rank = {"screen": 0, "app": 1, "widget": 2}
    keys: dict[tuple[str, str], list[str]] = {}
    group: dict[tuple[str, str], str] = {}
    tips: dict[tuple[str, str], str] = {}
    for _key, (node, binding, enabled, tooltip) in screen.active_bindings.items():
        if not binding.description or not enabled:
            continue
        # Textual's own bindings carry no id: generic keys (cursor, focus, copy), listed last
        where = "widget" if binding.id is None else "screen" if node is screen else "app" if node is app else "widget"
        ident = (binding.action, binding.description)
        keys.setdefault(ident, []).append(binding.key_display or app.get_key_display(binding))
        group[ident] = min(group.get(ident, where), where, key=rank.__getitem__)
        tips[ident] = tips.get(ident) or tooltip or binding.tooltip or ""
    titles = {"screen": "This screen", "app": "Everywhere", "widget": "Moving around"}
    return [(titles[g], [(", ".join(dict.fromkeys(k)), ident[1], tips[ident])
                         for ident, k in keys.items() if group[ident] == g])
            for g in titles if any(v == g for v in group.values())]


class HelpScreen(ModalScreen[None]):
    """The keys of the screen underneath (help_sections: built from its live bindings, so never
    out of date), then a legend of the symbols the screens use.

    The whole text scrolls (j/k, arrows, space/tab and page keys, g/G, home/end): at 80×24 a
    screen's keys are taller than the dialog."""

    BINDINGS = [
        Binding("escape,q,question_mark", "close", "Close", id="help.close"),
        Binding("j,down", "scroll(1)", "Down", show=False, id="help.down"),
        Binding("k,up", "scroll(-1)", "Up", show=False, id="help.up"),
        Binding("pagedown,space,tab,ctrl+d", "page(1)", "Page down", show=False, id="help.page_down"),
        Binding("pageup,shift+tab,ctrl+u", "page(-1)", "Page up", show=False, id="help.page_up"),
        Binding("home,g", "edge(0)", "Top", show=False, id="help.top"),
        Binding("end,G", "edge(1)", "End", show=False, id="help.end"),
    ]

    def __init__(self, sections: list[tuple[str, list[HelpRow]]]) -> None:
        super().__init__()
        self.sections = sections

    @classmethod
    def of(cls, screen: Screen) -> "HelpScreen":
        return cls(help_sections(screen))

    def compose(self) -> ComposeResult:
        parts: list = []
        for title, rows in self.sections:
            grid = Table.grid(padding=(0, 2))
            grid.add_column(justify="right", style="bold", no_wrap=True)
            grid.add_column()
            for key, description, tooltip in rows:
                grid.add_row(key, Text.assemble(description, (f" — {tooltip}" if tooltip else "", "dim")))
            parts += [Text(title, style="bold underline"), grid, Text("")]
        parts += [Text("Symbols", style="bold underline"), legend(),
                  Text("\nEvery action is also in the command palette (: or ctrl+p).", style="dim")]
        text = Group(*parts)
        with Vertical(id="dialog", classes="help"):
            yield Label(Text.assemble(("Keys", "bold"), ("   j/k scroll · space/tab page · esc close", "dim")),
                        id="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(text, id="help-body")

    def on_mount(self) -> None:
        self.query_one("#help-scroll").focus()

    def _scroll(self) -> VerticalScroll:
        return self.query_one("#help-scroll", VerticalScroll)

    def action_scroll(self, delta: int) -> None:
        scroll = self._scroll()
        scroll.scroll_to(y=scroll.scroll_target_y + delta, animate=False)

    def action_page(self, delta: int) -> None:
        scroll = self._scroll()
        scroll.scroll_to(y=scroll.scroll_target_y + delta * max(scroll.scrollable_content_region.height - 1, 1),
                         animate=False)

    def action_edge(self, end: int) -> None:
        scroll = self._scroll()
        scroll.scroll_to(y=scroll.max_scroll_y if end else 0, animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
