"""What the campaign view does to leads: bulk actions and the side panel's shortcuts.

Which leads an action names is decided once (`_chosen`): the marked rows of the
Audience list, else the one lead in view — the open side panel's, else the
highlighted row's (on the Activity tab: the highlighted action's recipient).
Never, silently, every lead of a filter: a campaign-wide retry is a choice of
its own that says how many it changes. Every action that changes several
leads names how many and which, and asks; its result says why leads were skipped.

The shortcuts follow the spec's side panel: LinkedIn profile (copied to the
clipboard with OSC 52 — over SSH no browser can open — and shown as an OSC 8
link), View in list, Add to blocklist (the lead or its company), Add to another
campaign, Create a task, the sequence path of this lead, and Edit sequence (S)
from an error banner. View in Inbox waits for the inbox screen.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from rich.text import Text
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Label, Static

from storage import lead_intents
from storage.audience import add_contacts
from storage.audience_view import LeadBrief, lead_briefs, lead_lists, lead_path, leads_in_status
from storage.blocklist import BlockValueError, add_block
from storage.campaigns import CampaignError, campaign_names, get_campaign, sequence_of
from storage.tasks import create_task
from tui.commands import Command
from tui.screens.modals import ChoiceScreen, ConfirmScreen, TaskScreen
from tui.text import clean, literal
from tui.widgets.virtual_table import VirtualTable

LEAD_BINDINGS = [
    Binding("b", "bulk", "Bulk actions", id="campaign.bulk",
            tooltip="On the marked leads, else the highlighted one: retry, pause, resume, remove"),
    Binding("o", "linkedin", "LinkedIn profile", show=False, id="lead.linkedin",
            tooltip="Copy the lead's LinkedIn URL to the clipboard (OSC 52) and show it as a link"),
    Binding("L", "view_in_list", "View lead in list", show=False, id="lead.list",
            tooltip="The contact list this lead came from, in the Contacts screen"),
    Binding("B", "blocklist", "Add to blocklist", show=False, id="lead.blocklist",
            tooltip="Block the lead or its whole company (asks first)"),
    Binding("plus", "add_to_campaign", "Add to another campaign", show=False, id="lead.add_to_campaign"),
    Binding("n", "create_task", "Create task", show=False, id="lead.task", tooltip="A to-do about this lead"),
    Binding("p", "lead_path", "Sequence path", show=False, id="lead.path",
            tooltip="The sequence with the steps this lead went through and the one it is at"),
]
LEAD_ACTIONS = {"bulk", "linkedin", "view_in_list", "blocklist", "add_to_campaign", "create_task", "lead_path"}
"""Actions on leads: offered on the Audience and Activity tabs (where a lead can be highlighted)."""

#: bulk action → (label, statuses it applies to, storage intent)
BULK = {
    "retry": ("Retry errors", ("error",), lead_intents.retry_leads),
    "pause": ("Pause", ("not_started", "in_progress"), lead_intents.pause_leads),
    "resume": ("Resume", ("paused",), lead_intents.resume_leads),
    "remove": ("Remove from campaign (permanent)", None, lead_intents.remove_leads),
}
VERB = {"retry": "Retry the failed step of", "pause": "Pause", "resume": "Resume", "remove": "Remove for good"}
NAMED = 8  # leads a confirmation names before "… and N more"


def _who(b: LeadBrief) -> str:
    return f"{b.name or '(no name)'}" + (f" @ {b.company}" if b.company else "")


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _names(briefs: list[LeadBrief], total: int | None = None) -> Text:
    text = Text()
    for b in briefs[:NAMED]:
        text.append("  • ")
        text.append_text(literal(_who(b)))
        text.append("\n")
    more = (total if total is not None else len(briefs)) - min(len(briefs), NAMED)
    if more > 0:
        text.append(f"  … and {more:,} more\n", style="dim")
    return text


def outcome(label: str, report: lead_intents.IntentReport) -> str:
    """'Pause: 0 changed, 2 skipped: lead is finished' — a result that says why."""
    text = f"{label}: {report.changed:,} changed"
    if report.skipped:
        reasons = Counter(s["reason"] for s in report.skipped)
        why = ", ".join(r if len(reasons) == 1 else f"{r} ({n:,})" for r, n in reasons.most_common())
        text += f", {len(report.skipped):,} skipped: {why}"
    return text


class PathScreen(ModalScreen[None]):
    """The campaign's sequence with one lead's path marked (read only; S opens the editor)."""

    BINDINGS = [Binding("escape,q,p", "close", "Close", id="path.close")]

    def __init__(self, title: Text, lines: list[Text]) -> None:
        super().__init__()
        self.title_text = title
        self.lines = lines

    def compose(self):
        with Vertical(id="dialog", classes="help"):
            yield Label(self.title_text, id="dialog-title")
            with VerticalScroll(id="help-scroll"):
                yield Static(Text("\n").join(self.lines))
            yield Label(Text("✔ went through  ➤ is at    esc: close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)


class LeadActions:
    """Mixin for the campaign view (ctx, campaign_id, row, metrics, tab, its two lists and side panels)."""

    ctx: Any
    campaign_id: int | None
    panel_enrollment: int | None

    # --- which leads --------------------------------------------------------------------------

    def _lead_in_view(self) -> int | None:
        """The enrollment of the lead the shortcuts act on: the open panel's, else the highlighted row's."""
        if self.panel_enrollment is not None:
            return self.panel_enrollment
        if self.tab == "activity":  # type: ignore[attr-defined]
            row = self.query_one("#activity-table", VirtualTable).current  # type: ignore[attr-defined]
            return row.enrollment_id if row is not None else None
        row = self.query_one("#audience-table", VirtualTable).current  # type: ignore[attr-defined]
        return row.id if row is not None else None

    def _chosen(self) -> tuple[list[LeadBrief], bool]:
        """The leads a bulk action names, and whether they are the marked rows."""
        table = self.query_one("#audience-table", VirtualTable)  # type: ignore[attr-defined]
        if table.marked and self.tab == "audience":  # type: ignore[attr-defined]
            return lead_briefs(self.ctx.db, sorted(table.marked)), True
        lead = self._lead_in_view()
        return (lead_briefs(self.ctx.db, [lead]) if lead is not None else []), False

    def _one_lead(self) -> LeadBrief | None:
        lead = self._lead_in_view()
        found = lead_briefs(self.ctx.db, [lead]) if lead is not None else []
        if not found:
            self.notify("No lead highlighted (this action has no recipient)", severity="warning")  # type: ignore
            return None
        return found[0]

    # --- bulk actions ---------------------------------------------------------------------------

    def _errors_in_campaign(self) -> int:
        metrics = getattr(self, "metrics", None)
        return metrics.audience.get("error", 0) if metrics is not None else 0

    def action_bulk(self) -> None:
        briefs, marked = self._chosen()
        if not briefs:
            self.notify("Mark leads (space) or highlight one first", severity="warning")  # type: ignore
            return
        choices: list[tuple[str, Text | str]] = []
        for key, (label, statuses, _) in BULK.items():
            n = sum(1 for b in briefs if not b.removed and (statuses is None or b.status in statuses))
            if n:
                choices.append((key, f"{label} — {n:,} of {len(briefs):,}" if marked else label))
        choices.append(("list", f"View in list — {_plural(len(briefs), 'contact')}"))
        errors = self._errors_in_campaign()
        if not marked and errors and not (len(briefs) == 1 and briefs[0].status == "error" and errors == 1):
            choices.append(("retry_all", f"Retry every Error lead of the campaign — {errors:,}"))
        title = f"{_plural(len(briefs), 'marked lead')}" if marked else f"Highlighted lead: {_who(briefs[0])}"
        if not choices:
            self.notify(f"No bulk action applies to {title.lower()}", severity="warning")  # type: ignore
            return
        self.app.push_screen(ChoiceScreen(title, choices),  # type: ignore[attr-defined]
                             lambda v: v and self.bulk(v, briefs))

    def bulk_palette(self) -> list[Command]:
        """The bulk actions in the palette, each on what `b` would name now (Retry only with an Error lead)."""
        commands = [Command(label, "Bulk: the marked leads, else the highlighted one", lambda k=key: self._bulk_now(k))
                    for key, (label, _, _) in BULK.items() if key != "retry"]
        if self._errors_in_campaign():
            commands.insert(0, Command("Retry errors", "Bulk: the marked or highlighted Error leads",
                                       lambda: self._bulk_now("retry")))
            commands.insert(1, Command("Retry every Error lead", "Bulk: every lead of the campaign in Error",
                                       lambda: self.bulk("retry_all", [])))
        return commands

    def _bulk_now(self, what: str) -> None:
        briefs, _ = self._chosen()
        if not briefs:
            self.notify("Mark leads (space) or highlight one first", severity="warning")  # type: ignore
            return
        self.bulk(what, briefs)

    def bulk(self, what: str, briefs: list[LeadBrief]) -> None:
        """Confirm (how many, which, which are skipped and why) and write the intent."""
        if what == "list":
            from storage.contacts_view import ContactFilter
            from tui.screens.contacts import ContactsScreen

            ids = tuple(sorted({b.contact_id for b in briefs}))
            self.app.push_screen(ContactsScreen(self.ctx, title="Chosen leads",  # type: ignore[attr-defined]
                                                flt=ContactFilter(contact_ids=ids)))
            return
        if what == "retry_all":
            label, fn, refs = "Retry errors", lead_intents.retry_leads, None
            total = self._errors_in_campaign()
            named = leads_in_status(self.ctx.db, self.campaign_id, "error", NAMED)  # type: ignore[arg-type]
            if not total:
                self.notify("No lead of this campaign is in Error", severity="warning")  # type: ignore
                return
            detail = Text("The failed step of every lead in Error is tried again:\n", end="")
            detail.append_text(_names(named, total))
            question = f"Retry {_plural(total, 'lead')} in Error?"
        else:
            label, statuses, fn = BULK[what]
            refs = [str(b.contact_id) for b in briefs]
            applies = [b for b in briefs if not b.removed and (statuses is None or b.status in statuses)]
            skipped = Counter("removed" if b.removed else b.status.replace("_", " ") for b in briefs if b not in applies)
            if not applies:
                why = ", ".join(f"{n:,} {s}" for s, n in skipped.items())
                self.notify(f"{label}: no lead it applies to ({why})", severity="warning")  # type: ignore
                return
            detail = _names(applies)
            if skipped:
                detail.append("Left as they are: " + ", ".join(f"{n:,} {s}" for s, n in skipped.items()) + "\n",
                              style="dim")
            if what == "remove":
                detail.append("They can never be added back to this campaign.", style="bold")
            question = f"{VERB[what]} {_plural(len(applies), 'lead')}?"

        def confirmed(yes: bool | None) -> None:
            if not yes:
                return
            try:
                report = self.ctx.run_intent(fn, self.campaign_id, refs)
            except (CampaignError, LookupError, ValueError) as exc:
                self.notify(str(exc), severity="warning")  # type: ignore[attr-defined]
                return
            self.notify(outcome(label.removesuffix(" (permanent)"), report))  # type: ignore[attr-defined]
            self.query_one("#audience-table", VirtualTable).clear_marks()  # type: ignore[attr-defined]
            self.app.call_later(self.app.refresh_screen)  # type: ignore[attr-defined]

        self.app.push_screen(ConfirmScreen(question, detail, danger=what == "remove"), confirmed)  # type: ignore

    # --- the side panel's shortcuts ----------------------------------------------------------

    def action_linkedin(self) -> None:
        if not (lead := self._one_lead()):
            return
        url = clean(lead.linkedin_url).strip()
        if not url:
            self.notify(f"{_who(lead)} has no LinkedIn profile URL", severity="warning")  # type: ignore
            return
        self.app.copy_to_clipboard(url)  # type: ignore[attr-defined]
        self.notify(f"Copied to the clipboard: {url}")  # type: ignore[attr-defined]

    def action_view_in_list(self) -> None:
        if not (lead := self._one_lead()):
            return
        lists = lead_lists(self.ctx.db, lead.contact_id)
        if not lists:
            self.notify(f"{_who(lead)} is in no contact list", severity="warning")  # type: ignore
            return

        def show(list_id: str | None) -> None:
            if list_id:
                from tui.screens.contacts import ContactsScreen

                name = dict(lists)[int(list_id)]
                self.app.push_screen(ContactsScreen(self.ctx, list_id=int(list_id), title=name))  # type: ignore

        if len(lists) == 1:
            show(str(lists[0][0]))
        else:
            self.app.push_screen(ChoiceScreen(f"Lists of {_who(lead)}",  # type: ignore[attr-defined]
                                              [(str(i), literal(n)) for i, n in lists]), show)

    def action_blocklist(self) -> None:
        if not (lead := self._one_lead()):
            return
        choices: list[tuple[str, Text | str]] = [("lead", Text.assemble("This lead: ", literal(_who(lead))))]
        if lead.company:
            choices.append(("company", Text.assemble("Its company: ", literal(lead.company), " (every contact there)")))

        def chosen(kind: str | None) -> None:
            if not kind:
                return
            value = str(lead.contact_id) if kind == "lead" else lead.company
            shown = _who(lead) if kind == "lead" else lead.company

            def confirmed(yes: bool | None) -> None:
                if not yes:
                    return
                try:
                    _, added = add_block(self.ctx.db, kind, value, now=self.ctx.now(),
                                         reason=f"added by {self.ctx.actor} from the campaign view")
                except BlockValueError as exc:
                    self.notify(str(exc), severity="warning")  # type: ignore[attr-defined]
                    return
                self.notify(f"Blocklisted {shown}" if added else f"{shown} was already on the blocklist")  # type: ignore
                self.app.call_later(self.app.refresh_screen)  # type: ignore[attr-defined]

            detail = Text("Their live leads in every campaign finish as Blocked (the runtime's next check);"
                          " enrolment skips them from now on. `enginy blocklist remove` undoes it.")
            self.app.push_screen(ConfirmScreen(f"Blocklist {shown}?", detail), confirmed)  # type: ignore

        self.app.push_screen(ChoiceScreen("Add to blocklist", choices), chosen)  # type: ignore[attr-defined]

    def action_add_to_campaign(self) -> None:
        if not (lead := self._one_lead()):
            return
        here = self.row.name if getattr(self, "row", None) is not None else None  # type: ignore[attr-defined]
        names = [n for n in campaign_names(self.ctx.db) if n != here]
        if not names:
            self.notify("No other campaign to add to", severity="warning")  # type: ignore[attr-defined]
            return

        def chosen(name: str | None) -> None:
            if name is None:
                return
            try:
                report = self.ctx.run_intent(add_contacts, name, [lead.contact_id])
            except CampaignError as exc:
                self.notify(str(exc), severity="warning")  # type: ignore[attr-defined]
                return
            self.notify(f"{_who(lead)} → {name}: {report.summary()}")  # type: ignore[attr-defined]

        self.app.push_screen(ChoiceScreen(f"Add {_who(lead)} to which campaign?",  # type: ignore[attr-defined]
                                          [(n, literal(n)) for n in names]), chosen)

    def action_create_task(self) -> None:
        if not (lead := self._one_lead()):
            return

        def made(value: tuple[str, str, datetime | None] | None) -> None:
            if value is None:
                return
            try:
                self.ctx.run_intent(create_task, lead.enrollment_id, title=value[0], notes=value[1], due_at=value[2])
            except CampaignError as exc:
                self.notify(str(exc), severity="warning")  # type: ignore[attr-defined]
                return
            self.notify(f"Task created for {_who(lead)}: {value[0].strip()}")  # type: ignore[attr-defined]
            self.app.call_later(self.app.refresh_screen)  # type: ignore[attr-defined]

        self.app.push_screen(TaskScreen(_who(lead), self.ctx.now), made)  # type: ignore[attr-defined]

    def action_lead_path(self) -> None:
        from sequences.editing import rows
        from sequences.model import kind_of
        from tui.tree_text import draw, mark_path

        if not (lead := self._one_lead()):
            return
        seq = sequence_of(get_campaign(self.ctx.db, self.campaign_id))  # type: ignore[arg-type]
        shown = rows(seq)
        visited, current = lead_path(self.ctx.db, lead.enrollment_id)
        lines = mark_path(shown, draw(shown, {n.id: kind_of(n) for n in seq.nodes}), visited, current)
        self.app.push_screen(PathScreen(Text.assemble(("Sequence path of ", "bold"),  # type: ignore[attr-defined]
                                                      literal(_who(lead), "bold")), lines))
