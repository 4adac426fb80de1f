"""The Lists screen: every contact list, searched, sorted and filtered as the spec's audience step says.

Filters are `storage.campaign_setup.ListFilter` (search, most recent /
alphabetical, created by, date created, tag) — the wizard's step 2 picks lists
with the same query (`pick_lists`). A workspace holds tens of lists, so a
DataTable of all matches is enough (no virtual table). Actions: enter opens the
list's members in the Contacts screen; `a` adds the whole list to a campaign
through `storage.audience.add_list`, the CLI's `campaigns add-contacts --list`
(a contact once removed from that campaign is never re-added, and the report
line says how many were skipped and why); rename, tags, and delete (asks
first; the contacts are kept). Each has its CLI twin in `enginy lists`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import msgspec
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Input, Static

from storage.audience import add_list
from storage.campaign_setup import ListFilter, list_facets, pick_lists
from storage.campaigns import CampaignError, campaign_names
from storage.contacts import delete_list, rename_list, set_list_tags
from tui.commands import Command
from tui.screens.rows_screen import RowsScreen
from tui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen
from tui.screens.wizard_audience import DATES
from sequences.wording import ago
from tui.text import literal
from tui.widgets.footer import BindingsFooter

SORTS = {"recent": "most recent", "alpha": "alphabetical"}


class ListsScreen(RowsScreen):
    """Contact lists; enter opens one, a adds it to a campaign."""

    TABLE_ID, SEARCH_ID = "lists-table", "lists-search"

    BINDINGS = [
        Binding("enter", "open", "Open", id="lists.open", tooltip="The list's contacts (search, mark, add)"),
        Binding("slash", "search", "Search", id="lists.search", tooltip="Find a list by name as you type"),
        Binding("s", "sort", "Sort", id="lists.sort", tooltip="Most recent or alphabetical"),
        Binding("f", "filters", "Filters", id="lists.filters", tooltip="Created by, date created, tag"),
        Binding("a", "add", "Add to campaign", id="lists.add",
                tooltip="Add every contact of the list to a campaign (removed ones are never re-added)"),
        Binding("r", "rename", "Rename", show=False, id="lists.rename", tooltip="Give the list another name"),
        Binding("t", "tags", "Tags", show=False, id="lists.tags", tooltip="Edit the list's tags"),
        Binding("D", "delete", "Delete", id="lists.delete", tooltip="Delete the list (asks first; contacts are kept)"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="lists.clear"),
        Binding("j", "move(1)", "Down", show=False, id="lists.down"),
        Binding("k", "move(-1)", "Up", show=False, id="lists.up"),
    ]

    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.flt = ListFilter()
        self.days = ""  # the date filter as chosen ("30": the last 30 days); since is computed from it
        self.rows: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search lists (/)", id="lists-search")
        yield Static(id="lists-filters")
        table: DataTable = DataTable(id="lists-table", cursor_type="row", zebra_stripes=True)
        table.add_column("List", key="name")
        table.add_column("Contacts", key="members")
        table.add_column("Created by", key="by")
        table.add_column("Created", key="at")
        table.add_column("Tags", key="tags")
        yield table
        yield Static(id="lists-report")
        yield BindingsFooter()

    # --- data ----------------------------------------------------------------------

    def _query(self) -> ListFilter:
        since = (self.ctx.now() - timedelta(days=int(self.days))).isoformat() if self.days else ""
        return msgspec.structs.replace(self.flt, since=since)

    async def refresh_data(self) -> None:
        """Read the matching lists on a worker thread and show them, keeping the highlighted one."""
        flt, reader = self._query(), self.ctx.reader
        rows = await asyncio.to_thread(lambda: pick_lists(reader.db(), flt, limit=None))
        keep = self.current()
        self.rows = rows
        now = self.ctx.now()
        table = self.table
        table.clear()
        for r in rows:
            table.add_row(literal(r["name"], "bold"), f"{r['members']:,}", literal(r["created_by"] or "—"),
                          ago(r["created_at"], now), literal(", ".join(r["tags"]), "italic"), key=str(r["id"]))
        if keep is not None and any(r["id"] == keep["id"] for r in rows):
            table.move_cursor(row=table.get_row_index(str(keep["id"])))
        self.query_one("#lists-filters", Static).update(self._describe())

    def _describe(self) -> Text:
        n = len(self.rows)
        text = Text(f"{n:,} list{'s' * (n != 1)}", style="bold", end="")
        text.append(f"  ·  sort: {SORTS[self.flt.sort]}", style="dim")
        for label, value in (("created by", self.flt.created_by), ("created", dict(DATES).get(self.days, "")
                                                                       if self.days else ""), ("tag", self.flt.tag)):
            if value:
                text.append(f"  ·  {label}: ", style="dim")
                text.append_text(literal(value, "bold"))
        if not self.rows:
            text.append("  ·  no list matches (x clears the filters)" if self._filtered()
                        else "  ·  no lists yet: i on the Contacts screen imports a CSV", style="dim")
        return text

    def _filtered(self) -> bool:
        return bool(self.flt.search or self.flt.created_by or self.flt.tag or self.days)

    def _report(self, text: Text | str) -> None:
        self.query_one("#lists-report", Static).update(text)

    # --- filters ---------------------------------------------------------------------

    async def action_sort(self) -> None:
        await self._set(sort="alpha" if self.flt.sort == "recent" else "recent")

    async def action_clear_filters(self) -> None:
        self.days = ""
        self.query_one("#lists-search", Input).value = ""  # its Changed message re-reads too
        await self._set(search="", created_by="", tag="")

    def action_filters(self) -> None:
        choices: list[tuple[str, Text | str]] = [("created_by", "Created by…"), ("days", "Date created…"),
                                                 ("tag", "Tag…"), ("clear", "Clear filters")]

        async def picked(key: str | None) -> None:
            if key == "clear":
                await self.action_clear_filters()
            elif key is not None:
                self._pick_value(key)

        self.app.push_screen(ChoiceScreen("Filter lists", choices), picked)

    def _pick_value(self, field_name: str) -> None:
        creators, tags = list_facets(self.ctx.db)
        values: list[tuple[str, Text | str]]
        if field_name == "days":
            values, current = [(key, label) for label, key in DATES], self.days
        else:
            found = creators if field_name == "created_by" else tags
            values = [("", "anyone" if field_name == "created_by" else "any")] + [(v, literal(v)) for v in found]
            current = getattr(self.flt, field_name)
        title = {"created_by": "Created by", "days": "Date created", "tag": "Tag"}[field_name]

        async def chosen(value: str | None) -> None:
            if value is None:
                return
            if field_name == "days":
                self.days = value
                await self.refresh_data()
            else:
                await self._set(**{field_name: value})

        self.app.push_screen(ChoiceScreen(title, values, current), chosen)

    # --- actions ---------------------------------------------------------------------

    def palette_commands(self) -> list[Command]:
        return [
            Command("Open list", "The list's contacts in the Contacts screen", self.action_open),
            Command("Add list to a campaign", "Every contact; removed ones are never re-added", self.action_add),
            Command("Search lists", "By name, as you type", self.action_search),
            Command("Sort lists", "Most recent or alphabetical", self.action_sort),
            Command("Filter lists", "Created by, date created, tag", self.action_filters),
            Command("Clear filters", "Every list", self.action_clear_filters),
            Command("Rename list", "Give the highlighted list another name", self.action_rename),
            Command("Edit list tags", "Comma-separated; the Tag filter uses them", self.action_tags),
            Command("Delete list", "Asks first; its contacts are kept", self.action_delete),
        ]

    def _need_list(self) -> dict[str, Any] | None:
        row = self.current()
        if row is None:
            self.notify("No list highlighted", severity="warning")
        return row

    def action_move(self, delta: int) -> None:
        self.table.action_cursor_down() if delta > 0 else self.table.action_cursor_up()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        from tui.screens.contacts import ContactsScreen

        if row := self._need_list():
            self.app.push_screen(ContactsScreen(self.ctx, list_id=row["id"], title=f"List {row['name']}"))

    def action_add(self) -> None:
        row = self._need_list()
        if row is None:
            return
        names = campaign_names(self.ctx.db)
        if not names:
            self.notify("No campaign yet: n on the dashboard creates one", severity="warning")
            return

        def chosen(name: str | None) -> None:
            if name is None:
                return
            try:
                report = self.ctx.run_intent(add_list, name, row["id"])
            except (CampaignError, LookupError) as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            line = Text.assemble(literal(f"{row['name']} → {name}: ", "bold"), report.summary())
            line.stylize("yellow" if report.removed_before or report.blocklisted else "green")
            self._report(line)
            self.notify(report.summary(), title=f"Added to {name}", markup=False,
                        severity="warning" if report.removed_before else "information")

        self.app.push_screen(ChoiceScreen(f"Add the {row['members']:,} contacts of {row['name']} to which campaign?",
                                          [(n, literal(n)) for n in names]), chosen)

    def action_rename(self) -> None:
        row = self._need_list()
        if row is None:
            return

        async def renamed(new_name: str | None) -> None:
            if new_name is None or new_name.strip() == row["name"]:
                return
            try:
                rename_list(self.ctx.db, row["name"], new_name)
            except (ValueError, KeyError) as exc:
                self.notify(str(exc).strip("'\""), severity="error", markup=False)
                return
            self._report(Text.assemble("Renamed ", literal(row["name"], "bold"), " to ",
                                       literal(new_name.strip(), "bold")))
            await self.refresh_data()

        self.app.push_screen(PromptScreen(f"Rename list {row['name']}", row["name"]), renamed)

    def action_tags(self) -> None:
        row = self._need_list()
        if row is None:
            return
        _, known = list_facets(self.ctx.db)

        async def tagged(value: str | None) -> None:
            if value is None:
                return
            wanted = {t.strip() for t in value.split(",") if t.strip()}
            old = set(row["tags"])
            try:
                tags = set_list_tags(self.ctx.db, row["name"], add=wanted - old, remove=old - wanted)
            except KeyError:
                self.notify(f"List {row['name']} is gone", severity="error", markup=False)
                return
            self._report(Text.assemble(literal(row["name"], "bold"), " tags: ",
                                       literal(", ".join(tags) or "(none)", "italic")))
            await self.refresh_data()

        self.app.push_screen(PromptScreen(f"Tags of {row['name']} (comma-separated)", ", ".join(row["tags"]),
                                          "q4, smb", suggestions=known), tagged)

    def action_delete(self) -> None:
        row = self._need_list()
        if row is None:
            return

        async def answered(yes: bool | None) -> None:
            if not yes:
                return
            try:
                members = delete_list(self.ctx.db, row["name"])
            except KeyError:
                members = 0
            self._report(Text.assemble("Deleted list ", literal(row["name"], "bold"),
                                       f" ({members:,} memberships; the contacts are kept)"))
            await self.refresh_data()

        self.app.push_screen(ConfirmScreen(f"Delete list {row['name']}?",
                                           f"Its {row['members']:,} contacts are kept, in other lists and in "
                                           "campaigns too."), answered)
