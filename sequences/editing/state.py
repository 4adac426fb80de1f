"""The editor's state: the tree, unlimited undo/redo, the clipboard, the launch lock.

States are values: `apply`, `undo` and `redo` return a new state and leave
the old one as it was, so the app keeps one reference and a refused command
costs nothing (it raises `EditError`, whose text is for the user).

* Undo/redo hold whole snapshots (steps are frozen and shared between them,
  so a snapshot costs one list): undo gives back exactly the tree before,
  and a new change after undos drops what could be redone.
* The clipboard and the ids already used are not undone: a cut stays on
  the clipboard after its undo, and an id is never given twice in a session
  (so a stale reference to a deleted step never lands on a new one).
* Locked (a launched campaign): every change is checked with the one lock
  definition (`sequences.lock.locked_changes` against the sequence as
  launched); structure is refused with its message, delays and texts pass.
"""

from __future__ import annotations

import msgspec

from sequences.editing.commands import Command
from sequences.editing.perform import perform
from sequences.editing.tree import EditError
from sequences.lock import lock_message, locked_changes
from sequences.model import Sequence


class Snapshot(msgspec.Struct, frozen=True):
    sequence: Sequence
    focus: str | None


class EditorState(msgspec.Struct, frozen=True, kw_only=True):
    """Open one with `EditorState.open(seq, locked=...)`; read `sequence`, `focus`, `clipboard`."""

    sequence: Sequence
    #: The step the cursor should be on after the last command, undo or redo (None: Start).
    focus: str | None = None
    clipboard: Sequence | None = None
    #: The sequence as launched, when locked; changes are checked against it.
    launched: Sequence | None = None
    used_ids: frozenset[str] = frozenset()
    past: tuple[Snapshot, ...] = ()
    future: tuple[Snapshot, ...] = ()

    @classmethod
    def open(cls, seq: Sequence, *, locked: bool = False) -> EditorState:
        return cls(sequence=seq, focus=seq.start, launched=seq if locked else None,
                   used_ids=frozenset(n.id for n in seq.nodes))

    @property
    def locked(self) -> bool:
        return self.launched is not None

    @property
    def can_undo(self) -> bool:
        return bool(self.past)

    @property
    def can_redo(self) -> bool:
        return bool(self.future)

    def apply(self, command: Command) -> EditorState:
        """The state after `command`; raises `EditError` (message for the user) when refused."""
        out = perform(self.sequence, command, taken=self.used_ids, clipboard=self.clipboard)
        if not out.changed:
            return msgspec.structs.replace(self, focus=out.focus, clipboard=out.clipboard)
        if self.launched is not None:
            problems = locked_changes(self.launched, out.sequence)
            if problems:
                raise EditError(lock_message(problems))
        return msgspec.structs.replace(
            self, sequence=out.sequence, focus=out.focus, clipboard=out.clipboard,
            used_ids=self.used_ids | {n.id for n in out.sequence.nodes},
            past=(*self.past, Snapshot(self.sequence, self.focus)), future=(),
        )

    def undo(self) -> EditorState:
        if not self.past:
            raise EditError("nothing to undo")
        back = self.past[-1]
        return msgspec.structs.replace(self, sequence=back.sequence, focus=back.focus, past=self.past[:-1],
                                       future=(*self.future, Snapshot(self.sequence, self.focus)))

    def redo(self) -> EditorState:
        if not self.future:
            raise EditError("nothing to redo")
        ahead = self.future[-1]
        return msgspec.structs.replace(self, sequence=ahead.sequence, focus=ahead.focus, future=self.future[:-1],
                                       past=(*self.past, Snapshot(self.sequence, self.focus)))
