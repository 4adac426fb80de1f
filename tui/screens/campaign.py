"""The campaign view: header with the campaign's facts, then Overview / Audience / Activity tabs.

Figures come from storage.metrics (kept counts, on a worker thread) and are
drawn on the Overview when it is shown; the audience and activity lists are
virtual tables paged by keyset (storage/audience_view.py, storage/activity_view.py), so a million-lead campaign opens
as fast as an empty one.
Lead actions (bulk, and the side panel's shortcuts) are in lead_actions.py;
campaign actions are shared with the dashboard (campaign_actions.py).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from rich.text import Text
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Header, Sparkline, Static, TabbedContent, TabPane

import msgspec

from storage.activity_view import ActivityFilter, ActivitySource
from storage.audience_view import ENGAGEMENT, AudienceFilter, AudienceSource
from storage.campaign_view import CampaignView, campaign_view, lead_detail
from storage.metrics import AUDIENCE_KEYS as CHIP_KEYS, campaign_metrics, conversation_tags, daily_activity
from storage.records import ActivityRow, AudienceRow
from tui.commands import Command
from tui.date_range import ask_range
from tui.screens.campaign_actions import CAMPAIGN_BINDINGS, CampaignActions
from tui.screens.lead_actions import LEAD_ACTIONS, LEAD_BINDINGS, LeadActions
from tui.screens.modals import ChoiceScreen, PromptScreen
from sequences.wording import plural
from tui.text import joined, literal, short_time
from tui.widgets.chips import StatusChips
from tui.widgets.footer import BindingsFooter
from tui.widgets.lead_panel import LeadPanel
from tui.widgets.overview import BOXES, MetricBox, ProgressTree, TaggedConversations, tag_periods_since
from tui.widgets.status import KIND_ICON, campaign_status, kind_label, lead_status, priority, sequence_of
from tui.widgets.virtual_table import Column, VirtualTable

TAB_IDS = ("overview", "audience", "activity")
AUDIENCE_ONLY = {"chip", "tag", "engagement", "same_company", "view", "lead_activity"}
LIST_TABS = {"search": ("audience", "activity"), "stage": ("audience", "activity"), "clear": ("audience", "activity"),
             "date_range": ("activity",), "recipient": ("activity",),
             **{action: ("audience", "activity") for action in LEAD_ACTIONS}}
FOCUS_TARGET = {"overview": "#progress-tree", "audience": "#audience-table", "activity": "#activity-table"}
HOLD_SECONDS = 0.1  # the longest a kept view shown again waits for its list's first page before it is drawn
DATE_RANGES = {"All time": None, "Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30,
               "Custom…": -1}  # label: days (-1: typed as a range)
FAILED_KINDS = {"step_failed": "✖ failed", "email_bounced": "✖ bounced"}  # actions that did not succeed
REPLY_MODES = {"manual": "manual", "copilot": "AI copilot", "auto": "AI auto-replies"}


def _set_line(line: Static, text: Text) -> None:
    """Show `text` on a one-line Static without a layout pass, and only when it changed.

    Why: Static.update() re-lays out the whole screen by default (~30 ms for this
    view, far more on a busy host), and the filter lines are rewritten after every
    page load and refresh — while opening the audience, one of those passes often
    came between the first page landing and its rows being painted. A filter line
    is one row high whatever it says, so no layout is needed."""
    if line.content != text:
        line.update(text, layout=False)


def _set_lines(widget: Static, text: Text) -> None:
    """Show `text` on a `height: auto` Static, laying the screen out again only when its height changes.

    Why: the campaign header is written again after every refresh (the runtime's
    changes, the demo's status line), and Static.update() lays the whole view out
    again (~25-30 ms of the UI thread, once seen between the audience's first page
    landing and its paint) although the header mostly keeps its height."""
    if widget.content == text:
        return
    width, height = widget.content_size
    widget.update(text, layout=False)
    if not width or widget.visual.get_height(widget.styles, width) != height:
        widget.refresh(layout=True)


def _activity_status(r: ActivityRow) -> Text:
    """Completed, in progress — or failed: a step that put its lead in Error is no "✔ completed"."""
    if r.kind in FAILED_KINDS:
        return Text(FAILED_KINDS[r.kind], style="bold red")
    if r.status == "completed":
        return Text("✔ completed", style="green")
    return Text("… in progress", style="yellow")


def _name(row: AudienceRow | ActivityRow) -> Text:
    return literal(f"{row.first_name or ''} {row.last_name or ''}".strip() or "—")


class CampaignScreen(LeadActions, CampaignActions, Screen):
    """One campaign; Esc goes back to the dashboard (after closing the side panel)."""

    BINDINGS = [
        Binding("right_square_bracket", "tab(1)", "Next tab", id="campaign.next_tab", tooltip="Overview → Audience → Activity"),
        Binding("left_square_bracket", "tab(-1)", "Previous tab", show=False, id="campaign.prev_tab"),
        Binding("slash", "search", "Search", id="campaign.search", tooltip="Search leads by name or company"),
        Binding("s", "stage", "Stage", id="campaign.stage", tooltip="Only leads/actions at one step"),
        Binding("t", "tag", "Tag", show=False, id="campaign.tag", tooltip="Conversation tag"),
        Binding("e", "engagement", "Engagement", show=False, id="campaign.engagement"),
        Binding("c", "same_company", "Same company", show=False, id="campaign.same_company",
                tooltip="Only leads who work at a company with several leads here"),
        Binding("v", "view", "Contacts/Companies", show=False, id="campaign.view"),
        Binding("w", "date_range", "Date range", id="campaign.date_range"),
        Binding("x", "clear", "Clear filters", show=False, id="campaign.clear"),
        Binding("r", "recipient", "Recipient", show=False, id="campaign.recipient",
                tooltip="Only the actions of the highlighted action's recipient (again: every recipient)"),
        *LEAD_BINDINGS,
        Binding("A", "lead_activity", "Lead activity", show=False, id="campaign.lead_activity"),
        *[Binding(str(i), f"chip('{key}')", f"Chip {key.replace('_', ' ')}", show=False, id=f"campaign.chip_{key}")
          for i, key in enumerate(CHIP_KEYS)],
        *CAMPAIGN_BINDINGS,
    ]

    def __init__(self, ctx, campaign_id: int | None, tab: str = "overview") -> None:
        """None: a view with no campaign yet, shown only after show_campaign()."""
        super().__init__()
        self.ctx = ctx
        self.initial_tab = tab
        self._shown = 0  # bumped each time the view is pointed at a campaign (see show_campaign)
        self._hold: Any = None  # the app's paint held until the list's first page lands (_hold_paint)
        self._left_on: str | None = None  # the tab the view was last shown on (for a campaign)
        self._overview_version = 0  # bumped by each refresh of the figures
        self._forget(campaign_id, tab)

    def _forget(self, campaign_id: int | None, tab: str) -> None:
        """The state of a view just opened on `campaign_id`: nothing read yet, no filter, no panel."""
        self.campaign_id = campaign_id
        self._shown += 1
        # the list of the first tab gets focus as the screen is shown (not Textual's default, the tab
        # strip, then the list once the tabs settle): the footer's first draw then already shows the
        # list's keys, instead of being drawn again — a recompose and a layout — as the first page lands
        self.AUTO_FOCUS = FOCUS_TARGET[tab]
        self.row: CampaignView | None = None
        self.metrics = None
        self._overview_version += 1  # a figures refresh still in flight must not draw (version check)
        self._overview_drawn = self._overview_version  # the version the Overview tab shows
        self.audience = AudienceFilter(campaign_id)
        self.activity = ActivityFilter(campaign_id)
        self.activity_range = "All time"
        self.activity_recipient = ""  # the recipient filter's name ("Quinn Berg @ Kite"), as the filter line shows it
        self.view = "contacts"
        self.panel_enrollment: int | None = None
        self._lead_to_open: int | None = None  # open_lead's, until the tab it opened on has activated

    # --- layout ------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="campaign-header")
        with TabbedContent(initial=self.initial_tab, id="campaign-tabs"):
            with TabPane("Overview", id="overview"):
                with Horizontal(id="metric-boxes"):
                    for title, key, figures in BOXES:
                        yield MetricBox(title, key, figures, classes="metric-box", id=f"metrics-{key}")
                with Horizontal(id="overview-lower"):
                    with Vertical(id="overview-left"):
                        yield Static(Text("Actions per day (30 days)", style="bold"))
                        yield Sparkline([], id="activity-sparkline")
                        yield Static(id="sparkline-caption")
                        yield Static(Text("Tagged conversations", style="bold"))
                        yield TaggedConversations(id="tagged")
                    with Vertical(id="overview-right"):
                        yield Static(Text.assemble(("Progress by step", "bold"), ("  enter: its activity", "dim")))
                        yield ProgressTree("Start", id="progress-tree")
            with TabPane("Audience", id="audience"):
                yield StatusChips(id="chips")
                yield Static(id="audience-filters", classes="filter-line")
                with Horizontal():
                    yield VirtualTable(self._audience_columns(), empty="No leads match.", id="audience-table")
                    yield LeadPanel(id="lead-panel")
            with TabPane("Activity", id="activity"):
                yield Static(id="activity-filters", classes="filter-line")
                with Horizontal():
                    yield VirtualTable(self._activity_columns(), empty="No activity matches.", markable=False,
                                       id="activity-table")
                    yield LeadPanel(id="activity-lead-panel")
        yield BindingsFooter()

    def _audience_columns(self) -> list[Column]:
        def contact(r: AudienceRow) -> Text:
            title = literal(r.job_title or "—", "dim")
            company = literal(r.company or "—", "italic")
            if self.view == "companies":
                return joined(title, " @ ", company, "  ", _name(r))
            return joined(_name(r), " @ ", company, "  ", title)

        def icons(r: AudienceRow) -> Text:
            return Text(" ".join(KIND_ICON.get(k, "·") for k in r.recent), end="")

        return [
            Column("Contact", None, contact),
            Column("Status", 34, lambda r: lead_status(r.status, r.substatus), narrow=20),
            Column("Activity", 10, icons, narrow=0),
            Column("Tags", 18, lambda r: literal(", ".join(r.tags), "italic"), narrow=0),
        ]

    def _activity_columns(self) -> list[Column]:
        def action(r: ActivityRow) -> Text:
            return Text(f"{KIND_ICON.get(r.kind, '·')} {kind_label(r.kind)}", end="")

        def recipient(r: ActivityRow) -> Text:
            if r.contact_id is None:
                return literal(r.actor or "—", "dim")
            return joined(_name(r), " @ ", literal(r.company or "—", "italic"))

        return [
            Column("Action", 30, action, narrow=22),
            Column("Recipient", None, recipient),
            Column("Status", 13, _activity_status),
            # an action coming next (In progress, storage/activity_view.py) is not completed yet
            Column("Completed", 17, lambda r: Text(short_time(r.at) if r.status == "completed" else "—")),
        ]

    def on_mount(self) -> None:
        if self.campaign_id is not None:
            self._open()

    def show_campaign(self, campaign_id: int, tab: str = "overview") -> None:
        """Point this view — built for an earlier campaign and not on screen now — at `campaign_id`,
        as a view newly built for it would open (EnginyApp.open_campaign then shows it again).

        Why: what was left of the time to open a campaign was building the view itself (~60
        widgets composed, mounted and styled, then laid out: ~100 ms of the UI thread, as much for
        an empty campaign as for a million leads); a kept view is only redrawn. Everything the last
        campaign left is put back as the view is first built, before the screen is shown: its
        reads still in flight are cancelled (and any that lands anyway is dropped: `_shown`), its
        lists, marks, filters, chip counts, header, figures and side panel are emptied, and the
        requested tab, its focus and the contacts view are restored."""
        left_on = self._left_on
        self.workers.cancel_group(self, "campaign-refresh")
        self.workers.cancel_group(self, "overview")
        self._forget(campaign_id, tab)
        self.initial_tab = tab
        self.query_one(TabbedContent).active = tab
        chips = self.query_one(StatusChips)
        chips.counts, chips.selected = {}, "total"
        for panel in self.query(LeadPanel):
            panel.remove_class("open")
            panel.forget()
        for box in self.query(MetricBox):
            box.forget()
        self.query_one("#tagged", TaggedConversations).forget()
        self.query_one(Sparkline).data = []
        _set_line(self.query_one("#sparkline-caption", Static), Text(""))
        self.query_one(ProgressTree).forget()
        self._open()
        if self.row is not None and tab in ("audience", "activity") and tab == left_on:
            self._hold_paint()  # (no layout to do meanwhile: the view was last shown on this tab)
        if self.row is None:  # no such campaign (any more): the view goes back as it opens (refresh_data)
            _set_lines(self.query_one("#campaign-header", Static), Text(""))
            self.query_one("#audience-table", VirtualTable).reset(None)
            self.query_one("#activity-table", VirtualTable).reset(None)
            self._show_filters()

    def _styling(self) -> tuple:
        """What the app's styles of this view depend on that can change while the view is off the
        screen stack (the theme, chosen from the command palette, and the variables it sets)."""
        app = self.app
        return app.theme, app.ansi_color, frozenset(app.classes), tuple(app.get_css_variables().items())

    def on_screen_suspend(self) -> None:
        self._styled_for = self._styling()
        self._left_on = self.tab if self.row is not None else None

    def on_screen_resume(self, event: events.ScreenResume) -> None:
        """Shown again (open_campaign keeps the view): restyle its widgets only if the styling changed.

        Why: Textual restyles every widget of a screen it shows again (~20-50 ms for this view,
        the largest part of opening a kept view), for the styling may have changed while the
        screen was off the stack — a theme chosen meanwhile is not applied to screens off the
        stack. This handler runs before Screen's own, which restyles only if asked to."""
        if getattr(self, "_styled_for", None) == self._styling():
            event.refresh_styles = False

    def _open(self) -> None:
        # The campaign's row is one primary-key read (well under a millisecond), so it is read here
        # rather than on a worker thread: the header is then drawn by the view's first layout (no
        # second one), and the lists' first pages are read on their threads while the view is still
        # being laid out, instead of once the UI thread is free again to take the row from a worker.
        row = campaign_view(self.ctx.reader, self.campaign_id)
        if row is not None:
            self._first_show(row)
        # not awaited: the figures of a big campaign take a moment, the first rows must not wait for them
        self.run_worker(self._refresh_figures() if row is not None else self.refresh_data(first=True),
                        group="campaign-refresh", exit_on_error=False)
        self._focus_tab()

    def _first_show(self, row: CampaignView) -> None:
        self.row = row
        self._show_header()
        self.audience = self.audience.but(identity_id=row.identity_id, campaign_paused=row.status == "paused")
        # as _set_audience_source(), but with the list's total (kept counts: a few rows) known now, so
        # the scrollbar is sized by the view's first layout, not by one more as the first page lands
        source = AudienceSource(self.ctx.reader, self.audience)
        self.query_one("#audience-table", VirtualTable).reset(source, total=source.base_count())
        self.query_one(StatusChips).selected = "total"
        self.query_one("#activity-table", VirtualTable).reset(ActivitySource(self.ctx.reader, self.activity))
        self._show_filters()

    # --- data -------------------------------------------------------------------------

    async def refresh_data(self, first: bool = False) -> None:
        reader, cid, shown = self.ctx.reader, self.campaign_id, self._shown
        row = await asyncio.to_thread(campaign_view, reader, cid)
        if shown != self._shown:
            return  # the view was pointed at another campaign meanwhile (the app's poll is not cancelled)
        if row is None:  # deleted underneath us
            self.notify("This campaign no longer exists", severity="warning")
            self.app.pop_screen()
            return
        paused_changed = self.row is not None and (self.row.status == "paused") != (row.status == "paused")
        if first:
            self._first_show(row)
        elif paused_changed:
            self.audience = self.audience.but(campaign_paused=row.status == "paused")
            self._set_audience_source(keep_position=True)
        else:
            self.query_one("#audience-table", VirtualTable).reload()
            self.query_one("#activity-table", VirtualTable).reload()
        self.row = row
        self._show_header()
        await self._refresh_figures()

    async def _refresh_figures(self) -> None:
        reader, cid, shown = self.ctx.reader, self.campaign_id, self._shown
        metrics = await asyncio.to_thread(lambda: campaign_metrics(reader.db(), cid))
        if shown != self._shown:
            return  # figures of the campaign this view showed before
        self.metrics = metrics
        self._overview_version += 1
        if self.tab == "overview":
            await self._show_overview()
            if shown != self._shown:
                return
        self.query_one(StatusChips).counts = metrics.audience
        table = self.query_one("#audience-table", VirtualTable)
        if isinstance(table.source, AudienceSource) and self.audience.indexed_only:
            table.set_total(metrics.audience.get(self.audience.status or "total", 0), True)
        self._show_filters()
        if self.panel_enrollment is not None:
            await self._load_panel(self.panel_enrollment)

    async def _show_overview(self) -> None:
        """Read the Overview's own figures (tags, actions per day) and draw them with the
        boxes and the progress tree, when that tab is shown: now, or once it is activated.

        Why not on every refresh: a refresh follows every change the runtime makes, and
        behind another tab this work only delayed the audience table's rows — the actions
        per day read every action of the last 30 days (~125 ms of a core at 100,000
        actions), and drawing took ~20 ms of the UI thread."""
        version = self._overview_version
        if version == self._overview_drawn or self.metrics is None or self.row is None:
            return
        self._overview_drawn = version
        reader, cid, metrics, sequence = self.ctx.reader, self.campaign_id, self.metrics, self.row.sequence
        now = self.ctx.now()
        since = (now - timedelta(days=30)).isoformat()
        tags, daily = await asyncio.to_thread(lambda: (
            {p: conversation_tags(reader.db(), cid, s) for p, s in tag_periods_since(now).items()},
            daily_activity(reader.db(), cid, since)))
        if version != self._overview_version:
            return  # a newer refresh came meanwhile: it draws (or the next visit of the tab does)
        for box in self.query(MetricBox):
            box.show(metrics)
        self.query_one("#tagged", TaggedConversations).show(tags)
        self._show_sparkline(daily, now)
        self.query_one(ProgressTree).show(metrics, sequence_of(sequence))

    def _show_header(self) -> None:
        row = self.row
        assert row is not None
        settings = row.settings
        line = Text.assemble(literal(row.name, "bold"), "   ", campaign_status(row.status), "   ",
                             priority(row.priority), " priority")
        facts = Text.assemble(
            ("Identity ", "dim"), literal(row.identity_name, "bold"),
            ("  Replies ", "dim"), REPLY_MODES.get(settings.reply_handling, settings.reply_handling),
            ("  CRM ", "dim"), "on" if "yes" in (settings.crm_contacts_sync, settings.crm_conversations_sync) else "off",
            ("  Launched ", "dim"), short_time(row.launched_at) if row.launched_at else
            (f"scheduled {short_time(row.scheduled_at)}" if row.scheduled_at else "not yet"),
        )
        extra = self.ctx.extra_status()
        _set_lines(self.query_one("#campaign-header", Static),
                   Text("\n").join([line, facts] + ([Text(extra, style="dim")] if extra else [])))

    def _show_sparkline(self, daily: list[tuple[str, int]], now: datetime) -> None:
        """The 30 days up to `now`, the time the figures were read at."""
        days = [(now - timedelta(days=29 - i)).strftime("%Y-%m-%d") for i in range(30)]
        per_day = dict(daily)
        values = [float(per_day.get(d, 0)) for d in days]
        self.query_one(Sparkline).data = values
        self.query_one("#sparkline-caption", Static).update(Text(
            f"{days[0]} … {days[-1]}   total {int(sum(values)):,}   peak {int(max(values)):,}/day", style="dim"))

    def _set_audience_source(self, keep_position: bool = False) -> None:
        table = self.query_one("#audience-table", VirtualTable)
        table.set_source(AudienceSource(self.ctx.reader, self.audience), keep_marks=keep_position)
        self.query_one(StatusChips).selected = self.audience.status or "total"
        self._show_filters()

    def _set_activity_source(self) -> None:
        self.query_one("#activity-table", VirtualTable).set_source(ActivitySource(self.ctx.reader, self.activity))
        self._show_filters()

    def _show_filters(self) -> None:
        a, table = self.audience, self.query_one("#audience-table", VirtualTable)
        text = Text(table.total_label("lead"), style="bold", end="")
        if not table.total[1] and not table.counting:
            text.append(" (estimate: counting this filter exactly would scan the audience)", style="dim")
        for label, value in (("search", a.search), ("stage", self._step_name(a.node_id)), ("tag", a.tag), ("engagement", a.engagement),
                             ("same company", "yes" if a.same_company else ""), ("view", self.view)):
            if value:
                text.append(f"  ·  {label}: ", style="dim")
                text.append_text(literal(value, "bold"))
        marked = len(table.marked)
        if marked:
            text.append(f"  ·  {marked:,} marked (b: act on them, esc: unmark)", style="bold yellow")
        _set_line(self.query_one("#audience-filters", Static), text)
        f, atable = self.activity, self.query_one("#activity-table", VirtualTable)
        text = Text(atable.total_label("action"), style="bold", end="")
        recipient = (self.activity_recipient or f"contact #{f.contact_id}") if f.contact_id is not None else ""
        for label, value in (("search", f.search), ("stage", self._step_name(f.node_id)), ("recipient", recipient),
                             ("date", "" if self.activity_range == "All time" else self.activity_range)):
            if value:
                text.append(f"  ·  {label}: ", style="dim")
                text.append_text(literal(value, "bold"))
        _set_line(self.query_one("#activity-filters", Static), text)

    @on(VirtualTable.Marked)
    def _marks_changed(self) -> None:
        self._show_filters()

    @on(VirtualTable.Loaded)
    def _table_loaded(self, event: VirtualTable.Loaded) -> None:
        self._show_filters()
        if self.tab in ("audience", "activity") and event.table.id == f"{self.tab}-table":
            self._release_paint()

    def _hold_paint(self) -> None:
        """Draw nothing more until the shown list's first page has landed (at most HOLD_SECONDS).

        Why: a kept view shown again was drawn twice — at once with its list still empty (a
        full render of the view, ~12-25 ms of the UI thread, during which the page, read in
        a few ms on its thread, waited to be taken), then with the rows, one frame later.
        The screen is already the one keys go to; only the drawing waits for the rows. Only
        when the view is shown again on the tab it was left on: on another tab (or on its
        first show) it has a layout to do, which is better done while the page is read."""
        if self._hold is None:
            self._hold = self.app.batch_update()
            self._hold.__enter__()
            self.set_timer(HOLD_SECONDS, self._release_paint)

    @property
    def paint_held(self) -> bool:
        """Held for the list's rows: the footer draws its keys after them (BindingsFooter), as it
        does when the view is built (its keys are a recompose of ~17 widgets and a layout)."""
        return self._hold is not None

    def _release_paint(self) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.__exit__(None, None, None)
            self.refresh_bindings()  # the footer's turn

    # --- tabs, focus, back ----------------------------------------------------------------

    @property
    def tab(self) -> str:
        return self.query_one(TabbedContent).active or "overview"

    def _focus_tab(self) -> None:
        self.query_one(FOCUS_TARGET[self.tab]).focus()

    def on_tabbed_content_tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self._close_panels()  # a panel belongs to one tab's list
        lead, self._lead_to_open = self._lead_to_open, None
        if lead is not None and self.tab == "audience":
            self.run_worker(self._open_panel(lead), exit_on_error=False)
        if self.tab == "overview":
            self.run_worker(self._show_overview(), group="overview", exit_on_error=False)
        self.call_after_refresh(self._focus_tab)
        self.refresh_bindings()

    def action_tab(self, delta: int) -> None:
        self.query_one(TabbedContent).active = TAB_IDS[(TAB_IDS.index(self.tab) + delta) % len(TAB_IDS)]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in AUDIENCE_ONLY and self.tab != "audience":
            return False
        if action in LIST_TABS and self.tab not in LIST_TABS[action]:
            return False
        return True

    def _panel(self) -> LeadPanel:
        """The side panel beside the list of the tab shown (Audience and Activity each have one)."""
        return self.query_one("#activity-lead-panel" if self.tab == "activity" else "#lead-panel", LeadPanel)

    def _close_panels(self) -> None:
        for panel in self.query(LeadPanel):
            panel.remove_class("open")
        self.panel_enrollment = None

    async def action_back(self) -> None:
        """Esc: closes the side panel, else unmarks the marked leads, else goes back to the dashboard."""
        audience = self.query_one("#audience-table", VirtualTable)
        if self._panel().has_class("open"):
            self._close_panels()
            self._focus_tab()
        elif audience.marked and self.tab == "audience":
            audience.clear_marks()
        else:
            self.app.pop_screen()

    def current_campaign(self) -> dict[str, Any] | None:
        """As a dict: the actions (campaign_actions.py) read the dashboard's cards too, which are dicts."""
        return msgspec.structs.asdict(self.row) if self.row is not None else None

    def export_ids(self) -> list[int] | None:
        return [self.campaign_id]

    def after_delete(self) -> None:
        self.app.pop_screen()

    def palette_commands(self) -> list[Command]:
        cmds = [Command(f"Go to {t.capitalize()}", f"{t.capitalize()} tab",
                        lambda t=t: setattr(self.query_one(TabbedContent), "active", t)) for t in TAB_IDS]
        cmds += [Command(f"Audience chip: {key.replace('_', ' ')}", "Filter the audience by status",
                         lambda k=key: self.action_chip(k)) for key in CHIP_KEYS]
        return cmds + self.bulk_palette() + self.campaign_commands()

    # --- audience -------------------------------------------------------------------------

    def apply_audience(self, **changes: Any) -> None:
        """Change the audience filter and show the new list (also used by the benchmark)."""
        self.audience = self.audience.but(**changes)
        self._set_audience_source()

    def action_chip(self, key: str) -> None:
        self.query_one(TabbedContent).active = "audience"
        self.apply_audience(status=None if key == "total" else key)

    def on_status_chips_chosen(self, event: StatusChips.Chosen) -> None:
        self.action_chip(event.status)

    def action_search(self) -> None:
        if self.tab == "activity":
            self.app.push_screen(PromptScreen("Search actions (recipient, company or action)", self.activity.search),
                                 lambda v: v is not None and self._activity(search=v.strip()))
        else:
            self.app.push_screen(PromptScreen("Search leads (name or company)", self.audience.search),
                                 lambda v: v is not None and self.apply_audience(search=v.strip()))

    def _stage_choices(self) -> list[tuple[str, Text | str]]:
        steps = self.metrics.steps if self.metrics else []
        return [("", "any stage")] + [(s.step, Text.assemble(f"{'  ' * s.depth}", literal(s.label), f"  ({s.leads:,})"))
                                      for s in steps]

    def _step_name(self, node_id: str | None) -> str:
        """The step's name as the stage picker lists it ("Email 2 · “Re: pricing”"), not its id."""
        if not node_id:
            return ""
        names = {s.step: s.label for s in self.metrics.steps} if self.metrics else {}
        return names.get(node_id, node_id)

    def action_stage(self) -> None:
        current = self.activity.node_id if self.tab == "activity" else self.audience.node_id

        def chosen(value: str | None) -> None:
            if value is None:
                return
            if self.tab == "activity":
                self._activity(node_id=value or None)
            else:
                self.apply_audience(node_id=value or None)

        self.app.push_screen(ChoiceScreen("Stage", self._stage_choices(), current or ""), chosen)

    def action_tag(self) -> None:
        def pick(tags: list[str]) -> None:
            choices = [("", "any tag")] + [(t, literal(t)) for t in tags]
            self.app.push_screen(ChoiceScreen("Conversation tag", choices, self.audience.tag or ""),
                                 lambda v: v is not None and self.apply_audience(tag=v or None))

        tags = sorted({t for t, _, _ in conversation_tags(self.ctx.reader.db(), self.campaign_id)})
        pick(tags)

    def action_engagement(self) -> None:
        choices = [("", "any engagement")] + [(k, k) for k in ENGAGEMENT]
        self.app.push_screen(ChoiceScreen("Engagement", choices, self.audience.engagement or ""),
                             lambda v: v is not None and self.apply_audience(engagement=v or None))

    def action_same_company(self) -> None:
        self.apply_audience(same_company=not self.audience.same_company)

    def action_view(self) -> None:
        self.view = "companies" if self.view == "contacts" else "contacts"
        self.query_one("#audience-table", VirtualTable).refresh()
        self._show_filters()

    def action_clear(self) -> None:
        if self.tab == "activity":
            self.activity, self.activity_range = ActivityFilter(self.campaign_id), "All time"
            self.activity_recipient = ""
            self._set_activity_source()
        else:
            self.apply_audience(search="", node_id=None, tag=None, engagement=None, same_company=False)

    @on(VirtualTable.Selected, "#audience-table")
    async def _open_lead(self, event: VirtualTable.Selected) -> None:
        if event.row is None:
            return
        await self._open_panel(event.row.id)

    @on(VirtualTable.Selected, "#activity-table")
    async def _open_recipient(self, event: VirtualTable.Selected) -> None:
        """Enter on an action opens its recipient's lead beside the list (a campaign-wide action has none)."""
        if event.row is None:
            return
        if event.row.enrollment_id is None:
            self.notify("This action concerns the campaign, not a lead", severity="warning")
            return
        await self._open_panel(event.row.enrollment_id)

    async def open_lead(self, enrollment_id: int) -> None:
        """Show one lead's side panel (the Tasks screen's enter). A view just opened on its tab
        closes panels as that tab activates, so the lead is opened again then."""
        self._lead_to_open = enrollment_id
        await self._open_panel(enrollment_id)

    async def _open_panel(self, enrollment_id: int) -> None:
        self._panel().add_class("open")
        self.panel_enrollment = enrollment_id
        await self._load_panel(enrollment_id)

    @on(VirtualTable.Highlighted, "#audience-table")
    async def _follow_lead(self, event: VirtualTable.Highlighted) -> None:
        if event.row is not None and self._panel().has_class("open") and event.row.id != self.panel_enrollment:
            self.panel_enrollment = event.row.id
            await self._load_panel(event.row.id)

    @on(VirtualTable.Highlighted, "#activity-table")
    async def _follow_recipient(self, event: VirtualTable.Highlighted) -> None:
        lead = event.row.enrollment_id if event.row is not None else None
        if lead is not None and self._panel().has_class("open") and lead != self.panel_enrollment:
            self.panel_enrollment = lead
            await self._load_panel(lead)

    async def _load_panel(self, enrollment_id: int) -> None:
        identity = self.row.identity_id if self.row else None
        detail = await asyncio.to_thread(lead_detail, self.ctx.reader, enrollment_id, identity)
        if self.panel_enrollment == enrollment_id:
            names = {s.step: s.label for s in self.metrics.steps} if self.metrics else {}
            self._panel().show(detail, self.ctx.now(), names)

    def action_lead_activity(self) -> None:
        row = self.query_one("#audience-table", VirtualTable).current
        if row is None:
            return
        self.activity_recipient = f"{row.first_name or ''} {row.last_name or ''}".strip() + \
            (f" @ {row.company}" if row.company else "")
        self._activity(contact_id=row.contact_id)
        self.query_one(TabbedContent).active = "activity"

    def action_recipient(self) -> None:
        """Only the highlighted action's recipient (by name, as the filter line shows it); again: everyone."""
        row = self.query_one("#activity-table", VirtualTable).current
        if self.activity.contact_id is not None:
            self.activity_recipient = ""
            self._activity(contact_id=None)
        elif row is not None and row.contact_id is not None:
            self.activity_recipient = f"{row.first_name or ''} {row.last_name or ''}".strip() + \
                (f" @ {row.company}" if row.company else "")
            self._activity(contact_id=row.contact_id)
        else:
            self.notify("Highlight an action with a recipient first", severity="warning")

    # --- activity ----------------------------------------------------------------------------

    def _activity(self, **changes: Any) -> None:
        self.activity = self.activity.but(**changes)
        self._set_activity_source()

    def action_date_range(self) -> None:
        def chosen(value: str | None) -> None:
            if value is None:
                return
            days = DATE_RANGES[value]
            if days == -1:
                ask_range(self, "Actions between", self._custom_range)
                return
            self.activity_range = value
            self._activity(since=(self.ctx.now() - timedelta(days=days)).isoformat() if days else None, until=None)

        current = self.activity_range if self.activity_range in DATE_RANGES else "Custom…"
        self.app.push_screen(ChoiceScreen("Date range", [(k, k) for k in DATE_RANGES], current), chosen)

    def _custom_range(self, since: str | None, until: str | None, label: str) -> None:
        self.activity_range = label
        self._activity(since=since, until=until)

    def on_progress_tree_view_activity(self, event: ProgressTree.ViewActivity) -> None:
        self.activity_range, self.activity_recipient = "All time", ""
        self.activity = ActivityFilter(self.campaign_id, node_id=event.node_id)
        self._set_activity_source()
        self.query_one(TabbedContent).active = "activity"

    def after_intent(self) -> None:
        self.call_later(self.refresh_data)
