"""The sequence drawn as a tree, one option per row of `sequences.editing.rows`.

An OptionList because it already is what the editor needs: one highlighted
row, keys and wheel scrolling, a click that picks a row, and only the visible
lines rendered (a 200-step sequence redraws within one frame). Each row is
`Text` drawn from a `Row` by `tui.tree_text.draw` (the CLI prints the same).

A single click only moves the cursor; a double click (or enter, handled by
the screen) edits the step.
"""

from __future__ import annotations

from textual import events
from textual.binding import Binding
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from sequences.editing import Row, rows
from sequences.model import Sequence, kind_of
from tui.tree_text import draw


def row_key(row: Row) -> str:
    """The option id of a row: the step's id, or the marker and its place (unique per End)."""
    if row.marker == "step":
        return f"step:{row.node}"
    anchor, where = row.place or (None, "after")
    return f"{row.marker}:{anchor or ''}:{where}"


class SequenceTree(OptionList, inherit_bindings=False):
    """The editor's tree; `show(seq, focus)` redraws it and puts the cursor on `focus`."""

    # Only these keys (not OptionList's, inherit_bindings=False): the screen moves the cursor (j/k, arrows, g/G), and the
    # help lists the screen's keys rather than the list's own scrolling ones.
    BINDINGS = [
        Binding("enter", "select", "Edit step", id="editor.tree_edit", tooltip="The step's form"),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: list[Row] = []
        #: The options drawn last, by (id, text): an unchanged row keeps its option, and with it
        #: the visual OptionList made of it (turning 300 Texts into visuals was most of a redraw).
        self._kept: dict[tuple, Option] = {}

    def show(self, seq: Sequence, focus: str | None) -> None:
        """Draw `seq`; the cursor goes to step `focus` (None: Start), else stays where it was."""
        before = self.highlighted or 0
        self.shown = rows(seq)
        kinds = {n.id: kind_of(n) for n in seq.nodes}
        options, kept = [], {}
        for text, row in zip(draw(self.shown, kinds), self.shown):
            key = (row_key(row), text.plain, tuple(text.spans))
            kept[key] = option = self._kept.get(key) or Option(text, id=key[0])
            options.append(option)
        self._kept = kept
        self.set_options(options)
        keys = [row_key(r) for r in self.shown]
        target = f"step:{focus}" if focus is not None else None
        self.highlighted = keys.index(target) if target in keys else min(before, len(keys) - 1)

    @property
    def current(self) -> Row | None:
        """The row under the cursor."""
        index = self.highlighted
        return self.shown[index] if index is not None and 0 <= index < len(self.shown) else None

    async def _on_click(self, event: events.Click) -> None:
        """A click selects the row; a double click goes on to OptionList's handler, which edits it."""
        if event.chain >= 2:
            return
        event.prevent_default()  # (OptionList's own handler would select, i.e. edit, on every click)
        clicked = event.style.meta.get("option")
        if clicked is not None:
            self.highlighted = clicked
