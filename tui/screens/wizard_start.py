"""The wizard's start: "from scratch" or a template from the gallery, with a preview.

The gallery lists the spec's seven built-in templates (category, overview,
"best for"), the built-in conditional example and the workspace's saved
templates; the highlighted one's steps are drawn as the tree editor draws
them (`sequences.editing.rows`). It dismisses with the template's name, ""
for from scratch, or None when cancelled.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList, Static
from textual.widgets.option_list import Option

from sequences.editing import rows
from sequences.model import Sequence, kind_of
from sequences.templates import BUILTIN_TEMPLATES, Template
from storage.campaigns import user_templates
from tui.text import literal
from tui.tree_text import draw
from tui.widgets.footer import BindingsFooter

SCRATCH = ""


def tree_text(seq: Sequence) -> Text:
    """The sequence drawn as the tree editor draws it (tui/tree_text.py), one row a line."""
    lines = draw(rows(seq), {n.id: kind_of(n) for n in seq.nodes})
    return Text("\n").join(lines)


class TemplateGallery(ModalScreen[str | None]):
    """Choose how the campaign starts: j/k or arrows move, enter picks, esc cancels."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="gallery.cancel", tooltip="Back without creating anything"),
        Binding("j", "move(1)", "Down", show=False, id="gallery.down"),
        Binding("k", "move(-1)", "Up", show=False, id="gallery.up"),
        Binding("enter", "pick", "Use", id="gallery.pick", tooltip="Start the wizard with this choice"),
    ]

    def __init__(self, ctx) -> None:
        super().__init__()
        self.ctx = ctx
        self.templates: dict[str, Template] = {t.name: t for t in (*BUILTIN_TEMPLATES, *user_templates(ctx.db))}

    def compose(self) -> ComposeResult:
        with Vertical(id="gallery"):
            yield Label(Text("New campaign — start from scratch or from a template", style="bold"), id="gallery-title")
            with Horizontal(id="gallery-body"):
                options = [Option(Text.assemble(("＋ From scratch", "bold"), ("  an empty sequence", "dim")),
                                  id="scratch")]
                for t in self.templates.values():
                    kind = ", ".join(t.categories) if t.builtin else "saved"
                    options.append(Option(Text.assemble(literal(t.name, "bold"), "\n  ", literal(kind, "dim")),
                                          id=f"t:{t.name}"))
                yield OptionList(*options, id="gallery-list")
                with VerticalScroll(id="gallery-preview"):
                    yield Static(id="gallery-detail")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()
        self._show("scratch")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self._show(event.option.id or "scratch")

    def _show(self, option_id: str) -> None:
        detail = Text()
        if option_id == "scratch":
            detail.append("From scratch\n\n", style="bold")
            detail.append("A Draft with no steps: build the sequence in the tree editor (step 1).")
        else:
            t = self.templates[option_id.removeprefix("t:")]
            detail.append_text(literal(t.name, "bold"))
            detail.append("\n")
            detail.append_text(literal(", ".join(t.categories) + ("" if t.builtin else " template"), "italic"))
            detail.append("\n\n")
            if t.overview:
                detail.append_text(literal(t.overview))
                detail.append("\n")
            if t.best_for:
                detail.append("Best for: ", style="bold")
                detail.append_text(literal(t.best_for))
                detail.append("\n")
            detail.append("\nSteps\n", style="bold underline")
            detail.append_text(tree_text(t.sequence))
        self.query_one("#gallery-detail", Static).update(detail)

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._choose(event.option.id or "scratch")

    def _choose(self, option_id: str) -> None:
        self.dismiss(SCRATCH if option_id == "scratch" else option_id.removeprefix("t:"))

    def action_pick(self) -> None:
        options = self.query_one(OptionList)
        if options.highlighted is not None:
            self._choose(options.get_option_at_index(options.highlighted).id or "scratch")

    def action_move(self, delta: int) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if delta > 0 else options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)
