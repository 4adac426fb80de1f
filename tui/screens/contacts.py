"""The Contacts screen: every contact in a virtual table, searched on any field, marked, added to a campaign.

The table pages through storage.contacts_view.ContactsSource, so a million
contacts open as fast as a hundred. Marks (space) pick contacts one by one;
`a` adds the marked ones (or the highlighted one) to a campaign through
storage.audience.add_contacts, whose report says how many were already in,
blocklisted, or once removed from that campaign — those are never re-added.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Header, Input, Select, Static

from storage.audience import add_contacts
from storage.campaigns import CampaignError, campaign_names
from storage.contacts_view import SEARCHABLE, ContactFilter, ContactRow, ContactsSource
from tui.commands import Command
from tui.screens.modals import ChoiceScreen
from tui.text import literal
from tui.widgets.footer import BindingsFooter
from tui.widgets.virtual_table import Column, VirtualTable

COLUMNS = [
    Column("Name", 26, lambda r: literal(f"{r.first_name} {r.last_name}".strip() or "—")),
    Column("Company", 22, lambda r: literal(r.company or "")),
    Column("Title", 22, lambda r: literal(r.job_title or "")),
    Column("Email", 30, lambda r: literal(r.email or "", "dim")),
    Column("LinkedIn", None, lambda r: literal((r.linkedin_url or "").removeprefix("https://www."), "dim")),
]
FIELD_LABELS = {"": "any field", **{f: f.replace("_", " ") for f in SEARCHABLE}}


class ContactsScreen(Screen):
    """All contacts (or a list's): / searches, f picks the field, space marks, a adds to a campaign."""

    BINDINGS = [
        Binding("slash", "search", "Search", id="contacts.search", tooltip="Search the contacts"),
        Binding("f", "field", "Field", id="contacts.field", tooltip="Search one field or all of them"),
        Binding("a", "add", "Add to campaign", id="contacts.add",
                tooltip="Add the marked contacts (or the highlighted one) to a campaign"),
        Binding("i", "import", "Import", id="contacts.import", tooltip="Import a CSV with a mapping step"),
        Binding("u", "unmark", "Clear marks", show=False, id="contacts.unmark"),
    ]

    def __init__(self, ctx, *, list_id: int | None = None, title: str = "Contacts",
                 flt: ContactFilter | None = None) -> None:
        """`flt`: open on a narrower set ("View in list": some campaigns' audience, some leads)."""
        super().__init__()
        self.ctx = ctx
        self.flt = flt or ContactFilter(list_id=list_id)
        self.heading = title

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal(id="contacts-bar"):
            yield Input(placeholder="search (/)", id="contacts-search")
            yield Select([(label, key) for key, label in FIELD_LABELS.items()], value="", allow_blank=False,
                         id="contacts-field", compact=True)
        yield Static("", id="contacts-status")
        yield VirtualTable(COLUMNS, empty="No contacts. i imports a CSV.", id="contacts-table")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.table.set_source(ContactsSource(self.ctx.reader, self.flt))
        self.table.focus()

    @property
    def table(self) -> VirtualTable:
        return self.query_one("#contacts-table", VirtualTable)

    def palette_commands(self) -> list[Command]:
        return [
            Command("Search contacts", "Any field or one", self.action_search),
            Command("Add marked contacts to a campaign", "Removed contacts are never re-added", self.action_add),
            Command("Import contacts", "A CSV with a mapping step", self.action_import),
            Command("Clear marks", "Unmark every contact", self.action_unmark),
        ]

    def _refilter(self) -> None:
        search = self.query_one("#contacts-search", Input).value.strip()
        field = str(self.query_one("#contacts-field", Select).value or "")
        self.flt = replace(self.flt, search=search, field=field)
        self.table.set_source(ContactsSource(self.ctx.reader, self.flt), keep_marks=True)

    @on(Input.Changed, "#contacts-search")
    def _search_changed(self) -> None:
        self._refilter()

    @on(Input.Submitted, "#contacts-search")
    def _search_done(self) -> None:
        self.table.focus()

    @on(Select.Changed, "#contacts-field")
    def _field_changed(self) -> None:
        self._refilter()

    @on(VirtualTable.Loaded)
    @on(VirtualTable.Marked)
    def _loaded(self) -> None:
        marked = len(self.table.marked)
        text = Text(f"{self.heading}: {self.table.total_label()}", style="bold")
        if marked:
            text.append(f"  ·  {marked:,} marked", style="bold")
        self.query_one("#contacts-status", Static).update(text)

    def action_search(self) -> None:
        self.query_one("#contacts-search", Input).focus()

    def action_field(self) -> None:
        self.query_one("#contacts-field", Select).focus()

    def action_unmark(self) -> None:
        self.table.marked.clear()
        self.table.refresh()
        self._loaded()

    def action_import(self) -> None:
        from tui.screens.import_contacts import ImportScreen

        self.app.push_screen(ImportScreen(self.ctx))

    def action_add(self) -> None:
        ids = sorted(self.table.marked)
        current = self.table.current
        if not ids and isinstance(current, ContactRow):
            ids = [current.id]
        if not ids:
            self.notify("No contact marked or highlighted", severity="warning")
            return
        names = campaign_names(self.ctx.db)
        if not names:
            self.notify("No campaign yet", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name is None:
                return
            try:
                report = self.ctx.run_intent(add_contacts, name, ids)
            except CampaignError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.notify(report.summary(), title=f"Added to {name}", markup=False)
            self.table.marked.clear()
            self.table.refresh()
            self._loaded()

        self.app.push_screen(ChoiceScreen(f"Add {len(ids):,} contacts to which campaign?",
                                          [(n, literal(n)) for n in names]), chosen)
