"""A working copy of the sequence tree, addressed by pointers ("slots").

Every edit is a few pointer moves: a slot is one pointer — a step's `next`,
a condition's `yes` / `no`, or the sequence's `start` (owner None). Commands
resolve where they act to a slot, then splice nodes in or out there; this
module does that bookkeeping so each command says only what it means.
"""

from __future__ import annotations

from typing import AbstractSet, Iterable, NamedTuple

import msgspec

from sequences.model import Node, Sequence, children, describe, is_condition


class EditError(ValueError):
    """A command the tree (or the launch lock) refuses; one line the user can act on."""


class Slot(NamedTuple):
    """One pointer: `owner`'s field `next` / `yes` / `no`, or the start (owner None, field "start")."""

    owner: str | None
    field: str


START = Slot(None, "start")


class Tree:
    """Nodes by id plus the start; mutable while one command runs, then frozen back into a `Sequence`."""

    def __init__(self, seq: Sequence) -> None:
        self.nodes: dict[str, Node] = {n.id: n for n in seq.nodes}
        self.start = seq.start

    def node(self, node_id: str) -> Node:
        try:
            return self.nodes[node_id]
        except KeyError:
            raise EditError(f"there is no step {node_id!r}") from None

    def get(self, slot: Slot) -> str | None:
        return self.start if slot.owner is None else getattr(self.nodes[slot.owner], slot.field)

    def set(self, slot: Slot, target: str | None) -> None:
        if slot.owner is None:
            self.start = target
        else:
            self.nodes[slot.owner] = msgspec.structs.replace(self.nodes[slot.owner], **{slot.field: target})

    def slot_of(self, node_id: str) -> Slot:
        """The pointer that leads to `node_id` (every step but the first has exactly one)."""
        self.node(node_id)
        if self.start == node_id:
            return START
        for node in self.nodes.values():
            for field in ("yes", "no") if is_condition(node) else ("next",):
                if getattr(node, field) == node_id:
                    return Slot(node.id, field)
        raise EditError(f"{describe(self.nodes[node_id])} cannot be reached from the start")

    def subtree(self, node_id: str | None) -> list[str]:
        """`node_id` and everything after it, depth first, Yes before No."""
        out: list[str] = []
        stack = [node_id]
        while stack:
            current = stack.pop()
            if current is None:
                continue
            out.append(current)
            stack.extend(reversed(children(self.nodes[current])))
        return out

    def open_ends(self, ids: Iterable[str]) -> list[Slot]:
        """The end pointers (None) among `ids`: where what follows a pasted or inserted piece can hang."""
        return [Slot(i, field) for i in ids
                for field in (("yes", "no") if is_condition(self.nodes[i]) else ("next",))
                if getattr(self.nodes[i], field) is None]

    def remove(self, ids: Iterable[str]) -> None:
        for node_id in ids:
            del self.nodes[node_id]

    def sequence(self) -> Sequence:
        """The tree as stored: nodes in depth-first order, so the JSON reads like the tree."""
        return Sequence(start=self.start, nodes=[self.nodes[i] for i in self.subtree(self.start)])


def fresh_ids(taken: AbstractSet[str], count: int) -> list[str]:
    """The first `count` ids `n1`, `n2`, … not in `taken` (deterministic, so tests can name them)."""
    out: list[str] = []
    number = 0
    while len(out) < count:
        number += 1
        candidate = f"n{number}"
        if candidate not in taken:
            out.append(candidate)
    return out
