"""Pick a file from a folder tree (enter on a file chooses it, esc cancels)."""

from __future__ import annotations

from pathlib import Path

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import DirectoryTree, Label

from tui.text import literal


class FilePicker(ModalScreen[Path | None]):
    """A DirectoryTree rooted at `start`; backspace goes up one folder."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel"),
        Binding("backspace", "up", "Parent folder", id="picker.up"),
    ]

    def __init__(self, start: Path) -> None:
        super().__init__()
        self.start = start.resolve()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="picker"):
            yield Label(literal(str(self.start), "bold"), id="dialog-title")
            yield DirectoryTree(self.start, id="picker-tree")
            yield Label(Text("enter: choose    backspace: parent folder    esc: cancel", style="dim"))

    def on_directory_tree_file_selected(self, event: DirectoryTree.FileSelected) -> None:
        event.stop()
        self.dismiss(event.path)

    def action_up(self) -> None:
        tree = self.query_one(DirectoryTree)
        parent = Path(tree.path).parent
        tree.path = parent
        self.query_one("#dialog-title", Label).update(literal(str(parent), "bold"))

    def action_cancel(self) -> None:
        self.dismiss(None)
