"""The sequence drawn as a tree, one option per row of `sequences.editing.rows`.

An OptionList because it already is what the editor needs: one highlighted
row, keys and wheel scrolling, a click that picks a row, and only the visible
lines rendered (a 200-step sequence redraws within one frame). Each row is
plain `Text` built here from a `Row`: the branch guides (Yes ├ / No └ with a
│ while the Yes branch goes on), the step's symbol and label, its id, its
problems after a "⚠", and its delay — colour reinforces, the symbol carries
the meaning on a monochrome terminal.

A single click only moves the cursor; a double click (or enter, handled by
the screen) edits the step.
"""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from sequences.editing import Row, rows
from sequences.model import LABEL, Sequence, kind_of
from tui.text import clean

#: One symbol per step kind (single-width, so the guides stay aligned in every terminal).
ICON = {
    "visit_profile": "◎", "react_to_post": "♥", "connection_request": "⊕", "linkedin_message": "✎",
    "inmail": "✉", "linkedin_attachment": "¶", "voice_message": "♪", "email": "@", "task": "☐",
    "add_to_campaign": "⇢",
}
CONDITION_ICON = "◇"
GUIDE = 6  # columns per level: "├ Yes ", "└ No  ", "│     "


def kind_label(kind: str) -> Text:
    """A step kind as the pickers show it: its symbol and its name."""
    return Text(f"{ICON.get(kind, CONDITION_ICON)} {LABEL[kind]}", end="")


def row_key(row: Row) -> str:
    """The option id of a row: the step's id, or the marker and its place (unique per End)."""
    if row.marker == "step":
        return f"step:{row.node}"
    anchor, where = row.place or (None, "after")
    return f"{row.marker}:{anchor or ''}:{where}"


def draw(shown: list[Row], kinds: dict[str, str]) -> list[Text]:
    """The text of each row, guides included (`kinds`: step id → kind, for the symbols)."""
    open_levels: set[int] = set()  # depths whose Yes branch is still being drawn (a │ goes down)
    out = []
    for row in shown:
        if row.branch is not None:
            open_levels = {d for d in open_levels if d < row.depth}
            if row.branch == "yes":
                open_levels.add(row.depth)
        text = Text(end="", no_wrap=False)
        for level in range(1, row.depth + 1):
            if level == row.depth and row.branch is not None:
                text.append("├ Yes " if row.branch == "yes" else "└ No  ", style="bold")
            else:
                text.append("│     " if level in open_levels else " " * GUIDE, style="dim")
        if row.marker == "start":
            text.append("▶ Start", style="bold")
        elif row.marker == "end":
            text.append("■ End", style="dim")
        else:
            kind = kinds[row.node]  # type: ignore[index]
            inner = row.label.removeprefix(f"step {row.node} (").removesuffix(")")
            text.append(f"{ICON.get(kind, CONDITION_ICON)} ", style="bold")
            text.append(clean(inner) + ("?" if kind not in ICON else ""), style="" if kind in ICON else "italic")
            text.append(f"  {clean(row.node)}", style="dim")
        for problem in row.problems:
            text.append(f"  ⚠ {clean(problem)}", style="bold yellow")
        if row.delay:
            text.append(f"  · {row.delay}", style="dim" if row.delay.startswith("as soon") else "cyan")
        out.append(text)
    return out


class SequenceTree(OptionList):
    """The editor's tree; `show(seq, focus)` redraws it and puts the cursor on `focus`."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.shown: list[Row] = []

    def show(self, seq: Sequence, focus: str | None) -> None:
        """Draw `seq`; the cursor goes to step `focus` (None: Start), else stays where it was."""
        before = self.highlighted or 0
        self.shown = rows(seq)
        kinds = {n.id: kind_of(n) for n in seq.nodes}
        self.set_options(Option(text, id=row_key(row)) for text, row in zip(draw(self.shown, kinds), self.shown))
        keys = [row_key(r) for r in self.shown]
        target = f"step:{focus}" if focus is not None else None
        self.highlighted = keys.index(target) if target in keys else min(before, len(keys) - 1)

    @property
    def current(self) -> Row | None:
        """The row under the cursor."""
        index = self.highlighted
        return self.shown[index] if index is not None and 0 <= index < len(self.shown) else None

    async def _on_click(self, event: events.Click) -> None:
        """A click selects the row; a double click edits it (OptionList's select)."""
        if event.chain >= 2:
            await super()._on_click(event)
            return
        clicked = event.style.meta.get("option")
        if clicked is not None:
            self.highlighted = clicked
