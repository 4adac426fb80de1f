"""A LinkedIn message as chunks: one message editor per chunk, added, removed and reordered by keys.

The spec's "message chunking technique": several short messages sent one
after the other read like a real chat. Each chunk is a `MessageField` with
its own count against the message limit, headed "Chunk 2 of 3". The form's
keys act on the chunk holding the focus (or the last one).
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Label

from tui.widgets.message_field import MessageField


class ChunksField(Vertical):
    """The chunks of one LinkedIn message (always at least one, maybe empty)."""

    def __init__(self, label: str, chunks: list[str], *, limit: int, custom_fields: list[str],
                 ai_variables: tuple[str, ...] | None = None, id: str | None = None) -> None:
        super().__init__(id=id, classes="chunks-field")
        self.label = label
        self.initial = list(chunks) or [""]
        self.limit = limit
        self.custom_fields = custom_fields
        self.ai_variables = ai_variables

    def compose(self) -> ComposeResult:
        yield Label(self.label, classes="field-label")
        n = len(self.initial)
        for i, text in enumerate(self.initial):
            yield self._chunk(text, i, n)

    def _chunk(self, text: str, i: int, n: int) -> MessageField:
        return MessageField(f"Chunk {i + 1} of {n}", text, limit=self.limit, custom_fields=self.custom_fields,
                            ai_variables=self.ai_variables)

    @property
    def fields(self) -> list[MessageField]:
        return list(self.query_children(MessageField))

    @property
    def texts(self) -> list[str]:
        return [f.text for f in self.fields]

    def current(self) -> int:
        """The index of the chunk holding the focus, the last one when none does."""
        focused = self.screen.focused
        for i, field in enumerate(self.fields):
            if focused is not None and field in focused.ancestors_with_self:
                return i
        return len(self.fields) - 1

    def _relabel(self) -> None:
        fields = self.fields
        for i, field in enumerate(fields):
            field.query_one(".field-label", Label).update(f"Chunk {i + 1} of {len(fields)}")

    async def add(self) -> None:
        """A new empty chunk after the current one, focused."""
        fields = self.fields
        at = self.current()
        chunk = self._chunk("", at + 1, len(fields) + 1)
        await self.mount(chunk, after=fields[at])
        self._relabel()
        chunk.area.focus()
        chunk.post_message(MessageField.Edited())

    async def remove(self, index: int) -> None:
        """Remove a chunk (the last one is emptied instead: a message has at least one chunk)."""
        fields = self.fields
        if len(fields) == 1:
            fields[0].area.load_text("")
            return
        await fields[index].remove()
        self._relabel()
        self.fields[min(index, len(fields) - 2)].area.focus()
        self.post_message(MessageField.Edited())

    def move(self, index: int, delta: int) -> bool:
        """Swap chunk `index` with its neighbour; the focus follows the moved text."""
        fields = self.fields
        other = index + delta
        if not 0 <= other < len(fields):
            return False
        a, b = fields[index].area, fields[other].area
        text_a, text_b = a.text, b.text
        a.load_text(text_b)
        b.load_text(text_a)
        b.focus()
        self.post_message(MessageField.Edited())
        return True
