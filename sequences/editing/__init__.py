"""The sequence tree editor's pure core: commands, undo/redo, the rows the screen draws.

The Textual screen holds one `EditorState`, turns keys and palette entries
into commands, and redraws `rows(state.sequence)` after each:

    state = EditorState.open(seq, locked=campaign_is_launched)
    state = state.apply(Insert(kind="email", anchor="n2", where="after"))  # EditError: say why
    state = state.undo(); state = state.redo()
    for row in rows(state.sequence): ...

- `commands`: the commands (frozen structs, JSON-nameable) and `decode_command`
- `perform`: what each command does to the tree, the move rules, the refusals
- `state`: `EditorState` (undo/redo, clipboard, ids, the launch lock)
- `view`: `Row`, `rows(seq)` (the rows the screen draws)
- `tree`: pointer bookkeeping, `EditError`, `fresh_ids`

The state, the commands, `rows`, `Row` and `EditError` are re-exported here: the editor
needs them together.
"""

from sequences.editing.commands import (
    COMMANDS, Command, Copy, Cut, Delete, DeleteSubtree, Insert, MoveDown, MoveUp, Paste, SetDelay, SetParams,
    decode_command,
)
from sequences.editing.view import Row, rows
from sequences.editing.state import EditorState
from sequences.editing.tree import EditError

__all__ = [
    "COMMANDS", "Command", "Copy", "Cut", "Delete", "DeleteSubtree", "EditError", "EditorState", "Insert",
    "MoveDown", "MoveUp", "Paste", "Row", "SetDelay", "SetParams", "decode_command", "rows",
]
