"""What each command does to the tree, and the reasons it is refused.

`perform` is a pure function from (sequence, command, clipboard) to a new
sequence; it never leaves a half-made tree: every result has each step
reached exactly once from the start (content problems — an empty message,
a text too long — are allowed while editing; `rows` shows them).

Moving up and down. A *chain* is a run of steps linked by `next`, starting
at the start or at the first step of a Yes / No branch; only its last step
can be a condition (a condition continues in its branches). So:

* `MoveUp(a)` swaps action `a` with the action just above it in its chain;
  `MoveDown(a)` swaps it with the action just below. Each undoes the other.
  A step keeps its own delay when it moves.
* Refused, with the reason: the first step of the sequence (nothing above);
  the first step of a branch (above it is its condition: it would leave the
  branch); a condition moving up (the action above it would have to go
  into both branches); an action moving down onto a condition (it would
  have to go into both branches); a condition moving down (what follows
  it is its branches); the last step of a chain (nothing below).
  Cut and paste move steps across those borders.

Subtrees. Cut, copy and delete-subtree take a step *and everything after
it* (a condition: both branches). A paste hangs what followed the place
on the pasted piece's only open end; a piece with several (a condition's
two branches) goes only where nothing follows — the end of a chain or an
empty branch.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import msgspec

from sequences.editing.commands import (
    Command, Copy, Cut, Delete, DeleteSubtree, Insert, MoveDown, MoveUp, Paste, SetDelay, SetParams, Where,
)
from sequences.editing.tree import START, EditError, Slot, Tree, fresh_ids
from sequences.model import ACTION_TYPES, CONDITION_TYPES, LABEL, Sequence, describe, is_condition, kind_of

NODE_TYPES = {cls.__struct_config__.tag: cls for cls in (*ACTION_TYPES, *CONDITION_TYPES)}  # type: ignore[attr-defined]


class Outcome(NamedTuple):
    """The new tree (`changed` False when the command left it as it was: a copy, a
    save of an unchanged form), the step the cursor should go to, the clipboard."""

    sequence: Sequence
    changed: bool
    focus: str | None
    clipboard: Sequence | None


class _Run:
    """One command's working state: the tree, the ids already taken, the clipboard."""

    def __init__(self, seq: Sequence, taken: frozenset[str], clipboard: Sequence | None) -> None:
        self.tree = Tree(seq)
        self.taken = taken | self.tree.nodes.keys()
        self.clipboard = clipboard

    def fresh(self, count: int) -> list[str]:
        return fresh_ids(self.taken, count)


def perform(seq: Sequence, command: Command, *, taken: frozenset[str] = frozenset(),
            clipboard: Sequence | None = None) -> Outcome:
    """Apply `command` to `seq`; new ids avoid `taken` (every id the session has used).
    Raises `EditError` with a message for the user when the command cannot apply."""
    run = _Run(seq, taken, clipboard)
    before = dict(run.tree.nodes)
    focus = _HANDLERS[type(command)](run, command)
    if run.tree.start == seq.start and run.tree.nodes == before:
        return Outcome(seq, False, focus, run.clipboard)
    return Outcome(run.tree.sequence(), True, focus, run.clipboard)


# --- places ---------------------------------------------------------------------


def _place(tree: Tree, anchor: str | None, where: Where) -> Slot:
    if anchor is None:
        if where != "after":
            raise EditError("steps go after Start: nothing comes before it and it has no Yes/No branch")
        return START
    node = tree.node(anchor)
    if where == "before":
        return tree.slot_of(anchor)
    if where == "after":
        if is_condition(node):
            raise EditError(f"{describe(node)} is a condition: insert into its Yes or its No branch")
        return Slot(anchor, "next")
    if not is_condition(node):
        raise EditError(f"{describe(node)} is an action: only a condition has Yes and No branches")
    return Slot(anchor, where)


def _splice(tree: Tree, slot: Slot, root: str, ends: list[Slot], what: str) -> None:
    """Hang `root` at `slot`; what followed continues at the piece's one open end."""
    rest = tree.get(slot)
    if rest is not None:
        if len(ends) != 1:
            raise EditError(f"{what} ends in {len(ends)} places (a condition's branches): put it where nothing "
                            "follows — at the end of a path or into an empty branch")
        tree.set(ends[0], rest)
    tree.set(slot, root)


# --- commands -------------------------------------------------------------------


def _insert(run: _Run, cmd: Insert) -> str:
    cls = NODE_TYPES.get(cmd.kind)
    if cls is None:
        raise EditError(f"there is no step kind {cmd.kind!r}; one of: {', '.join(NODE_TYPES)}")
    slot = _place(run.tree, cmd.anchor, cmd.where)
    (new_id,) = run.fresh(1)
    node = cls(id=new_id)
    run.tree.nodes[new_id] = node
    ends = [Slot(new_id, cmd.branch)] if is_condition(node) else [Slot(new_id, "next")]
    _splice(run.tree, slot, new_id, ends, f"the new {LABEL[cmd.kind]}")
    return new_id


def _delete(run: _Run, cmd: Delete) -> str | None:
    tree = run.tree
    node = tree.node(cmd.node)
    slot = tree.slot_of(cmd.node)
    if not is_condition(node):
        if cmd.keep is not None:
            raise EditError(f"{describe(node)} is an action: there is no branch to keep")
        survivor, dropped = node.next, []
    elif cmd.keep is None:
        if node.yes is not None or node.no is not None:
            raise EditError(f"{describe(node)} is a condition: say which branch takes its place (Yes or No; "
                            "the other is deleted), or delete it with everything after it")
        survivor, dropped = None, []
    else:
        survivor = getattr(node, cmd.keep)
        dropped = tree.subtree(node.no if cmd.keep == "yes" else node.yes)
    tree.set(slot, survivor)
    tree.remove([cmd.node, *dropped])
    return survivor if survivor is not None else slot.owner


def _delete_subtree(run: _Run, cmd: DeleteSubtree | Cut) -> str | None:
    slot = run.tree.slot_of(cmd.node)
    run.tree.set(slot, None)
    run.tree.remove(run.tree.subtree(cmd.node))
    return slot.owner


def _copy(run: _Run, cmd: Copy | Cut) -> str:
    run.tree.node(cmd.node)
    ids = run.tree.subtree(cmd.node)
    run.clipboard = Sequence(start=cmd.node, nodes=[run.tree.nodes[i] for i in ids])
    return cmd.node


def _cut(run: _Run, cmd: Cut) -> str | None:
    _copy(run, cmd)
    return _delete_subtree(run, cmd)


def _paste(run: _Run, cmd: Paste) -> str:
    if run.clipboard is None or run.clipboard.start is None:
        raise EditError("the clipboard is empty: cut or copy a step first")
    slot = _place(run.tree, cmd.anchor, cmd.where)
    piece = run.clipboard.nodes
    rename = dict(zip((n.id for n in piece), run.fresh(len(piece))))
    for node in piece:
        pointers = {f: rename.get(getattr(node, f)) for f in (("yes", "no") if is_condition(node) else ("next",))}
        run.tree.nodes[rename[node.id]] = msgspec.structs.replace(node, id=rename[node.id], **pointers)
    ids = list(rename.values())
    _splice(run.tree, slot, rename[run.clipboard.start], run.tree.open_ends(ids), "the clipboard")
    return rename[run.clipboard.start]


def _swap_with_next(tree: Tree, upper: str) -> None:
    """`upper` → `lower` → rest becomes `lower` → `upper` → rest (both actions)."""
    slot = tree.slot_of(upper)
    lower = tree.nodes[upper].next
    rest = tree.nodes[lower].next
    tree.set(slot, lower)
    tree.set(Slot(lower, "next"), upper)
    tree.set(Slot(upper, "next"), rest)


def _move_up(run: _Run, cmd: MoveUp) -> str:
    tree = run.tree
    node = tree.node(cmd.node)
    slot = tree.slot_of(cmd.node)
    where = describe(node)
    if slot == START:
        raise EditError(f"{where} is already the first step")
    above = tree.nodes[slot.owner]
    if slot.field != "next":
        raise EditError(f"{where} is the first step of the {slot.field.capitalize()} branch of {describe(above)}: "
                        "it cannot move above its condition (cut and paste it)")
    if is_condition(node):
        raise EditError(f"{where} cannot move above {describe(above)}: that step would have to go into both "
                        "of its branches")
    _swap_with_next(tree, slot.owner)
    return cmd.node


def _move_down(run: _Run, cmd: MoveDown) -> str:
    tree = run.tree
    node = tree.node(cmd.node)
    where = describe(node)
    if is_condition(node):
        raise EditError(f"{where} is a condition: what follows it is its branches, so it cannot move down "
                        "(cut and paste it)")
    if node.next is None:
        raise EditError(f"{where} is already the last step of its path")
    below = tree.nodes[node.next]
    if is_condition(below):
        raise EditError(f"{where} cannot move below {describe(below)}: it would have to go into both of its branches")
    _swap_with_next(tree, cmd.node)
    return cmd.node


def _set_params(run: _Run, cmd: SetParams) -> str:
    old = run.tree.node(cmd.node.id)
    if kind_of(old) != kind_of(cmd.node):
        raise EditError(f"{describe(old)} cannot become a {LABEL[kind_of(cmd.node)]}: insert a new step "
                        "and delete this one")
    pointers = {f: getattr(old, f) for f in (("yes", "no") if is_condition(old) else ("next",))}
    run.tree.nodes[old.id] = msgspec.structs.replace(cmd.node, **pointers)
    return old.id


def _set_delay(run: _Run, cmd: SetDelay) -> str:
    old = run.tree.node(cmd.node)
    run.tree.nodes[old.id] = msgspec.structs.replace(old, delay=cmd.delay)
    return old.id


_HANDLERS: dict[type, Callable[[_Run, Command], str | None]] = {
    Insert: _insert, Delete: _delete, DeleteSubtree: _delete_subtree, MoveUp: _move_up, MoveDown: _move_down,
    Cut: _cut, Copy: _copy, Paste: _paste, SetParams: _set_params, SetDelay: _set_delay,
}
