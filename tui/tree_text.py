"""How a row of the sequence tree reads: guides, symbol, label, id, problems, delay.

One definition for the editor's tree (tui/widgets/sequence_tree.py) and
`enginy campaigns sequence`, which prints the same rows as plain text. Rich
only (no Textual), so the command stays quick to start. The guides: a branch's
first row hangs from "├ Yes " or "└ No  ", and a "│" goes down while the Yes
branch goes on. Problems follow a "⚠" (the symbol carries the meaning on a
monochrome terminal; the colour only reinforces it).
"""

from __future__ import annotations

from rich.text import Span, Text

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


def draw(shown: list[Row], kinds: dict[str, str], memo: dict[tuple, Text] | None = None) -> list[Text]:
    """The text of each row, guides included (`kinds`: step id → kind, for the symbols).

    Each row's plain text and spans are put together directly rather than by `Text.append`
    piece by piece (which checks every piece for control codes; the pieces here are ours or
    already `clean`): on a 200-step sequence that was most of a redraw. With `memo` (the
    editor's, kept between redraws), a row drawn before with the same guides is not drawn
    again; `memo` is left holding this drawing's rows only."""
    used: dict[tuple, Text] = {}
    open_levels: set[int] = set()  # depths whose Yes branch is still being drawn (a │ goes down)
    out = []
    for row in shown:
        if row.branch is not None:
            open_levels = {d for d in open_levels if d < row.depth}
            if row.branch == "yes":
                open_levels.add(row.depth)
        pieces: list[tuple[str, str]] = []
        for level in range(1, row.depth + 1):
            if level == row.depth and row.branch is not None:
                pieces.append(("├ Yes " if row.branch == "yes" else "└ No  ", "bold"))
            else:
                pieces.append(("│     " if level in open_levels else " " * GUIDE, "dim"))
        key = (row, kinds.get(row.node) if row.node else None, tuple(pieces))
        if memo is not None and (text := memo.get(key)) is not None:
            out.append(used.setdefault(key, text))
            continue
        if row.marker == "start":
            pieces.append(("▶ Start", "bold"))
        elif row.marker == "end":
            pieces.append(("■ End", "dim"))
        else:
            kind = kinds[row.node]  # type: ignore[index]
            inner = row.label.removeprefix(f"step {row.node} (").removesuffix(")")
            pieces.append((f"{ICON.get(kind, CONDITION_ICON)} ", "bold"))
            pieces.append((clean(inner) + ("?" if kind not in ICON else ""), "" if kind in ICON else "italic"))
            pieces.append((f"  {clean(row.node)}", "dim"))
        for problem in row.problems:
            pieces.append((f"  ⚠ {clean(problem)}", "bold yellow"))
        if row.delay:
            pieces.append((f"  · {row.delay}", "dim" if row.delay.startswith("as soon") else "cyan"))
        out.append(used.setdefault(key, _assembled(pieces)))
    if memo is not None:
        memo.clear()
        memo.update(used)
    return out


def _assembled(pieces: list[tuple[str, str]]) -> Text:
    """One Text from (string, style) pieces, neighbours of one style in one span (a deep row's
    guides are one "dim" span, not one per level): what appending them one by one shows."""
    spans: list[Span] = []
    at = 0
    for string, style in pieces:
        end = at + len(string)
        if style and string:
            if spans and spans[-1].end == at and spans[-1].style == style:
                spans[-1] = Span(spans[-1].start, end, style)
            else:
                spans.append(Span(at, end, style))
        at = end
    return Text("".join(string for string, _ in pieces), end="", no_wrap=False, spans=spans)


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
