"""How a row of the sequence tree reads: guides, symbol, label, id, problems, delay.

One definition for the editor's tree (tui/widgets/sequence_tree.py) and
`enginy campaigns sequence`, which prints the same rows as plain text. Rich
only (no Textual), so the command stays quick to start. The guides: a branch's
first row hangs from "├ Yes " or "└ No  ", and a "│" goes down while the Yes
branch goes on. Problems follow a "⚠" (the symbol carries the meaning on a
monochrome terminal; the colour only reinforces it).
"""

from __future__ import annotations

from rich.text import Text

from sequences.editing import Row
from sequences.model import LABEL
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


def mark_path(shown: list[Row], texts: list[Text], visited: list[str], current: str | None) -> list[Text]:
    """The rows of `draw` with a lead's path marked: ✔ a step it went through, ➤ the step it is at.

    One definition for the side panel's "Sequence path" and `enginy campaigns sequence --contact`."""
    done = set(visited)
    out = []
    for row, text in zip(shown, texts):
        if row.node is not None and row.node == current:
            mark = Text("➤ ", style="bold yellow", end="")
        elif row.node in done:
            mark = Text("✔ ", style="green", end="")
        else:
            mark = Text("  ", end="")
        out.append(Text.assemble(mark, text, end=""))
    return out
