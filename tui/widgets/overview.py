"""The campaign Overview: channel metric boxes, tagged conversations, activity sparkline, progress tree."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Static, Tree

from sequences.model import LABEL
from storage.metrics import CampaignMetrics
from sequences.wording import plural
from tui.text import literal

#: (box title, metrics key, [(label, figure key)]) — the spec's lists, in its order.
BOXES = (
    ("All channels", "all", [("Total contacts", "total"), ("Started", "started"), ("Contacted", "contacted"),
                             ("Replied", "replied"), ("Positive", "positive")]),
    ("LinkedIn", "linkedin", [("Engaged", "engaged"), ("Invited", "invited"), ("Accepted", "accepted"),
                              ("Contacted", "contacted"), ("Replied", "replied"), ("Positive", "positive")]),
    ("Email", "email", [("Sent", "sent"), ("Clicked", "clicked"), ("Replied", "replied"), ("Positive", "positive"),
                        ("Bounced", "bounced")]),
    ("Tasks", "tasks", [("Pending", "pending"), ("Completed", "completed")]),
)


TALL = 34  # rows: below this the boxes leave out the reply rate's note, for the progress tree's sake


def box_rows(tall: bool) -> int:
    """Rows of the tallest box (All channels has its reply rate, and its note when tall)."""
    return max(len(figures) + (2 if tall else 1) * (key == "all") for _, key, figures in BOXES)


class MetricBox(Static):
    """One channel's funnel: label, figure and share of the audience; arrows mark what just changed."""

    def __init__(self, title: str, key: str, figures: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(**kwargs)
        self.border_title = title
        self.key = key
        self.figures = figures
        self.previous: dict[str, int] = {}

    def show(self, metrics: CampaignMetrics) -> None:
        values = metrics.metrics.get(self.key, {})
        total = metrics.audience.get("total", 0) or 0
        wide = self.size.width >= 36  # room for the share of the audience
        grid = Table.grid(padding=(0, 1), expand=True)
        grid.add_column(ratio=1, no_wrap=True, overflow="ellipsis", min_width=14)
        grid.add_column(justify="right", no_wrap=True)
        if wide:
            grid.add_column(justify="right", style="dim", width=5)
        for label, key in self.figures:
            n = int(values.get(key, 0) or 0)
            before = self.previous.get(key)
            mark = " ↑" if before is not None and n > before else (" ↓" if before is not None and n < before else "")
            share = f"{n / total:.0%}" if total and self.key != "tasks" and key not in ("sent", "bounced") else ""
            grid.add_row(label, Text(f"{n:,}{mark}", style="bold"), *([share] if wide else []))
            self.previous[key] = n
        tall = self.app.size.height >= TALL
        if self.key == "all":
            rate = values.get("reply_rate", 0.0) or 0.0
            grid.add_row(Text("Reply rate", style="italic"), Text(f"{rate:.1%}", style="bold"), *([""] if wide else []))
            if tall:
                grid.add_row(Text("(no out-of-office)", style="dim"), "", *([""] if wide else []))
        for _ in range(grid.row_count, box_rows(tall)):  # every box as tall as the tallest
            grid.add_row("", "", *([""] if wide else []))
        self.update(grid)

    def forget(self) -> None:
        """Empty, as built (no figures, no arrows against the figures of another campaign)."""
        self.previous = {}
        if self.content:
            self.update("")


#: The widget's periods (label, days back; None: since the campaign began), `p` or a click cycles them.
TAG_PERIODS = (("All time", None), ("Last 30 days", 30), ("Last 7 days", 7))


def tag_periods_since(now: datetime) -> dict[str, str | None]:
    """Each period's start (ISO), for `storage.metrics.conversation_tags(since=…)`."""
    return {label: (now - timedelta(days=days)).isoformat() if days else None for label, days in TAG_PERIODS}


class TaggedConversations(Static, can_focus=True):
    """Conversation tags and how many conversations carry each (All / LinkedIn / Email), per period:
    only the tags added within it (spec: Overview, Tagged Conversations)."""

    BINDINGS = [Binding("p", "next_period", "Period", id="overview.tag_period",
                        tooltip="Tagged conversations: all time, last 30 days, last 7 days")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.period = TAG_PERIODS[0][0]
        self.by_period: dict[str, list[tuple[str, str, int]]] = {}

    def show(self, by_period: dict[str, list[tuple[str, str, int]]]) -> None:
        """`by_period`: each period's (tag, channel, conversations), as storage counts them."""
        self.by_period = by_period
        self._draw()

    def action_next_period(self) -> None:
        labels = [label for label, _ in TAG_PERIODS]
        self.period = labels[(labels.index(self.period) + 1) % len(labels)]
        self._draw()

    def on_click(self) -> None:
        self.action_next_period()

    def _draw(self) -> None:
        if not self.by_period.get(TAG_PERIODS[0][0]):
            self.update(Text("No tagged conversations yet.", style="dim"))
            return
        head = Text(f"{self.period} · click, or tab here and p: period", style="dim")
        tags = self.by_period.get(self.period, [])
        if not tags:
            self.update(Group(head, Text("No tagged conversations in this period.", style="dim")))
            return
        totals: dict[str, dict[str, int]] = {}
        for tag, channel, n in tags:
            per = totals.setdefault(tag, {"linkedin": 0, "email": 0})
            per[channel] = per.get(channel, 0) + n
        grid = Table.grid(padding=(0, 2))
        for col in ("Tag", "All", "LinkedIn", "Email"):
            grid.add_column(col, justify="left" if col == "Tag" else "right")
        grid.add_row(*[Text(c, style="bold") for c in ("Tag", "All", "in", "@")])
        for tag, per in sorted(totals.items(), key=lambda kv: -sum(kv[1].values()))[:8]:
            grid.add_row(literal(tag), f"{sum(per.values()):,}", f"{per['linkedin']:,}", f"{per['email']:,}")
        self.update(Group(head, grid))

    def forget(self) -> None:
        """Empty, as built."""
        if self.content:
            self.update("")


class ProgressTree(Tree[str]):
    """The sequence as a tree with the leads now at each step; enter on a step = its activity."""

    class ViewActivity(Message):
        def __init__(self, node_id: str) -> None:
            super().__init__()
            self.node_id = node_id

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._shape: Any = None  # the sequence the branches were built for
        self._branches: dict[str, Any] = {}  # step id -> its tree node

    def show(self, metrics: CampaignMetrics, sequence) -> None:
        """Show the figures; the tree is built once per sequence and later refreshes only relabel it.

        Why: the screen refreshes after every change the runtime makes; clearing and
        re-adding every node each time cost a full tree rebuild and threw the cursor
        and any collapsed branch back to their defaults under the user's hands."""
        counts = {s.step: (s.label, s.leads, s.errors) for s in metrics.steps}
        self.root.set_label(Text(f"Start — {metrics.audience.get('not_started', 0):,} not started", style="bold"))
        if sequence is not None and sequence == self._shape and self._branches:
            nodes = {n.id: n for n in sequence.nodes}
            for node_id, branch in self._branches.items():
                branch.set_label(self._label(nodes[node_id], counts))
            return
        self.clear()
        self._shape, self._branches = sequence, {}
        if sequence is None:
            return
        nodes = {n.id: n for n in sequence.nodes}
        tree_nodes = self._branches

        def add(parent, node_id) -> None:
            """Append the chain starting at node_id under parent; a condition opens Yes/No branches."""
            while node_id is not None and node_id in nodes and node_id not in tree_nodes:
                node = nodes[node_id]
                branch = parent.add(self._label(node, counts), data=node.id, expand=True)
                tree_nodes[node_id] = branch
                if hasattr(node, "yes"):
                    add(branch.add(Text("Yes", style="bold green"), expand=True), node.yes)
                    add(branch.add(Text("No", style="bold red"), expand=True), node.no)
                    return
                node_id = node.next

        add(self.root, sequence.start)
        self.root.expand()

    def forget(self) -> None:
        """Only the root, as built (no steps, cursor and scroll back at the top)."""
        if self._shape is None and not self._branches and not self.root.children:
            return
        self.reset("Start")
        self._shape, self._branches = None, {}
        self.move_cursor(None)
        self.scroll_home(animate=False)

    @staticmethod
    def _label(node, counts: dict[str, tuple[str, int, int]]) -> Text:
        """'[2 days] Email 2 · “Re: pricing”  5 leads  ✖ 1 error'; a condition with its settings."""
        name, leads, errors = counts.get(node.id, (LABEL.get(node.__struct_config__.tag, node.id), 0, 0))
        text = Text(end="")
        if not node.delay.asap:
            text.append(f"[{node.delay.label()}] ", style="dim")
        text.append_text(literal(name))
        text.append(f"  {plural(leads, 'lead')}", style="bold cyan" if leads else "dim")
        if errors:
            text.append(f"  ✖ {plural(errors, 'error')}", style="bold red")
        return text

    def on_tree_node_selected(self, event: Tree.NodeSelected) -> None:
        event.stop()
        if event.node.data:
            self.post_message(self.ViewActivity(event.node.data))
