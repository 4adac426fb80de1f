"""The campaigns dashboard: status tabs with counts, search, sort, filters (savable), campaign rows.

A workspace holds tens of campaigns, not millions, so this screen reads all
cards once per refresh (storage.metrics.dashboard, on a worker thread) and
tabs, search, filters and sort are applied in memory — instant while typing.
The large lists (audiences, activity) are in the campaign view's virtual tables.
"""

from __future__ import annotations

import asyncio
from dataclasses import asdict, dataclass, replace
from datetime import timedelta
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.coordinate import Coordinate
from textual.widgets import DataTable, Header, Static, Tab, Tabs

from sequences.statuses import CAMPAIGN_TABS
from storage.metrics import dashboard
from storage.saved_filters import save_filter, saved_filters
from tui.commands import Command
from tui.screens.campaign_actions import CAMPAIGN_BINDINGS, CampaignActions
from tui.date_range import ask_range
from tui.screens.modals import ChoiceScreen, MultiChoiceScreen, PromptScreen
from tui.text import literal, parse_time
from tui.widgets.footer import BindingsFooter
from tui.widgets.status import PRIORITY, campaign_status, channel_icons

TABS = {key: (label, tuple(s.value for s in statuses)) for key, (label, statuses) in CAMPAIGN_TABS.items()}
SORTS = {"launch": "launch date", "created": "creation date", "priority": "priority"}
DATE_RANGES = {"": "any time", "7": "last 7 days", "30": "last 30 days", "90": "last 90 days", "365": "last year",
               "custom": "custom range…"}
SCOPE = "campaigns"
#: The table's columns (key, header); the kept ones always show, at 80 columns too.
COLUMNS = (("priority", "⚑"), ("name", "Campaign"), ("identity", "Identity"), ("created", "Created"),
           ("status", "Status"), ("started", "Started"), ("contacted", "Contacted"), ("replied", "Replied"),
           ("channels", "Channels"), ("tags", "Tags"), ("folder", "Folder"))
#: What gives way, in this order, when the table is too narrow ("status:symbol": the status as its symbol only).
COLLAPSE = ("folder", "started", "identity", "created", "status:symbol")
HEADERS = dict(COLUMNS) | {"status:symbol": "St"}
NAME_WIDTH = (16, 44)  # the campaign name's column: at least, at most (the rest is cut with "…")


@dataclass(frozen=True)
class CardFilter:
    """The dashboard's search, sort and filters (what "Save current filters" stores)."""

    search: str = ""
    sort: str = "launch"
    identity: str = ""
    folder: str = ""
    days: str = ""
    tags: tuple[str, ...] = ()
    channel: str = ""
    priority: str = ""
    since: str = ""  # a custom creation range (days == "custom"): ISO from, ISO before, and its label
    until: str = ""
    range_label: str = ""

    def matches(self, row: dict[str, Any], now) -> bool:
        needle = self.search.casefold()
        if needle and needle not in row["name"].casefold() and needle not in row["identity"].casefold():
            return False
        if self.identity and row["identity"] != self.identity:
            return False
        if self.folder and row["folder"] != self.folder:
            return False
        if self.days == "custom":
            if (self.since and row["created_at"] < self.since) or (self.until and row["created_at"] >= self.until):
                return False
        elif self.days and (created := parse_time(row["created_at"])) and \
                created < now - timedelta(days=int(self.days)):
            return False
        if self.tags and not set(self.tags) & set(row["tags"]):
            return False
        if self.channel and self.channel not in row["channels"]:
            return False
        return not self.priority or row["priority"] == self.priority

    def sort_key(self, row: dict[str, Any]):
        if self.sort == "priority":
            return ({"high": 0, "medium": 1, "low": 2}[row["priority"]], -row["id"])
        stamp = row["launched_at"] if self.sort == "launch" else row["created_at"]
        return (stamp is None, "" if stamp is None else "".join(chr(0x10FFFF - ord(ch)) for ch in stamp), -row["id"])

    def describe(self) -> Text:
        text = Text(f"sort: {SORTS[self.sort]}", style="dim", end="")
        for label, value in (("search", self.search), ("identity", self.identity), ("folder", self.folder),
                             ("created", self.range_label if self.days == "custom" else DATE_RANGES[self.days] if self.days else ""),
                             ("tags", ", ".join(self.tags)), ("channel", self.channel),
                             ("priority", self.priority)):
            if value:
                text.append(f"  ·  {label}: ", style="dim")
                text.append_text(literal(value, "bold"))
        return text


class DashboardScreen(CampaignActions, Screen):
    """Campaign cards by status tab; enter opens one."""

    BINDINGS = [
        Binding("enter", "open", "Open", id="dashboard.open", tooltip="Open the campaign view"),
        Binding("n", "new_campaign", "New campaign", show=False, id="dashboard.new",
                tooltip="Create a campaign: from scratch or a template, then the wizard's four steps"),
        Binding("slash", "search", "Search", id="dashboard.search", tooltip="Search by campaign or identity"),
        Binding("s", "sort", "Sort", id="dashboard.sort", tooltip="Launch date, creation date or priority"),
        Binding("f", "filters", "Filters", id="dashboard.filters", tooltip="Identity, folder, dates, tags, channel, priority; save them"),
        Binding("Q", "queues", "Queues", show=False, id="dashboard.queues",
                tooltip="Live queue monitor: working hours, caps, lanes and blocked leads per identity"),
        Binding("i", "identities", "Identities", show=False, id="dashboard.identities",
                tooltip="Every identity: statistics, status, configuration"),
        Binding("C", "contacts", "Contacts", show=False, id="dashboard.contacts",
                tooltip="Every contact: search any field, mark, add to a campaign"),
        Binding("t", "tasks", "Tasks", show=False, id="dashboard.tasks",
                tooltip="Every task: pending, overdue, completed; complete, reopen, open the lead"),
        Binding("L", "lists", "Lists", show=False, id="dashboard.lists",
                tooltip="Every contact list: search, sort, filter, add one to a campaign"),
        Binding("M", "inbox", "Inbox", show=False, id="dashboard.inbox",
                tooltip="Every conversation across LinkedIn and email: read, reply, tag"),
        Binding("I", "import_contacts", "Import contacts", show=False, id="dashboard.import",
                tooltip="Import a CSV with a mapping step"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="dashboard.clear"),
        Binding("space", "mark", "Mark", show=False, id="dashboard.mark",
                tooltip="Mark or unmark the highlighted campaign: z, a, m and V then act on every marked one"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="dashboard.next_tab"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="dashboard.prev_tab"),
        *[Binding(str(i + 1), f"jump('{key}')", f"{label} tab", show=False, id=f"dashboard.tab_{key}")
          for i, (key, (label, _)) in enumerate(TABS.items())],
        Binding("j", "move(1)", "Down", show=False, id="dashboard.down"),
        Binding("k", "move(-1)", "Up", show=False, id="dashboard.up"),
        Binding("g", "edge(0)", "Top", show=False, id="dashboard.top"),
        Binding("G", "edge(1)", "End", show=False, id="dashboard.end"),
        *CAMPAIGN_BINDINGS,
    ]

    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.rows: list[dict[str, Any]] = []
        self.shown: list[dict[str, Any]] = []
        self.tab = "active"
        self.flt = CardFilter()
        self.marked: set[int] = set()  # campaign ids (space); kept across tabs and filters until acted on

    def compose(self) -> ComposeResult:
        yield Header()
        yield Tabs(*[Tab(label, id=f"tab-{key}") for key, (label, _) in TABS.items()], id="status-tabs")
        yield Static(id="filter-line")
        yield DataTable(id="campaigns", cursor_type="row", zebra_stripes=True)
        yield Static(id="status-line")
        yield BindingsFooter()

    async def on_mount(self) -> None:
        self.query_one(DataTable).focus()
        await self.refresh_data()

    async def on_screen_resume(self) -> None:
        await self.refresh_data()

    # --- data ----------------------------------------------------------------------

    async def refresh_data(self) -> None:
        now = self.ctx.now()
        reader = self.ctx.reader
        self.rows = await asyncio.to_thread(lambda: dashboard(reader.db(), now=now))
        self._render_rows()

    def _render_rows(self) -> None:
        now = self.ctx.now()
        tabs = self.query_one(Tabs)
        for key, (label, statuses) in TABS.items():
            n = sum(1 for r in self.rows if r["status"] in statuses)
            tabs.query_one(f"#tab-{key}", Tab).label = f"{label} {n}"
        statuses = TABS[self.tab][1]
        self.shown = sorted((r for r in self.rows if r["status"] in statuses and self.flt.matches(r, now)),
                            key=self.flt.sort_key)
        table = self.query_one(DataTable)
        keep = self.current_campaign()
        cells = [self._cells(r) for r in self.shown]
        widths = self._fit(cells, self.size.width or self.app.size.width)
        table.clear(columns=True)
        for key, width in widths.items():
            table.add_column(HEADERS[key], key=key, width=width)
        for r, row in zip(self.shown, cells):
            table.add_row(*[row[key] for key in widths], key=str(r["id"]))
        if keep is not None and any(r["id"] == keep["id"] for r in self.shown):
            table.move_cursor(row=table.get_row_index(str(keep["id"])))
        self.query_one("#filter-line", Static).update(self.flt.describe())
        self._show_marks()
        empty = "" if self.shown else f"No {TABS[self.tab][0].lower()} campaigns match."
        self.query_one("#status-line", Static).update(Text(empty or self.ctx.extra_status(), style="dim"))

    @staticmethod
    def _cells(r: dict[str, Any]) -> dict[str, Text]:
        symbol, _, style = PRIORITY[r["priority"]]
        status = campaign_status(r["status"])
        return {"priority": Text(symbol, style=style), "name": literal(r["name"], "bold"),
                "identity": literal(r["identity"]), "created": Text(r["created"]), "status": status,
                "status:symbol": Text(status.plain.split(" ")[0], style=status.style),
                "started": Text(f"{r['started']:,}"), "contacted": Text(f"{r['contacted']:,}"),
                "replied": Text(f"{r['replied']:,}"), "channels": channel_icons(r["channels"]),
                "tags": literal(", ".join(r["tags"]), "italic"), "folder": literal(r["folder"], "dim")}

    @staticmethod
    def _fit(cells: list[dict[str, Text]], width: int) -> dict[str, int]:
        """The columns shown and their widths: everything when it fits, else the COLLAPSE
        columns give way in order and the campaign name takes what is left (cut with "…").

        Why: at 80×24 the table ran off the right edge with Contacted, Replied, Channels and Tags."""
        need = {key: max([len(HEADERS[key])] + [row[key].cell_len for row in cells]) for key in HEADERS}
        need["name"] = min(max(need["name"], NAME_WIDTH[0]), NAME_WIDTH[1])
        shown = [key for key, _ in COLUMNS]
        room = width - 2  # the scrollbar

        def total(keys: list[str]) -> int:
            return sum(need[k] + 2 for k in keys)  # each cell has one column of padding either side

        for give in COLLAPSE:
            if total(shown) <= room:
                break
            if give == "status:symbol":
                shown[shown.index("status")] = "status:symbol"
            else:
                shown.remove(give)
        widths = {key: need[key] for key in shown}
        widths["name"] = max(NAME_WIDTH[0], min(need["name"], room - total(shown) + need["name"]))
        if total(shown) - need["name"] + widths["name"] > room:  # still too wide: the tags give way too
            widths["tags"] = max(4, widths["tags"] - (total(shown) - need["name"] + widths["name"] - room))
        return widths

    def on_resize(self) -> None:
        self._render_rows()

    def current_campaign(self) -> dict[str, Any] | None:
        table = self.query_one(DataTable)
        if not self.shown or table.cursor_row is None or table.cursor_row >= len(self.shown):
            return None
        return self.shown[table.cursor_row]

    def _show_marks(self) -> None:
        """A ● before each marked campaign's name (the name is the table's second column), and the count."""
        table = self.query_one(DataTable)
        for index, r in enumerate(self.shown):
            if r["id"] in self.marked:
                table.update_cell_at(Coordinate(index, 1), Text.assemble(("● ", "bold yellow"), literal(r["name"], "bold")))
        line = self.flt.describe()
        if self.marked:
            line.append(f"  ·  {len(self.marked)} marked (esc: unmark)", style="bold yellow")
        self.query_one("#filter-line", Static).update(line)

    def action_mark(self) -> None:
        row = self.current_campaign()
        if row is None:
            return
        self.marked.symmetric_difference_update({row["id"]})
        self._render_rows()

    def campaign_targets(self) -> list[dict[str, Any]]:
        if self.marked:
            return [r for r in self.rows if r["id"] in self.marked]
        return super().campaign_targets()

    def after_many(self) -> None:
        self.marked.clear()

    def export_ids(self) -> list[int] | None:
        return [r["id"] for r in self.shown]

    # --- actions ---------------------------------------------------------------------

    def palette_commands(self) -> list[Command]:
        return [
            Command("Open campaign", "Open the highlighted campaign", self.action_open),
            Command("New campaign", "From scratch or a template, then the wizard (key n)", self.action_new_campaign),
            Command("Queues", "Live queue monitor of every identity", self.action_queues),
            Command("Identities", "Statistics, status and configuration of every identity", self.action_identities),
            Command("Contacts", "Every contact: search, mark, add to a campaign", self.action_contacts),
            Command("Lists", "Every contact list: search, filter, add one to a campaign", self.action_lists),
            Command("Tasks", "Every task: pending, overdue, completed (key t)", self.action_tasks),
            Command("Import contacts", "A CSV with a mapping step", self.action_import_contacts),
            Command("Inbox", "Every conversation across LinkedIn and email: read, reply, tag (key M)", self.action_inbox),
            *[Command(f"Show {label} campaigns", f"Status tab {label}", lambda k=key: self.action_jump(k))
              for key, (label, _) in TABS.items()],
            Command("Search campaigns", "By campaign or identity", self.action_search),
            Command("Sort campaigns", "Launch date, creation date, priority", self.action_sort),
            Command("Filter campaigns", "Identity, folder, dates, tags, channel, priority", self.action_filters),
            Command("Clear filters", "Show every campaign of the tab", self.action_clear_filters),
            *self.campaign_commands(),
            *[Command(f"Edit sequence of {row['name']}", f"The sequence tree editor ({row['status']})",
                      lambda row=row: self.edit_sequence(row)) for row in self.rows],
        ]

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        self.tab = event.tab.id.removeprefix("tab-")
        self._render_rows()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        self.action_open()

    def action_open(self) -> None:
        if row := self.current_campaign():
            self.app.open_campaign(row["id"])

    def action_new_campaign(self) -> None:
        """The template gallery, then the wizard on the choice (nothing is created if cancelled)."""
        from tui.screens.wizard import WizardScreen
        from tui.screens.wizard_start import TemplateGallery

        def chosen(template: str | None) -> None:
            if template is not None:
                self.app.push_screen(WizardScreen(self.ctx, template=template))

        self.app.push_screen(TemplateGallery(self.ctx), chosen)

    def action_queues(self) -> None:
        from tui.screens.queues import QueuesScreen

        self.app.push_screen(QueuesScreen(self.ctx))

    def action_identities(self) -> None:
        from tui.screens.identities import IdentitiesScreen

        self.app.push_screen(IdentitiesScreen(self.ctx))

    def action_contacts(self) -> None:
        from tui.screens.contacts import ContactsScreen

        self.app.push_screen(ContactsScreen(self.ctx))

    def action_tasks(self) -> None:
        from tui.screens.tasks import TasksScreen

        self.app.push_screen(TasksScreen(self.ctx))

    def action_lists(self) -> None:
        from tui.screens.lists import ListsScreen

        self.app.push_screen(ListsScreen(self.ctx))

    def action_inbox(self) -> None:
        from tui.screens.conversations import ConversationsScreen

        self.app.push_screen(ConversationsScreen(self.ctx))

    def action_import_contacts(self) -> None:
        from tui.screens.import_contacts import ImportScreen

        self.app.push_screen(ImportScreen(self.ctx))

    def action_tab(self, delta: int) -> None:
        keys = list(TABS)
        self.action_jump(keys[(keys.index(self.tab) + delta) % len(keys)])

    def action_jump(self, key: str) -> None:
        self.query_one(Tabs).active = f"tab-{key}"

    def action_move(self, delta: int) -> None:
        table = self.query_one(DataTable)
        table.action_cursor_down() if delta > 0 else table.action_cursor_up()

    def action_edge(self, end: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=max(len(self.shown) - 1, 0) if end else 0)

    def _set(self, **changes: Any) -> None:
        self.flt = replace(self.flt, **changes)
        self._render_rows()

    def action_search(self) -> None:
        self.app.push_screen(PromptScreen("Search campaigns (name or identity)", self.flt.search),
                             lambda v: v is not None and self._set(search=v.strip()))

    def action_sort(self) -> None:
        keys = list(SORTS)
        self._set(sort=keys[(keys.index(self.flt.sort) + 1) % len(keys)])

    def action_clear_filters(self) -> None:
        self._set(**{k: v for k, v in asdict(CardFilter(sort=self.flt.sort)).items()})

    def action_filters(self) -> None:
        saved = saved_filters(self.ctx.db, SCOPE)
        choices: list[tuple[str, Text | str]] = [
            ("identity", "Identity…"), ("folder", "Folder…"), ("days", "Date range (created)…"), ("tags", "Campaign tags…"),
            ("channel", "Channel…"), ("priority", "Priority…"), ("save", "+ Save current filters…"),
            *[(f"saved:{name}", Text.assemble("Saved: ", literal(name, "bold"))) for name in saved],
            ("clear", "Clear filters"),
        ]

        def picked(key: str | None) -> None:
            if key is None:
                return
            if key == "clear":
                self.action_clear_filters()
            elif key == "save":
                self.app.push_screen(PromptScreen("Save current filters as"), self._save)
            elif key.startswith("saved:"):
                stored = saved[key.removeprefix("saved:")]
                stored["tags"] = tuple(stored.get("tags", ()))
                self.flt = CardFilter(**{k: v for k, v in stored.items() if k in CardFilter.__dataclass_fields__})
                self._render_rows()
            else:
                self._pick_value(key)

        self.app.push_screen(ChoiceScreen("Filters", choices), picked)

    def _pick_value(self, field_name: str) -> None:
        values: list[tuple[str, Text | str]]
        if field_name == "tags":
            found = sorted({t for r in self.rows for t in r["tags"]})
            if not found:
                self.notify("No campaign has a tag yet", severity="warning")
                return
            self.app.push_screen(MultiChoiceScreen("Campaign tags (any of them)", [(t, literal(t)) for t in found],
                                                   list(self.flt.tags)),
                                 lambda chosen: chosen is not None and self._set(tags=tuple(chosen)))
            return
        if field_name == "days":
            values = list(DATE_RANGES.items())
        elif field_name == "priority":
            values = [("", "any")] + [(k, Text(f"{s} {label}", style=st)) for k, (s, label, st) in PRIORITY.items()]
        elif field_name == "channel":
            values = [("", "any"), ("linkedin", "LinkedIn"), ("email", "Email"), ("task", "Task")]
        else:
            found = sorted({t for r in self.rows for t in (r["tags"] if field_name == "tags" else [r[field_name]]) if t})
            values = [("", "any")] + [(v, literal(v)) for v in found]

        def chosen(value: str | None) -> None:
            if value is None:
                return
            if value == "custom":
                ask_range(self, "Created between", lambda since, until, label: self._set(
                    days="custom", since=since or "", until=until or "", range_label=label))
            else:
                self._set(**{field_name: value})

        self.app.push_screen(ChoiceScreen(field_name.capitalize(), values), chosen)

    def _save(self, name: str | None) -> None:
        if not name:
            return
        query = asdict(self.flt)
        query["tags"] = list(self.flt.tags)
        try:
            save_filter(self.ctx.db, SCOPE, name, query, now=self.ctx.now())
        except ValueError as exc:
            self.notify(str(exc), severity="warning")
            return
        self.notify(f"Saved filters as {name.strip()}")

    async def action_back(self) -> None:
        """Esc on the dashboard unmarks, else clears the search and filters (there is nothing further back)."""
        if self.marked:
            self.marked.clear()
            self._render_rows()
        elif self.flt != CardFilter(sort=self.flt.sort):
            self.action_clear_filters()
