"""The editor's commands: small frozen structs, named by a `command` tag.

They are data, so the app can list them in its palette (`TITLE`), the CLI
and JSON can name them (`decode_command`), and a test can generate them.
What each one does to the tree, and when it is refused, is `perform.py`.

Places: a step goes `before` or `after` a step, or first into a
condition's `yes` / `no` branch; `anchor=None` is the Start marker (only
`after` it). What used to follow the place continues after the new step —
for a new condition, on its `branch` (Yes unless told).
"""

from __future__ import annotations

from typing import ClassVar, Literal, Union

import msgspec

from sequences.model import Delay, Node

Where = Literal["before", "after", "yes", "no"]
Branch = Literal["yes", "no"]


class _Command(msgspec.Struct, tag_field="command", frozen=True, kw_only=True, forbid_unknown_fields=True):
    TITLE: ClassVar[str]


class Insert(_Command, tag="insert", frozen=True):
    """A new, empty step of `kind` (a model tag: "email", "accepted_connection", …) at a place."""

    TITLE = "Insert a step"
    kind: str
    anchor: str | None = None
    where: Where = "after"
    branch: Branch = "yes"


class Delete(_Command, tag="delete", frozen=True):
    """One step; what followed it takes its place. A condition needs `keep`: the branch that
    takes its place (the other branch is deleted) — unless both branches are empty."""

    TITLE = "Delete a step"
    node: str
    keep: Branch | None = None


class DeleteSubtree(_Command, tag="delete_subtree", frozen=True):
    """A step and everything after it (for a condition: both branches)."""

    TITLE = "Delete a step and everything after it"
    node: str


class MoveUp(_Command, tag="move_up", frozen=True):
    """Swap an action with the action just above it in its chain (see `perform.py` for the rules)."""

    TITLE = "Move a step up"
    node: str


class MoveDown(_Command, tag="move_down", frozen=True):
    """Swap an action with the action just below it in its chain; the exact inverse of `MoveUp`."""

    TITLE = "Move a step down"
    node: str


class Cut(_Command, tag="cut", frozen=True):
    """Copy a step and everything after it to the clipboard, then delete them."""

    TITLE = "Cut a step and everything after it"
    node: str


class Copy(_Command, tag="copy", frozen=True):
    """Copy a step and everything after it to the clipboard (the tree does not change)."""

    TITLE = "Copy a step and everything after it"
    node: str


class Paste(_Command, tag="paste", frozen=True):
    """The clipboard's steps, with fresh ids, at a place (the clipboard stays for more pastes)."""

    TITLE = "Paste"
    anchor: str | None = None
    where: Where = "after"


class SetParams(_Command, tag="set_params", frozen=True):
    """The form's save: `node` (same id, same kind) replaces the step's parameters and
    delay; its pointers are ignored (the tree keeps its shape)."""

    TITLE = "Edit a step"
    node: Node


class SetDelay(_Command, tag="set_delay", frozen=True):
    """The wait before a step runs (the "as soon as possible" label)."""

    TITLE = "Set a step's delay"
    node: str
    delay: Delay


Command = Union[Insert, Delete, DeleteSubtree, MoveUp, MoveDown, Cut, Copy, Paste, SetParams, SetDelay]
COMMANDS: tuple[type, ...] = Command.__args__  # type: ignore[attr-defined]


def decode_command(data: bytes | str) -> Command:
    """A command from its JSON (`{"command": "insert", "kind": "email", "anchor": "n2"}`);
    raises msgspec.ValidationError naming the bad field."""
    return msgspec.json.decode(data, type=Command)
