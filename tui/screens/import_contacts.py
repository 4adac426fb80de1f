"""Import a contacts file with a mapping step: file → columns as detected → check → import → summary.

Why a check before the import: a file from another tool can map wrongly (a
column of company pages, a "Name" that is a company), and the importer is
forgiving, so nothing would stop it. The check is a dry run of the real
importer (storage.contact_import, rolled back), so the counts and row
errors it shows are exactly what the import will do. Reading and importing
run on worker threads with a connection of their own; the screen stays live.
"""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Header, Input, Label, ProgressBar, Select, Static

from storage.contact_import import FilePreview, ImportResult, import_contacts, preview_file
from storage.csv_read import CsvFileError
from storage.db import open_db
from storage.import_mapping import TARGETS, MappingError
from tui.commands import Command
from tui.text import literal
from tui.widgets.file_field import FileField
from tui.widgets.footer import BindingsFooter

SHOWN_ERRORS = 8


class ImportScreen(Screen):
    """Choose a file, check the mapping of each column, see the errors, import with progress."""

    BINDINGS = [
        Binding("ctrl+o", "browse", "Browse", id="import.browse", tooltip="Pick the file from a folder tree"),
        Binding("ctrl+r", "check", "Check", id="import.check",
                tooltip="Dry run: counts and row errors of this mapping, nothing written"),
        Binding("ctrl+s", "commit", "Import", id="import.commit", tooltip="Import the file with this mapping"),
    ]

    def __init__(self, ctx, path: str = "") -> None:
        super().__init__()
        self.ctx = ctx
        self.initial = path
        self.found: FilePreview | None = None
        self.busy = False

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="import-body"):
            yield FileField("File (CSV or Excel text, any encoding and delimiter)", self.initial, id="import-file")
            yield Label("List to add the contacts to", classes="field-label")
            yield Input("Imported", placeholder="list name", id="import-list")
            yield Static(Text("choose a file to see its columns", style="dim"), id="import-info")
            yield Vertical(id="import-columns")
            yield Static("", id="import-check")
            yield ProgressBar(total=100, show_eta=False, id="import-progress")
            yield Static("", id="import-summary")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.query_one("#import-progress").display = False
        self.query_one(".file-path", Input).focus()  # the first thing to do here is to name the file

    def palette_commands(self) -> list[Command]:
        return [
            Command("Browse for the file", "Pick the import file", self.action_browse),
            Command("Check the import", "Dry run of this mapping: counts and errors", self.action_check),
            Command("Import now", "Import the file with this mapping", self.action_commit),
        ]

    # -- reading the file -------------------------------------------------------------

    @on(FileField.Edited)
    def _file_changed(self) -> None:
        field = self.query_one(FileField)
        if field.path and not field.problem:
            self._read(field.path)

    @work(thread=True, exclusive=True, group="read")
    def _read(self, path: str) -> None:
        try:
            found = preview_file(path)
        except (CsvFileError, MappingError, OSError) as exc:
            self.app.call_from_thread(self._show_problem, str(exc))
            return
        self.app.call_from_thread(self._show_columns, found)

    async def _show_problem(self, problem: str) -> None:
        self.found = None
        self.query_one("#import-info", Static).update(Text("✗ ", style="bold").append_text(literal(problem, "bold")))
        await self.query_one("#import-columns").remove_children()

    async def _show_columns(self, found: FilePreview) -> None:
        self.found = found
        delimiter = {"\t": "tab"}.get(found.delimiter, found.delimiter)
        info = f"{found.rows:,} rows · {found.encoding} · delimiter {delimiter!r}"
        if found.header_row > 1:
            info += f" · header on row {found.header_row} (lines before it skipped)"
        self.query_one("#import-info", Static).update(Text(info))
        box = self.query_one("#import-columns")
        await box.remove_children()
        options = [(label, key) for key, label in TARGETS.items()]
        rows = []
        for i, column in enumerate(found.columns):
            rows.append(Horizontal(
                Label(literal(column.name[:28]), classes="import-name"),
                Select(options, value=column.target, allow_blank=False, id=f"map-{i}", classes="import-target",
                       compact=True),
                Label(literal(" | ".join(column.samples) or "—", "dim"), classes="import-samples"),
                classes="import-row"))
        await box.mount_all(rows)
        for i, column in enumerate(found.columns):  # a Select takes its value for sure once mounted
            self.query_one(f"#map-{i}", Select).value = column.target
        self.query_one("#import-check", Static).update(Text("ctrl+r checks this mapping", style="dim"))

    def mapping(self) -> dict[int, str]:
        """Column index → target as the Selects now say."""
        if self.found is None:
            return {}
        return {i: str(self.query_one(f"#map-{i}", Select).value) for i in range(len(self.found.columns))}

    @on(Select.Changed, ".import-target")
    def _mapping_changed(self) -> None:
        detected = self.found is not None and all(
            self.mapping()[i] == c.target for i, c in enumerate(self.found.columns))
        line = "ctrl+r checks this mapping" if detected else "mapping changed: ctrl+r checks it"
        self.query_one("#import-check", Static).update(Text(line, style="dim"))

    # -- check and import ---------------------------------------------------------------

    def action_browse(self) -> None:
        self.query_one(FileField).pick()

    def _ready(self) -> bool:
        if self.busy:
            self.notify("An import is running", severity="warning")
            return False
        if self.found is None:
            self.notify("Choose a file first", severity="warning")
            return False
        if not self.query_one("#import-list", Input).value.strip():
            self.notify("The list needs a name", severity="warning")
            return False
        return True

    def action_check(self) -> None:
        if self._ready():
            self.query_one("#import-check", Static).update(Text("checking…", style="dim"))
            self._run(True, self.ctx.now())

    def action_commit(self) -> None:
        if self._ready():
            bar = self.query_one("#import-progress", ProgressBar)
            bar.display = True
            bar.update(progress=0)
            self._run(False, self.ctx.now())

    @work(thread=True, exclusive=True, group="import")
    def _run(self, dry_run: bool, now) -> None:
        """On a worker thread with a connection of its own; `now` is read on the UI thread (ctx.db lives there)."""
        self.busy = True
        path = self.query_one(FileField).path
        list_name = self.query_one("#import-list", Input).value.strip()
        mapping: dict[str | int, str] = dict(self.mapping())
        db = open_db(self.ctx.workspace.db_path, check_same_thread=False)

        def progress(done: int, total: int) -> None:
            self.app.call_from_thread(self.query_one("#import-progress", ProgressBar).update,
                                      progress=done * 100 / max(total, 1))

        try:
            result = import_contacts(db, path, list_name=list_name, now=now, created_by=self.ctx.actor,
                                     mapping=mapping, dry_run=dry_run, progress=None if dry_run else progress)
        except (CsvFileError, MappingError, OSError) as exc:
            self.app.call_from_thread(self._finished, dry_run, None, str(exc))
            return
        finally:
            db.conn.close()
            self.busy = False
        self.app.call_from_thread(self._finished, dry_run, result, "")

    def _finished(self, dry_run: bool, result: ImportResult | None, problem: str) -> None:
        target = self.query_one("#import-check" if dry_run else "#import-summary", Static)
        if result is None:
            target.update(Text("✗ ", style="bold").append_text(literal(problem + "; nothing was imported", "bold")))
            return
        head = "Check (nothing written): " if dry_run else "Imported: "
        text = Text(head, style="bold")
        text.append(f"{result.imported:,} new, {result.updated:,} merged into existing contacts, "
                    f"{result.skipped:,} exact duplicates, {result.error_count:,} rows with errors")
        for error in result.errors[:SHOWN_ERRORS]:
            text.append("\n  row ", style="dim").append(str(error.row), style="bold").append("  ")
            text.append_text(literal(error.reason))
        if result.error_count > SHOWN_ERRORS:
            text.append(f"\n  … and {result.error_count - SHOWN_ERRORS:,} more "
                        "(`enginy contacts import --rejects FILE.csv` writes them all)", style="dim")
        target.update(text)
        if not dry_run:
            self.notify(f"{result.imported:,} contacts imported into the list", title="Import done")
