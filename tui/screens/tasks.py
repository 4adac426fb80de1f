"""The Tasks screen: every task of the workspace by tab (pending, overdue, completed, all), filtered by
campaign and identity; complete, reopen, open the lead in its campaign.

Tasks come from sequences' Task steps (due `due_days` after the step ran) and
from the side panel's "Create a task". What it reads is storage.tasks'
read model (at most `LIST_LIMIT` rows, the status line says when there are
more); completing and reopening are storage intents, logged on the lead's
timeline, and counted by the campaign's Tasks metrics. Completing is undone
by reopening (u), so it asks nothing.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Header, Static, Tab, Tabs

from storage.tasks import LIST_LIMIT, Show, TaskError, TaskFilter, TaskRow, complete_task, list_tasks, reopen_task, \
    task_counts, task_owners
from tui.commands import Command
from tui.screens.rows_screen import RowsScreen
from tui.screens.modals import ChoiceScreen
from sequences.wording import ago
from tui.text import literal
from tui.widgets.footer import BindingsFooter

TABS = {Show.PENDING: "Pending", Show.OVERDUE: "Overdue", Show.COMPLETED: "Completed", Show.ALL: "All"}
#: (label, width) of each column; from WIDE columns on, Identity and Type are shown too and the texts get room.
NARROW = (("", 1), ("Due", 9), ("Task", 26), ("Lead", 18), ("Campaign", 14))
WIDE_COLUMNS = (("", 1), ("Due", 9), ("Task", 44), ("Lead", 26), ("Campaign", 24), ("Identity", 16), ("Type", 8))
WIDE = 120
TYPE_LABEL = {"call": "Call", "todo": "To-do", "linkedin": "LinkedIn", "email": "Email", "other": "Other"}


def mark(task: TaskRow) -> Text:
    """✔ done, ! overdue, ☐ pending: a symbol as well as a colour."""
    if task.status == "completed":
        return Text("✔", style="green")
    return Text("!", style="bold red") if task.overdue else Text("☐", style="bold yellow")


class TasksScreen(RowsScreen):
    """Tasks by tab; d completes, u reopens, enter opens the lead, c / i filter by campaign / identity."""

    TABLE_ID = "tasks-table"

    BINDINGS = [
        Binding("enter", "open_lead", "Open lead", id="tasks.open", tooltip="The lead beside its campaign's audience"),
        Binding("d", "complete", "Done", id="tasks.done", tooltip="Mark the highlighted task completed (u undoes)"),
        Binding("u", "reopen", "Reopen", id="tasks.reopen", tooltip="Make the highlighted completed task pending again"),
        Binding("c", "campaign", "Campaign", id="tasks.campaign", tooltip="Only one campaign's tasks"),
        Binding("i", "identity", "Identity", id="tasks.identity", tooltip="Only the tasks of one identity's campaigns"),
        Binding("x", "clear", "Clear filters", show=False, id="tasks.clear"),
        Binding("right_square_bracket", "tab(1)", "Next tab", show=False, id="tasks.next_tab"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="tasks.prev_tab"),
        *[Binding(str(i + 1), f"jump('{show.value}')", f"{label} tasks", show=False, id=f"tasks.tab_{show.value}")
          for i, (show, label) in enumerate(TABS.items())],
        Binding("j", "move(1)", "Down", show=False, id="tasks.down"),
        Binding("k", "move(-1)", "Up", show=False, id="tasks.up"),
    ]

    def __init__(self, ctx, flt: TaskFilter | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.flt = flt or TaskFilter()
        self.rows: list[TaskRow] = []
        self.counts: dict[str, int] = {}
        self.names: dict[str, str] = {}  # "campaign" / "identity" → the filter's name, for the filter line

    def compose(self) -> ComposeResult:
        yield Header()
        yield Tabs(*[Tab(label, id=f"tab-{show.value}") for show, label in TABS.items()], id="status-tabs",
                   active=f"tab-{self.flt.show.value}")
        yield Static(id="filter-line")
        yield DataTable(id="tasks-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="status-line")
        yield BindingsFooter()

    async def refresh_data(self) -> None:
        """Read the tab's tasks and every tab's count off the UI thread (the app calls this on a commit)."""
        now, flt, reader = self.ctx.now(), self.flt, self.ctx.reader
        self.rows, self.counts = await asyncio.to_thread(
            lambda: (list_tasks(reader.db(), flt, now=now), task_counts(reader.db(), flt, now=now)))
        self._render_rows()

    def _columns(self) -> tuple[tuple[str, int], ...]:
        return WIDE_COLUMNS if self.app.size.width >= WIDE else NARROW

    def on_resize(self) -> None:
        table = self.table
        if len(table.columns) != len(self._columns()):
            self._render_rows()

    def _render_rows(self) -> None:
        now = self.ctx.now()
        columns = self._columns()
        tabs = self.query_one(Tabs)
        for show, label in TABS.items():
            tabs.query_one(f"#tab-{show.value}", Tab).label = f"{label} {self.counts.get(show.value, 0):,}"
        table = self.table
        keep = self.current()
        table.clear(columns=len(table.columns) != len(columns))
        if not table.columns:
            for label, width in columns:
                table.add_column(label, width=width)
        for t in self.rows:
            due = Text(ago(t.due_at, now) if t.due_at else "—", style="bold red" if t.overdue else "")
            cells = [mark(t), due, literal(t.title, "bold"), literal(t.contact), literal(t.campaign),
                     literal(t.identity, "dim"), Text(TYPE_LABEL.get(t.kind, t.kind))][:len(columns)]
            for cell, (_, width) in zip(cells, columns):
                cell.truncate(width, overflow="ellipsis")
            table.add_row(*cells, key=str(t.id))
        if keep is not None and any(t.id == keep.id for t in self.rows):
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        line = Text()
        for key in ("campaign", "identity"):
            if key in self.names:
                line.append(f"{key}: ", style="dim")
                line.append_text(literal(self.names[key], "bold"))
                line.append("  ·  ", style="dim")
        line.append("c campaign · i identity · x clear" if not self.names else "x clears", style="dim")
        self.query_one("#filter-line", Static).update(line)
        shown = self.counts.get(self.flt.show.value, 0)
        status = (f"No {TABS[self.flt.show].lower()} tasks." if not self.rows else
                  f"Showing the first {LIST_LIMIT:,} of {shown:,}: filter by campaign or identity for the rest."
                  if shown > len(self.rows) else "")
        self.query_one("#status-line", Static).update(Text(status or self.ctx.extra_status(), style="dim"))

    def palette_commands(self) -> list[Command]:
        return [
            Command("Complete task", "Mark the highlighted task done (key d)", self.action_complete),
            Command("Reopen task", "Make the highlighted completed task pending again (key u)", self.action_reopen),
            Command("Open the task's lead", "In its campaign, beside the audience (enter)", self.action_open_lead),
            Command("Filter tasks by campaign", "Only one campaign's tasks (key c)", self.action_campaign),
            Command("Filter tasks by identity", "Only one identity's tasks (key i)", self.action_identity),
            Command("Clear task filters", "Every campaign and identity (key x)", self.action_clear),
            *[Command(f"Show {label.lower()} tasks", f"Tab {label}", lambda s=show: self.action_jump(s.value))
              for show, label in TABS.items()],
        ]

    # --- actions ---------------------------------------------------------------------

    def on_tabs_tab_activated(self, event: Tabs.TabActivated) -> None:
        show = Show(event.tab.id.removeprefix("tab-"))
        if show is not self.flt.show:
            self.run_worker(self._apply(replace(self.flt, show=show)), exclusive=True, group="tasks")

    def action_jump(self, show: str) -> None:
        self.query_one(Tabs).active = f"tab-{show}"

    def action_tab(self, step: int) -> None:
        keys = list(TABS)
        self.action_jump(keys[(keys.index(self.flt.show) + step) % len(keys)].value)

    def action_move(self, step: int) -> None:
        table = self.table
        table.move_cursor(row=max(0, table.cursor_row + step))

    async def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        await self.action_open_lead()

    async def _move(self, intent, verb: str) -> None:
        task = self.current()
        if task is None:
            self.notify("No task highlighted", severity="warning")
            return
        try:
            self.ctx.run_intent(intent, task.id)
        except TaskError as exc:
            self.notify(str(exc), severity="warning", markup=False)
            return
        undo = "u reopens it" if verb == "completed" else "d completes it"
        self.notify(f"Task #{task.id} {verb}: {task.title} ({undo})", markup=False)
        await self.refresh_data()

    async def action_complete(self) -> None:
        await self._move(complete_task, "completed")

    async def action_reopen(self) -> None:
        await self._move(reopen_task, "reopened")

    async def action_open_lead(self) -> None:
        task = self.current()
        if task is None:
            return
        if task.campaign_id is None or task.enrollment_id is None:
            self.notify("This task's lead is no longer in a campaign", severity="warning")
            return
        await self.app.open_lead(task.campaign_id, task.enrollment_id)

    def action_campaign(self) -> None:
        self._pick("campaign", "campaign_id", task_owners(self.ctx.db)[0])

    def action_identity(self) -> None:
        self._pick("identity", "identity_id", task_owners(self.ctx.db)[1])

    def _pick(self, what: str, field: str, owners: list[tuple[int, str]]) -> None:
        if not owners:
            self.notify(f"No {what} has tasks yet", severity="warning")
            return
        names = {str(key): name for key, name in owners}

        def chosen(key: str | None) -> None:
            if key is not None:
                self.names[what] = names[key]
                self.run_worker(self._apply(replace(self.flt, **{field: int(key)})), exclusive=True, group="tasks")

        self.app.push_screen(ChoiceScreen(f"Tasks of which {what}?", [(k, literal(n)) for k, n in names.items()],
                                          str(getattr(self.flt, field) or "")), chosen)

    async def action_clear(self) -> None:
        self.names.clear()
        await self._apply(replace(self.flt, campaign_id=None, identity_id=None))
