"""The sequence tree editor: a campaign's steps from Start to End, edited by keys.

The screen holds one `EditorState` (sequences.editing) and turns keys,
palette entries and clicks into its commands; the tree is redrawn from
`rows()` after each one, so a step's problems show the moment they are true.
Every change that succeeds is saved at once, in one transaction
(`storage.campaigns.save_edited_sequence`: a Draft as it is being built, a
launched campaign's delays and texts only): killing the app loses at most the
command in flight. A refused command (`EditError`, the launch lock) or a
refused save says why in a notification; a refused save keeps the edit on
screen, marked "not saved", and the next change saves the whole tree again.

Keys follow keyboard tree editors (org-mode, Treenote) and this app: j/k
move, a/A actions after/before, c/C conditions after/before, y/n into a
condition's Yes/No branch, enter edits, x deletes, D deletes a subtree (asks
first), K/J move a step, X/Y/P cut, copy ("yank") and paste, u undo, ctrl+r
redo. Cut and copy take the step and everything after it.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, Static

from sequences.editing import (
    Command, Copy, Cut, Delete, DeleteSubtree, EditError, EditorState, Insert, MoveDown, MoveUp, Paste, Row,
    SetDelay, SetParams,
)
from sequences.limits import delay_problem
from sequences.model import ACTION_TYPES, CONDITION_TYPES, Delay, LABEL, Node, children, is_condition
from sequences.render import PREVIEW_LEAD
from storage import campaigns as store
from storage.ai_variables import prompts_of, sample_values
from storage.contacts import custom_keys
from tui.commands import Command as PaletteCommand
from tui.screens.modals import ChoiceScreen, ConfirmScreen, PromptScreen
from tui.screens.step_form import StepForm
from tui.text import joined, literal
from tui.widgets.footer import BindingsFooter
from tui.tree_text import kind_label
from tui.widgets.sequence_tree import SequenceTree
from tui.widgets.status import campaign_status

ACTION_KINDS = [t.__struct_config__.tag for t in ACTION_TYPES]
CONDITION_KINDS = [t.__struct_config__.tag for t in CONDITION_TYPES]
BRANCHES = [("yes", "Yes branch"), ("no", "No branch")]
_DELAY = re.compile(r"^\s*(?:(\d+)\s*d(?:ays?)?)?\s*(?:(\d+)\s*h(?:ours?)?)?\s*$", re.IGNORECASE)


def parse_delay(text: str) -> Delay:
    """'2d 3h', '2 days', '5h', '0' or 'asap' → a Delay; ValueError with the accepted forms."""
    text = text.strip().lower()
    if text in ("", "0", "asap", "as soon as possible"):
        return Delay()
    match = _DELAY.match(f"{text}d" if text.isdigit() else text)
    if not match or not any(match.groups()):
        raise ValueError(f"not a delay: {text!r} (write e.g. 2d, 5h, 2d 3h, or 0 for as soon as possible)")
    # a number of more than 9 digits is out of range anyway (and int() of thousands of digits refuses)
    days, hours = (0 if not g else int(g) if len(g) <= 9 else 10**9 for g in match.groups())
    if problem := delay_problem(days, hours):
        raise ValueError(f"{problem}, not {text!r}")
    return Delay(days=days, hours=hours)


def delay_text(delay: Delay) -> str:
    return " ".join(p for p in (f"{delay.days}d" * bool(delay.days), f"{delay.hours}h" * bool(delay.hours)) if p) or "0"


class SequenceEditorScreen(Screen):
    """The tree of one campaign's sequence; escape goes back."""

    BINDINGS = [
        Binding("j,down", "cursor(1)", "Down", show=False, id="editor.down"),
        Binding("k,up", "cursor(-1)", "Up", show=False, id="editor.up"),
        Binding("g,home", "edge(0)", "First row", show=False, id="editor.top"),
        Binding("G,end", "edge(1)", "Last row", show=False, id="editor.bottom"),
        Binding("a", "insert('action', 'after')", "Add action", id="editor.add_action",
                tooltip="An action after the step (into a branch of a condition)"),
        Binding("A,i", "insert('action', 'before')", "Add action before", show=False, id="editor.action_before",
                tooltip="An action before the step"),
        Binding("c", "insert('condition', 'after')", "Add condition", id="editor.add_condition",
                tooltip="A condition after the step; what followed goes on its Yes branch"),
        Binding("C", "insert('condition', 'before')", "Add condition before", show=False,
                id="editor.condition_before", tooltip="A condition before the step"),
        Binding("y", "insert('any', 'yes')", "Insert into Yes", show=False, id="editor.into_yes",
                tooltip="A step first on the Yes branch of the selected condition"),
        Binding("n", "insert('any', 'no')", "Insert into No", show=False, id="editor.into_no",
                tooltip="A step first on the No branch of the selected condition"),
        Binding("enter", "edit", "Edit step", id="editor.edit", tooltip="The step's form (on Start/End: add an action)"),
        Binding("d", "delay", "Delay", id="editor.delay", tooltip="Wait before the step: 2d, 5h, 0 = as soon as possible"),
        Binding("x", "delete", "Delete", id="editor.delete",
                tooltip="The step only (a condition asks which branch to keep)"),
        Binding("D", "delete_subtree", "Delete subtree", show=False, id="editor.delete_subtree",
                tooltip="The step and everything after it (asks first)"),
        Binding("K,alt+up", "move(-1)", "Move up", show=False, id="editor.move_up", tooltip="Swap with the step above"),
        Binding("J,alt+down", "move(1)", "Move down", show=False, id="editor.move_down",
                tooltip="Swap with the step below"),
        Binding("X", "clip('cut')", "Cut", show=False, id="editor.cut",
                tooltip="The step and everything after it, to the clipboard"),
        Binding("Y", "clip('copy')", "Copy", show=False, id="editor.copy",
                tooltip="The step and everything after it (yank)"),
        Binding("P", "paste", "Paste", show=False, id="editor.paste", tooltip="The clipboard after the step"),
        Binding("u", "undo", "Undo", id="editor.undo", tooltip="Without limit in this session"),
        Binding("ctrl+r", "redo", "Redo", id="editor.redo", tooltip="What undo took back"),
        Binding("T", "save_template", "Save as template", show=False, id="editor.template",
                tooltip="This sequence as a template for new campaigns"),
        Binding("ctrl+d", "duplicate", "Duplicate", show=False, id="editor.duplicate",
                tooltip="A Draft copy of this campaign"),
    ]

    def __init__(self, ctx, campaign_id: int) -> None:
        super().__init__()
        self.ctx = ctx
        self.campaign = store.get_campaign(ctx.db, campaign_id)
        self.state = EditorState.open(store.sequence_of(self.campaign), locked=self.locked_status)
        self.save_error = ""

    @property
    def locked_status(self) -> bool:
        return self.campaign["status"] != "draft"

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="editor-header")
        yield SequenceTree(id="sequence-tree")
        yield BindingsFooter()

    def on_mount(self) -> None:
        self.redraw()
        self.query_one(SequenceTree).focus()

    # --- drawing -------------------------------------------------------------------

    def redraw(self) -> None:
        self.query_one(SequenceTree).show(self.state.sequence, self.state.focus)
        self.draw_header()

    def draw_header(self) -> None:
        row, state = self.campaign, self.state
        parts: list[Text | str] = [literal(row["name"], "bold"), "  ", campaign_status(row["status"])]
        if state.locked:
            parts.append(Text("  🔒 locked: texts and delays only", style="yellow"))
        parts.append(Text(f"  ·  {len(state.sequence.nodes)} steps  ·  undo {len(state.past)}"
                          f"  redo {len(state.future)}", style="dim"))
        if state.clipboard is not None:
            parts.append(Text(f"  ·  clipboard {len(state.clipboard.nodes)} steps", style="dim"))
        if self.save_error:
            parts.append(Text("  ⚠ not saved: ", style="bold red"))
            parts.append(literal(self.save_error, "red"))
        else:
            parts.append(Text("  ✔ saved", style="green"))
        self.query_one("#editor-header", Static).update(joined(*parts))

    @property
    def row(self) -> Row | None:
        return self.query_one(SequenceTree).current

    def node(self, node_id: str) -> Node:
        return next(n for n in self.state.sequence.nodes if n.id == node_id)

    # --- applying and saving -------------------------------------------------------

    def run(self, change: Callable[[EditorState], EditorState]) -> bool:
        """Apply a command (or undo/redo); a refusal is said and changes nothing; a change is saved."""
        try:
            new = change(self.state)
        except EditError as exc:
            self.notify(str(exc), severity="warning")
            return False
        changed = new.sequence is not self.state.sequence
        self.state = new
        if changed:
            self.save()
        self.redraw()
        return True

    def apply(self, command: Command) -> bool:
        return self.run(lambda state: state.apply(command))

    def save(self) -> None:
        """The whole tree, in one transaction; a refusal keeps the edit on screen, marked not saved."""
        try:
            self.campaign = self.ctx.run_intent(store.save_edited_sequence, self.campaign["id"], self.state.sequence)
        except store.CampaignError as exc:
            self.save_error = str(exc)
            self.notify(f"Not saved: {exc}", severity="error")
            return
        self.save_error = ""

    async def refresh_data(self) -> None:
        """Another connection committed: follow the campaign's name and status (a launch locks the tree)."""
        try:
            self.campaign = store.get_campaign(self.ctx.db, self.campaign["id"])
        except store.CampaignError:
            self.notify("This campaign was deleted", severity="error")
            return
        if self.locked_status and not self.state.locked:
            self.state = EditorState.open(store.sequence_of(self.campaign), locked=True)
            self.notify("The campaign was launched: its structure is now locked (texts and delays only)")
            self.redraw()
        self.draw_header()

    # --- places --------------------------------------------------------------------

    def place(self, where: str, then: Callable[[str | None, str], None]) -> None:
        """Where a new or pasted step goes relative to the cursor: after/before a step, at a marker's
        place, or into a branch; on a condition "after" asks which branch."""
        row = self.row
        if row is None:
            return
        if row.marker != "step":
            if where in ("yes", "no"):
                self.notify("Select a condition to insert into its Yes or No branch", severity="warning")
                return
            anchor, at = row.place or (None, "after")
            then(anchor, "before" if row.marker == "start" and where == "before" else at)
            return
        if where == "after" and is_condition(self.node(row.node)):  # type: ignore[arg-type]
            self.app.push_screen(ChoiceScreen(f"Into which branch of step {row.node}?", BRANCHES),
                                 lambda branch: branch and then(row.node, branch))
            return
        then(row.node, where)

    # --- actions -------------------------------------------------------------------

    def action_cursor(self, delta: int) -> None:
        tree = self.query_one(SequenceTree)
        tree.action_cursor_down() if delta > 0 else tree.action_cursor_up()

    def action_edge(self, end: int) -> None:
        tree = self.query_one(SequenceTree)
        tree.action_last() if end else tree.action_first()

    def action_insert(self, family: str, where: str) -> None:
        kinds = {"action": ACTION_KINDS, "condition": CONDITION_KINDS}.get(family, ACTION_KINDS + CONDITION_KINDS)
        title = {"action": "Add an action", "condition": "Add a condition"}.get(family, "Add a step")

        def at(anchor: str | None, place: str) -> None:
            def chosen(kind: str | None) -> None:
                if kind:
                    self.apply(Insert(kind=kind, anchor=anchor, where=place))  # type: ignore[arg-type]
            self.app.push_screen(ChoiceScreen(title, [(k, kind_label(k)) for k in kinds]), chosen)

        self.place(where, at)

    def action_edit(self) -> None:
        row = self.row
        if row is None:
            return
        if row.marker != "step":
            self.action_insert("action", "after")
            return
        def edited(node: Node | None) -> None:
            if node is not None:
                self.apply(SetParams(node=node))

        # (read at each open, a few rows kept by triggers: names added by an import meanwhile are offered)
        fields = custom_keys(self.ctx.db)
        # the AI variables' texts as one lead of this campaign got them at this step, that lead as the sample
        sample = sample_values(self.ctx.db, self.campaign["id"], row.node)
        self.app.push_screen(StepForm(self.node(row.node), custom_fields=fields,  # type: ignore[arg-type]
                                      locked=self.state.locked, ai_variables=tuple(prompts_of(self.campaign)),
                                      preview_lead=sample[0] if sample else PREVIEW_LEAD,
                                      ai_sample=sample[1] if sample else None), edited)

    def _step(self) -> Row | None:
        """The row under the cursor if it is a step (markers have nothing to edit, move or delete)."""
        row = self.row
        if row is None or row.marker != "step":
            self.notify("Select a step first (Start and End are fixed)", severity="warning")
            return None
        return row

    def action_delay(self) -> None:
        if not (row := self._step()):
            return
        current = self.node(row.node).delay  # type: ignore[arg-type]

        def typed(text: str | None) -> None:
            if text is None:
                return
            try:
                delay = parse_delay(text)
            except ValueError as exc:
                self.notify(str(exc), severity="warning")
                return
            self.apply(SetDelay(node=row.node, delay=delay))  # type: ignore[arg-type]

        self.app.push_screen(PromptScreen(f"Wait before step {row.node} (2d, 5h, 2d 3h; 0 = as soon as possible)",
                                          delay_text(current)), typed)

    def action_delete(self) -> None:
        if not (row := self._step()):
            return
        node = self.node(row.node)  # type: ignore[arg-type]
        if not is_condition(node) or (node.yes is None and node.no is None):
            self.apply(Delete(node=node.id))
            return
        choices = [("yes", f"Keep the Yes branch ({self.count(node.yes)} steps; the No branch is deleted)"),
                   ("no", f"Keep the No branch ({self.count(node.no)} steps; the Yes branch is deleted)")]
        self.app.push_screen(ChoiceScreen(f"Delete condition {node.id}: which branch takes its place?", choices),
                             lambda keep: keep and self.apply(Delete(node=node.id, keep=keep)))

    def count(self, start: str | None) -> int:
        """Steps from `start` on (the step and everything after it)."""
        by_id = {n.id: n for n in self.state.sequence.nodes}
        stack, seen = [start], 0
        while stack:
            node_id = stack.pop()
            if node_id is not None and node_id in by_id:
                seen += 1
                stack.extend(children(by_id[node_id]))
        return seen

    def action_delete_subtree(self) -> None:
        if not (row := self._step()):
            return
        n = self.count(row.node)
        detail = Text(f"{n} step{'s' * (n != 1)} go{'es' * (n == 1)}; u undoes it.")
        self.app.push_screen(ConfirmScreen(f"Delete step {row.node} and everything after it?", detail),
                             lambda yes: yes and self.apply(DeleteSubtree(node=row.node)))  # type: ignore[arg-type]

    def action_move(self, delta: int) -> None:
        if row := self._step():
            self.apply(MoveDown(node=row.node) if delta > 0 else MoveUp(node=row.node))  # type: ignore[arg-type]

    def action_clip(self, how: str) -> None:
        if row := self._step():
            if self.apply(Cut(node=row.node) if how == "cut" else Copy(node=row.node)):  # type: ignore[arg-type]
                n = len(self.state.clipboard.nodes) if self.state.clipboard else 0
                self.notify(f"{'Cut' if how == 'cut' else 'Copied'} {n} step{'s' * (n != 1)}: P pastes them")

    def action_paste(self) -> None:
        if self.state.clipboard is None:
            self.notify("The clipboard is empty: Y copies or X cuts a step and what follows it", severity="warning")
            return
        self.place("after", lambda anchor, where: self.apply(Paste(anchor=anchor, where=where)))  # type: ignore

    def action_undo(self) -> None:
        self.run(EditorState.undo)

    def action_redo(self) -> None:
        self.run(EditorState.redo)

    def _intent(self, fn: Callable[..., Any], *args: Any, done: str, **kwargs: Any) -> Any:
        try:
            result = self.ctx.run_intent(fn, *args, **kwargs)
        except store.CampaignError as exc:
            self.notify(str(exc), severity="warning")
            return None
        self.notify(done)
        return result

    def action_save_template(self) -> None:
        row = self.campaign
        self.app.push_screen(PromptScreen("Save as template — name", f"{row['name']} template"),
                             lambda name: name and self._intent(store.save_as_template, row["id"], name,
                                                                done=f"Saved template {name}"))

    def action_duplicate(self) -> None:
        row = self.campaign
        self._intent(store.duplicate_campaign, row["id"], done=f"Duplicated {row['name']} as a Draft")

    async def action_back(self) -> None:
        self.app.pop_screen()

    def on_sequence_tree_selected(self, event: SequenceTree.Selected) -> None:
        """Enter on the tree, or a double click: edit the step."""
        event.stop()
        self.action_edit()

    def palette_commands(self) -> list[PaletteCommand]:
        """The bindings cover every command; these name the pickers' choices too, for the palette."""
        return [
            PaletteCommand(f"Add {LABEL[k]}", f"{'A condition' if k in CONDITION_KINDS else 'An action'} after the step",
                           lambda k=k: self.place("after", lambda a, w: self.apply(Insert(kind=k, anchor=a, where=w))))
            for k in ACTION_KINDS + CONDITION_KINDS
        ]
