"""The rows the tree editor draws: Start, every step depth first (Yes before No), an End per path.

A condition's branches are one level deeper than it; the steps of a chain
share a depth. Each row carries what the screen shows — the step's label,
its delay, its validation in a few words with live counts — and, on the
Start and End markers, the place a step inserted there goes, so the
screen turns "insert here" into an `Insert` without knowing the tree.
One `validate` call and one walk: cheap enough to redraw on every key.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Literal

import msgspec

from sequences.editing.commands import Branch, Where
from sequences.model import Sequence, children, describe, is_condition
from sequences.validate import validate


class Row(msgspec.Struct, frozen=True, kw_only=True):
    marker: Literal["start", "step", "end"]
    depth: int
    #: The branch this row hangs from, on the first row of a branch only.
    branch: Branch | None = None
    #: The step's id (None on Start and End).
    node: str | None = None
    label: str
    #: "as soon as possible", "wait 2 days 3 hours" ("" on markers).
    delay: str = ""
    #: Validation in a few words ("message too long 2,104/1,900", "missing subject");
    #: on Start, the problems of the whole sequence ("no steps yet").
    problems: tuple[str, ...] = ()
    #: On Start and End: where a step inserted here goes, as (anchor, where) for `Insert`/`Paste`.
    place: tuple[str | None, Where] | None = None


def rows(seq: Sequence) -> list[Row]:
    problems: dict[str | None, list[str]] = defaultdict(list)
    for error in validate(seq):
        problems[error.node].append(error.short or error.message)
    by_id = {n.id: n for n in seq.nodes}
    out = [Row(marker="start", depth=0, label="Start", problems=tuple(problems[None]), place=(None, "after"))]
    seen: set[str] = set()
    # (node id or None for an End, depth, branch label, the place an End there stands for)
    stack: list[tuple[str | None, int, Branch | None, tuple[str | None, Where]]] = [(seq.start, 0, None, (None, "after"))]
    while stack:
        node_id, depth, branch, place = stack.pop()
        node = by_id.get(node_id) if node_id is not None else None
        if node is None or node_id in seen:  # an end (or a broken pointer, which `validate` reports)
            out.append(Row(marker="end", depth=depth, branch=branch, label="End", place=place))
            continue
        seen.add(node.id)
        out.append(Row(marker="step", depth=depth, branch=branch, node=node.id, label=describe(node),
                       delay=node.delay.label(), problems=tuple(problems.get(node.id, ()))))
        if is_condition(node):
            stack.append((node.no, depth + 1, "no", (node.id, "no")))
            stack.append((node.yes, depth + 1, "yes", (node.id, "yes")))
        else:
            (after,) = children(node)
            stack.append((after, depth, None, (node.id, "after")))
    return out
