"""A file path with a picker and a live check that the file can be sent.

The check runs as the path is typed (and when the picker returns): the file
must exist, be a file, be readable, and for a voice message have an audio
extension. Its one line says exactly what is wrong, so a step never reaches
launch pointing at a file that is not there.
"""

from __future__ import annotations

import os
from pathlib import Path

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Button, Input, Label, Static

from tui.screens.file_picker import FilePicker
from tui.text import literal


def file_problem(path: str, *, audio_extensions: tuple[str, ...] = ()) -> str:
    """Why `path` cannot be sent ('' when it can, or when it is empty: the step's validation says "missing")."""
    if not path.strip():
        return ""
    file = Path(path.strip()).expanduser()
    if not file.exists():
        return f"no such file: {file}"
    if file.is_dir():
        return f"{file} is a folder, not a file"
    if not os.access(file, os.R_OK):
        return f"cannot read {file}: permission denied"
    if audio_extensions and file.suffix.lower() not in audio_extensions:
        return f"{file.name} is not an audio file (use {', '.join(audio_extensions)})"
    return ""


class FileField(Vertical):
    """Label, path input, a Browse… button and the check's line."""

    class Edited(Message):
        """The path changed."""

    def __init__(self, label: str, path: str, *, audio_extensions: tuple[str, ...] = (), read_only: bool = False,
                 id: str | None = None) -> None:
        super().__init__(id=id, classes="file-field")
        self.label = label
        self.initial = path
        self.audio_extensions = audio_extensions
        self.read_only = read_only

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        with Horizontal(classes="file-row"):
            yield Input(self.initial, placeholder="path to the file (ctrl+o or Browse… to pick)",
                        disabled=self.read_only, classes="file-path")
            yield Button("Browse…", disabled=self.read_only, classes="file-browse", compact=True)
        yield Static(self._check_line(), classes="file-check")

    @property
    def path(self) -> str:
        return self.query_one(".file-path", Input).value.strip()

    @property
    def problem(self) -> str:
        return file_problem(self.path, audio_extensions=self.audio_extensions)

    def _check_line(self) -> Text:
        path = self.initial if not self.is_mounted else self.path
        problem = file_problem(path, audio_extensions=self.audio_extensions)
        if problem:
            return Text("✗ ", style="bold").append_text(literal(problem, "bold"))
        if not path.strip():
            return Text("no file chosen yet", style="dim")
        return Text("✓ readable", style="dim")

    @on(Input.Changed, ".file-path")
    def _changed(self, event: Input.Changed) -> None:
        event.stop()
        self.query_one(".file-check", Static).update(self._check_line())
        self.post_message(self.Edited())

    @on(Button.Pressed, ".file-browse")
    def _browse(self, event: Button.Pressed) -> None:
        event.stop()
        self.pick()

    def pick(self) -> None:
        """Open the picker where the current path is (or the working folder)."""
        if self.read_only:
            return
        current = Path(self.path).expanduser() if self.path else Path.cwd()
        start = current if current.is_dir() else current.parent if current.parent.is_dir() else Path.cwd()

        def chosen(path: Path | None) -> None:
            if path is not None:
                self.query_one(".file-path", Input).value = str(path)

        self.app.push_screen(FilePicker(start), chosen)
