"""The audience's status chips: counts that filter the table when chosen (digit keys or a click)."""

from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.message import Message
from textual.geometry import Size
from textual.reactive import reactive
from textual.widget import Widget

from storage.metrics import AUDIENCE_KEYS as CHIP_ORDER
from tui.widgets.status import LEAD


class StatusChips(Widget):
    """`0 Σ Total 1,000  1 ○ Not started 400 …`; the chosen chip is reversed and underlined.

    The chips wrap onto a second line (never inside a chip) when the row is too narrow:
    at 80 columns the chips after Error were cut off."""

    DEFAULT_CSS = "StatusChips { height: auto; }"

    counts: reactive[dict[str, int]] = reactive(dict, always_update=True, layout=True)
    """Leads per chip (keys of storage.metrics.AUDIENCE_KEYS)."""
    selected: reactive[str] = reactive("total")
    """The chip filtering the table."""

    class Chosen(Message):
        def __init__(self, status: str) -> None:
            super().__init__()
            self.status = status

    def _placed(self, width: int) -> list[tuple[str, int, int, int]]:
        """(chip, line, start, end) of every chip, laid out left to right in `width` columns."""
        placed, line, x = [], 0, 0
        for i, key in enumerate(CHIP_ORDER):
            size = cell_len(self._label(i, key))
            if x and x + size > width:
                line, x = line + 1, 0
            placed.append((key, line, x, x + size))
            x += size + 2
        return placed

    def _label(self, i: int, key: str) -> str:
        symbol, name, _ = LEAD[key]
        return f"{i} {symbol} {name} {self.counts.get(key, 0):,}"

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        return self._placed(width)[-1][1] + 1

    def render(self) -> Text:
        lines: list[Text] = []
        for i, (key, line, start, _end) in enumerate(self._placed(self.content_size.width or 80)):
            if line == len(lines):
                lines.append(Text(no_wrap=True, end=""))
            text = lines[line]
            if start:
                text.append("  ")
            _, _, style = LEAD[key]
            if key == self.selected:
                style += " reverse underline"
            text.append(self._label(i, key), style=style)
        return Text("\n", no_wrap=True, end="").join(lines)

    def choose(self, status: str) -> None:
        self.selected = status
        self.post_message(self.Chosen(status))

    def on_click(self, event: events.Click) -> None:
        for key, line, start, end in self._placed(self.content_size.width):
            if line == event.y and start <= event.x < end:
                self.choose(key)
