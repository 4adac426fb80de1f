"""Step 2 of the wizard: the audience, from a list or contact by contact.

Lists are filtered as the spec says (search, most recent / alphabetical,
created by, date, tags: `storage.campaign_setup.pick_lists`); enter on a list
enrols its contacts. The contacts table is a `VirtualTable` over
`storage.contacts_view.ContactsSource`, the Contacts screen's (keyset pages, never the whole table): space marks, enter
enrols the marked contacts (or the highlighted one). Enrolment goes through
`storage.audience`, which never re-adds a contact once removed from the
campaign; the report line says so when it happens.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, OptionList, Select, Static
from textual.widgets.option_list import Option

from storage.audience import add_contacts, add_list
from storage.campaign_setup import ListFilter, audience_size, list_facets, pick_lists
from storage.contacts_view import ContactFilter, ContactsSource
from tui.screens.contacts import COLUMNS
from tui.text import literal
from tui.widgets.virtual_table import VirtualTable

DATES = [("any time", ""), ("last 7 days", "7"), ("last 30 days", "30"), ("last 90 days", "90"),
         ("last year", "365")]


class AudienceStep(Vertical):
    """The audience step's two pickers; `wizard` is the WizardScreen (ctx and campaign id)."""

    def __init__(self, wizard, **kwargs) -> None:
        super().__init__(**kwargs)
        self.wizard = wizard
        self.lists: list[dict] = []

    def compose(self) -> ComposeResult:
        creators, tags = list_facets(self.wizard.ctx.db)
        yield Static(id="audience-size")
        yield Static(id="audience-report")
        yield Label(Text("From a list — enter adds the highlighted list", style="bold"))
        with Horizontal(classes="wizard-row"):
            yield Input(placeholder="search lists", id="list-search")
            yield Select([("most recent", "recent"), ("alphabetical", "alpha")], value="recent", allow_blank=False,
                         id="list-sort")
        with Horizontal(classes="wizard-row"):
            yield Select([(literal(c), c) for c in creators], prompt="created by: anyone", id="list-creator")
            yield Select(DATES, value="", allow_blank=False, id="list-date")
            yield Select([(literal(t), t) for t in tags], prompt="tag: any", id="list-tag")
        yield OptionList(id="list-options")
        yield Label(Text("Or contacts one by one — space marks, enter adds the marked (or highlighted)",
                         style="bold"))
        yield Input(placeholder="search contacts (name, email, company, title, LinkedIn URL)", id="contact-search")
        yield VirtualTable(COLUMNS, empty="No contacts match.", id="contact-table")

    async def on_mount(self) -> None:
        await self.refresh_data()

    async def refresh_data(self) -> None:
        """Re-read the lists, the audience size and the contacts (after an enrolment, or a new campaign)."""
        await self._load_lists()
        cid = self.wizard.campaign_id
        size = audience_size(self.wizard.ctx.db, cid) if cid is not None else 0
        self.query_one("#audience-size", Static).update(
            Text.assemble(("Audience: ", "bold"), f"{size:,} contact{'s' * (size != 1)}"))
        self._reset_contacts()

    def _filter(self) -> ListFilter:
        days = self.query_one("#list-date", Select).value
        since = (self.wizard.ctx.now() - timedelta(days=int(days))).isoformat() if days else ""
        creator = self.query_one("#list-creator", Select).value
        tag = self.query_one("#list-tag", Select).value
        return ListFilter(search=self.query_one("#list-search", Input).value.strip(),
                          sort=self.query_one("#list-sort", Select).value,  # type: ignore[arg-type]
                          created_by=creator if isinstance(creator, str) else "",
                          since=since, tag=tag if isinstance(tag, str) else "")

    async def _load_lists(self) -> None:
        flt = self._filter()
        reader = self.wizard.ctx.reader
        self.lists = await asyncio.to_thread(lambda: pick_lists(reader.db(), flt))
        options = self.query_one("#list-options", OptionList)
        options.clear_options()
        for row in self.lists:
            when = row["created_at"][:10]
            label = Text.assemble(literal(row["name"], "bold"), f"  {row['members']:,} contacts  ",
                                  literal(f"{row['created_by'] or '—'} · {when}", "dim"),
                                  literal("  " + ", ".join(row["tags"]), "italic") if row["tags"] else "")
            options.add_option(Option(label, id=str(row["id"])))
        if self.lists:
            options.highlighted = 0
        else:
            options.add_option(Option(Text("No list matches (import contacts with `enginy contacts import`).",
                                           style="dim"), disabled=True))

    def _reset_contacts(self) -> None:
        table = self.query_one("#contact-table", VirtualTable)
        cid = self.wizard.campaign_id
        if cid is None:
            table.reset(None)
            return
        search = self.query_one("#contact-search", Input).value
        table.set_source(ContactsSource(self.wizard.ctx.reader, ContactFilter(search=search.strip())), keep_marks=True)

    @on(Input.Changed, "#list-search")
    @on(Select.Changed, "#list-sort, #list-creator, #list-date, #list-tag")
    async def _lists_changed(self) -> None:
        await self._load_lists()

    @on(Input.Changed, "#contact-search")
    def _contacts_changed(self) -> None:
        self._reset_contacts()

    @on(OptionList.OptionSelected, "#list-options")
    async def _list_chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        if event.option.id:
            await self.add_list(int(event.option.id))

    @on(VirtualTable.Selected, "#contact-table")
    async def _contacts_chosen(self, event: VirtualTable.Selected) -> None:
        event.stop()
        await self.add_marked()

    async def add_list(self, list_id: int | None = None) -> None:
        """Enrol a list (the highlighted one when none is given)."""
        if list_id is None:
            options = self.query_one("#list-options", OptionList)
            if options.highlighted is None or not self.lists:
                self.notify("No list highlighted", severity="warning")
                return
            list_id = self.lists[options.highlighted]["id"]
        await self._enrol(lambda db, cid, **kw: add_list(db, cid, list_id, **kw))

    async def add_marked(self) -> None:
        """Enrol the marked contacts, or the highlighted one when none is marked."""
        table = self.query_one("#contact-table", VirtualTable)
        ids = sorted(table.marked) or ([table.current.id] if table.current is not None else [])
        if not ids:
            self.notify("No contact marked (space marks)", severity="warning")
            return
        if await self._enrol(lambda db, cid, **kw: add_contacts(db, cid, ids, **kw)):
            table.marked.clear()

    async def _enrol(self, fn) -> bool:
        cid = await self.wizard.ensure_campaign()
        if cid is None:
            return False
        try:
            report = self.wizard.ctx.run_intent(fn, cid)
        except (LookupError, ValueError) as exc:
            self.notify(str(exc), severity="warning")
            return False
        line = report.summary()
        self.query_one("#audience-report", Static).update(
            Text(line, style="yellow" if report.removed_before else "green"))
        self.notify(line, severity="warning" if report.removed_before else "information")
        await self.refresh_data()
        return True
