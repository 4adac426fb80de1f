"""The audience's status chips: counts that filter the table when chosen (digit keys or a click)."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.message import Message
from textual.reactive import reactive
from textual.widget import Widget

from storage.metrics import AUDIENCE_KEYS as CHIP_ORDER
from tui.widgets.status import LEAD


class StatusChips(Widget):
    """One line: `0 Σ Total 1,000  1 ○ Not started 400 …`; the chosen chip is reversed and underlined."""

    DEFAULT_CSS = "StatusChips { height: 1; }"

    counts: reactive[dict[str, int]] = reactive(dict, always_update=True)
    """Leads per chip (keys of storage.metrics.AUDIENCE_KEYS)."""
    selected: reactive[str] = reactive("total")
    """The chip filtering the table."""

    class Chosen(Message):
        def __init__(self, status: str) -> None:
            super().__init__()
            self.status = status

    def _spans(self) -> list[tuple[str, int, int]]:
        spans, x = [], 0
        for i, key in enumerate(CHIP_ORDER):
            label = self._label(i, key)
            spans.append((key, x, x + len(label)))
            x += len(label) + 2
        return spans

    def _label(self, i: int, key: str) -> str:
        symbol, name, _ = LEAD[key]
        return f"{i} {symbol} {name} {self.counts.get(key, 0):,}"

    def render(self) -> Text:
        text = Text(no_wrap=True, end="")
        for i, key in enumerate(CHIP_ORDER):
            _, _, style = LEAD[key]
            if key == self.selected:
                style += " reverse underline"
            text.append(self._label(i, key), style=style)
            text.append("  ")
        return text

    def choose(self, status: str) -> None:
        self.selected = status
        self.post_message(self.Chosen(status))

    def on_click(self, event: events.Click) -> None:
        for key, start, end in self._spans():
            if start <= event.x < end:
                self.choose(key)
