"""The sequence drawn as a tree, one row of `sequences.editing.rows` per entry (a long one wraps).

A ScrollView that renders only the lines on screen (`render_line`), not an
OptionList: OptionList turns every option into a Textual visual and wraps it
to measure its height before the first frame, which on a 200-step sequence
was most of opening the editor and of each edit's redraw. Here a row's height
comes from its length (a row wider than the tree is wrapped, once per width),
and a row becomes strips only when it is on screen, cached by its text, so an
edit re-renders the rows whose text changed and that are visible. It looks
and behaves as the OptionList did: one highlighted row (the same cursor
styles), keys and wheel scrolling, a click that moves the cursor, a double
click (or enter) that asks to edit the row (`SequenceTree.Selected`).

Each row is `Text` drawn from a `Row` by `tui.tree_text.draw` (the CLI prints the same).
"""

from __future__ import annotations

from typing import ClassVar

from rich._wrap import divide_line
from rich.cells import cell_len
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Region, Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import visualize

from sequences.editing import Row, rows
from sequences.model import Sequence, kind_of
from tui.tree_text import draw


def row_key(row: Row) -> str:
    """A row's identity: the step's id, or the marker and its place (unique per End)."""
    if row.marker == "step":
        return f"step:{row.node}"
    anchor, where = row.place or (None, "after")
    return f"{row.marker}:{anchor or ''}:{where}"


class SequenceTree(ScrollView, can_focus=True):
    """The editor's tree; `show(seq, focus)` redraws it and puts the cursor on `focus`."""

    # Only these keys: the screen moves the cursor (j/k, arrows, g/G), and the help lists the screen's keys.
    BINDINGS = [
        Binding("enter", "select", "Edit step", id="editor.tree_edit", tooltip="The step's form"),
        Binding("pageup", "page_up", show=False),
        Binding("pagedown", "page_down", show=False),
    ]

    COMPONENT_CLASSES: ClassVar[set[str]] = {"sequence-tree--row", "sequence-tree--cursor", "sequence-tree--hover"}

    # The look of OptionList's options (the tree was one), so the editor reads as the app's other lists.
    DEFAULT_CSS = """
    SequenceTree {
        height: 1fr;
        color: $foreground;
        overflow-x: hidden;
        padding: 0 1;
        background: $surface;
        & > .sequence-tree--cursor {
            color: $foreground;
            background: $block-cursor-blurred-background;
        }
        &:focus {
            background-tint: $foreground 5%;
            & > .sequence-tree--cursor {
                color: $block-cursor-foreground;
                background: $block-cursor-background;
                text-style: $block-cursor-text-style;
            }
        }
        & > .sequence-tree--hover {
            background: $block-hover-background;
        }
    }
    """

    #: The row under the cursor (an index into `shown`).
    highlighted: reactive[int] = reactive(0, always_update=True, layout=False)

    class Selected(Message):
        """Enter or a double click on a row: the screen edits it."""

        def __init__(self, index: int) -> None:
            super().__init__()
            self.index = index

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: list[Row] = []
        self._texts: list[Text] = []
        self._drawn: dict[tuple, Text] = {}  # draw()'s memo: an unchanged row keeps its Text
        #: Per line of the virtual canvas: (row index, line within the row). Rebuilt per width.
        self._lines: list[tuple[int, int]] = []
        self._first_line: list[int] = []  # row index → its first line
        self._width = -1
        #: A long row's height at a width, by its text (it is wrapped once per width).
        self._heights: LRUCache[tuple, int] = LRUCache(1024)
        #: A row's strips, by (text, width, style): an unchanged row on screen is not rendered again.
        self._strips: LRUCache[tuple, list[Strip]] = LRUCache(1024)
        self._hover: int | None = None

    # --- content -------------------------------------------------------------------

    def show(self, seq: Sequence, focus: str | None) -> None:
        """Draw `seq`; the cursor goes to step `focus` (None: Start), else stays where it was."""
        before = self.highlighted
        self.shown = rows(seq)
        self._texts = draw(self.shown, {n.id: kind_of(n) for n in seq.nodes}, self._drawn)
        self._width = -1  # the lines are laid out again (cheap: a length per row)
        self._layout()
        keys = [row_key(r) for r in self.shown]
        target = f"step:{focus}" if focus is not None else None
        self.highlighted = keys.index(target) if target in keys else min(before, len(keys) - 1)
        self.refresh()

    @property
    def current(self) -> Row | None:
        """The row under the cursor."""
        index = self.highlighted
        return self.shown[index] if 0 <= index < len(self.shown) else None

    def validate_highlighted(self, index: int) -> int:
        return max(0, min(index, len(self.shown) - 1))

    def watch_highlighted(self) -> None:
        self.scroll_to_cursor()
        self.refresh()

    # --- layout --------------------------------------------------------------------

    @property
    def _text_width(self) -> int:
        return max(1, self.scrollable_content_region.width)

    def _height(self, text: Text, width: int) -> int:
        """A row's lines at `width`: one if it fits (nearly every row at 160 columns), else as
        Textual's Content wraps a line (`divide_line` on its plain text, folding long words),
        without building the Content — building ~250 of them was most of opening the editor."""
        if cell_len(text.plain) <= width:
            return 1
        key = (text.plain, width)
        if (height := self._heights.get(key)) is None:
            if "\n" in text.plain or "\t" in text.plain:  # (never in a row; the exact way, in case)
                height = visualize(self, text, markup=False).get_height(self.styles, width)
            else:
                height = 1 + len(divide_line(text.plain, width, fold=True))
            self._heights[key] = height
        return height

    def _layout(self) -> None:
        """Lay the rows out as lines at the current width (when rows or width changed)."""
        if not self.is_mounted or not self.scrollable_content_region:
            # Not laid out yet: a row is at least a line, so the first layout already knows whether
            # the vertical scrollbar is needed (else the rows are wrapped and drawn twice, with and without).
            self.virtual_size = Size(0, len(self._texts))
            return
        width = self._text_width
        if width == self._width:
            return
        self._width = width
        lines, first = [], []
        for index, text in enumerate(self._texts):
            first.append(len(lines))
            lines.extend((index, n) for n in range(self._height(text, width)))
        self._lines, self._first_line = lines, first
        self.virtual_size = Size(width, len(lines))

    def on_resize(self) -> None:
        self._layout()
        self.scroll_to_cursor()

    def on_mount(self) -> None:
        self._layout()

    def scroll_to_cursor(self) -> None:
        if not self.is_mounted or not self._first_line or self.highlighted >= len(self._first_line):
            return
        self._layout()
        top = self._first_line[self.highlighted]
        height = self._height(self._texts[self.highlighted], self._width)
        self.scroll_to_region(Region(0, top, self._width, height), force=True, animate=False, immediate=True)

    # --- rendering -----------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        self._layout()
        return super().render_lines(crop)

    def render_line(self, y: int) -> Strip:
        width = self._text_width
        try:
            index, part = self._lines[self.scroll_offset.y + y]
        except IndexError:
            return Strip.blank(width, self.get_visual_style("sequence-tree--row").rich_style)
        component = ("sequence-tree--cursor" if index == self.highlighted
                     else "sequence-tree--hover" if index == self._hover else "")
        style = (self.get_visual_style("sequence-tree--row", component) if component
                 else self.get_visual_style("sequence-tree--row"))
        text = self._texts[index]
        key = (text.plain, tuple(text.spans), width, style)
        if (strips := self._strips.get(key)) is None:
            visual = visualize(self, text, markup=False)
            strips = [strip.extend_cell_length(width, style.rich_style)
                      for strip in visual.to_strips(self, visual, width, None, style)]
            self._strips[key] = strips
        return strips[part] if part < len(strips) else Strip.blank(width, style.rich_style)

    # --- keys and mouse ------------------------------------------------------------

    def action_cursor_down(self) -> None:
        self.highlighted += 1

    def action_cursor_up(self) -> None:
        self.highlighted -= 1

    def action_first(self) -> None:
        self.highlighted = 0

    def action_last(self) -> None:
        self.highlighted = len(self.shown) - 1

    def _page(self, direction: int) -> None:
        if not self._first_line:
            return
        target = self._first_line[self.highlighted] + direction * self.scrollable_content_region.height
        target = max(0, min(target, len(self._lines) - 1))
        self.highlighted = self._lines[target][0]

    def action_page_down(self) -> None:
        self._page(1)

    def action_page_up(self) -> None:
        self._page(-1)

    def action_select(self) -> None:
        if self.shown:
            self.post_message(self.Selected(self.highlighted))

    def _row_at(self, event: events.MouseEvent) -> int | None:
        offset = event.get_content_offset(self)
        if offset is None:
            return None
        try:
            return self._lines[self.scroll_offset.y + offset.y][0]
        except IndexError:
            return None

    def on_click(self, event: events.Click) -> None:
        """A click moves the cursor to the row; a double click also asks to edit it."""
        index = self._row_at(event)
        if index is None:
            return
        self.highlighted = index
        if event.chain >= 2:
            self.action_select()

    def on_mouse_move(self, event: events.MouseMove) -> None:
        hover = self._row_at(event)
        if hover != self._hover:
            self._hover = hover
            self.refresh()

    def on_leave(self) -> None:
        if self._hover is not None:
            self._hover = None
            self.refresh()
