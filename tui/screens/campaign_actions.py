"""Campaign-level actions shared by the dashboard and the campaign view.

Both screens offer the same actions on "the current campaign" (the
highlighted card, or the open campaign); they live here once so the two can
never behave differently. Each is an intent written through storage.campaigns
(the runtime picks it up), followed by an immediate refresh. Destructive ones
(archive, delete) ask first. On the dashboard, pause/resume, archive, move to
folder and View in list take the marked campaigns (`campaign_targets`); acting
on several campaigns always names them and asks.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from rich.text import Text
from textual.binding import Binding

from sequences.wording import plural
from storage import campaigns as store
from storage.campaign_export import write_csv
from storage.launch import launch, launch_check
from tui.commands import Command
from tui.screens.modals import ChoiceScreen, ConfirmScreen, NoticeScreen, PromptScreen
from tui.text import clean, joined, literal
from tui.widgets.status import PRIORITY

CAMPAIGN_BINDINGS = [
    Binding("S", "edit_sequence", "Edit sequence", show=False, id="campaign.edit_sequence",
            tooltip="The sequence tree editor (after launch: texts and delays only)"),
    Binding("ctrl+e", "edit", "Edit", show=False, id="campaign.edit",
            tooltip="The wizard's steps on this campaign: name, sequence, audience, AI agent, settings"),
    Binding("l", "launch", "Launch", id="campaign.launch", tooltip="Start the campaign (Draft or Scheduled)"),
    Binding("z", "pause_resume", "Pause/Resume", id="campaign.pause", tooltip="Pause or resume the campaign"),
    Binding("P", "priority", "Priority", id="campaign.priority", tooltip="High, Medium or Low"),
    Binding("d", "duplicate", "Duplicate", id="campaign.duplicate", tooltip="A Draft copy to edit before launch"),
    Binding("a", "archive", "Archive", show=False, id="campaign.archive", tooltip="Stop for good (asks first)"),
    Binding("D", "delete", "Delete", show=False, id="campaign.delete", tooltip="Remove permanently (asks first)"),
    Binding("T", "save_template", "Save as template", show=False, id="campaign.template"),
    Binding("m", "move_folder", "Move to folder", show=False, id="campaign.folder"),
    Binding("E", "export", "Export CSV", show=False, id="campaign.export", tooltip="Campaign metrics as CSV"),
    Binding("V", "campaign_list", "View campaign in list", show=False, id="campaign.view_in_list",
            tooltip="The campaign's contacts (the marked campaigns') in the Contacts screen"),
    Binding("R", "view_inbox", "View in Inbox", show=False, id="campaign.view_inbox",
            tooltip="The conversation inbox, only this campaign's conversations (replies to read and answer)"),
]


def _campaigns(n: int) -> str:
    return f"{n} campaign{'' if n == 1 else 's'}"


class CampaignActions:
    """Mixin for a Screen with `ctx` and `current_campaign() -> dict | None`."""

    ctx: Any

    def current_campaign(self) -> dict[str, Any] | None:  # pragma: no cover - overridden
        raise NotImplementedError

    def campaign_commands(self) -> list[Command]:
        run = self.run_action  # type: ignore[attr-defined]
        return [Command(b.description, b.tooltip or f"key: {b.key}", lambda a=b.action: run(a))
                for b in CAMPAIGN_BINDINGS]

    def _intent(self, fn: Callable[..., Any], *args: Any, done: str = "", **kwargs: Any) -> Any:
        """Run a storage intent; a refusal (CampaignError) becomes a notification, not a crash."""
        try:
            result = self.ctx.run_intent(fn, *args, **kwargs)
        except (store.CampaignError, LookupError) as exc:
            self.notify(str(exc), severity="warning")  # type: ignore[attr-defined]
            return None
        if done:
            self.notify(done)  # type: ignore[attr-defined]
        self.app.call_later(self.app.refresh_screen)  # type: ignore[attr-defined]
        self.after_intent()
        return result

    def after_intent(self) -> None:
        """Screens may do more after an intent (the campaign view re-reads its header)."""

    def campaign_targets(self) -> list[dict[str, Any]]:
        """The campaigns an action applies to: the current one (the dashboard: its marked rows, if any)."""
        row = self._with_campaign()
        return [row] if row else []

    def _each(self, rows: list[dict[str, Any]], fn: Callable[..., Any], verb: str, **kwargs: Any) -> None:
        """One intent per campaign; one refusal does not stop the others, and the result names both."""
        done, refused = [], []
        for row in rows:
            try:
                self.ctx.run_intent(fn, row["id"], **kwargs)
                done.append(row["name"])
            except (store.CampaignError, LookupError) as exc:
                refused.append(f"{row['name']}: {exc}")
        message = f"{verb} {_campaigns(len(done))}"
        if refused:
            message += f"; {len(refused)} refused — " + "; ".join(refused)
        self.notify(message, severity="warning" if refused else "information")  # type: ignore[attr-defined]
        self.after_many()
        self.app.call_later(self.app.refresh_screen)  # type: ignore[attr-defined]
        self.after_intent()

    def after_many(self) -> None:
        """After an action on several campaigns (the dashboard clears its marks)."""

    def _ask_many(self, question: str, rows: list[dict[str, Any]], then: Callable[[], None], note: str = "") -> None:
        names = Text()
        for row in rows[:10]:
            names.append("  • ")
            names.append_text(literal(row["name"]))
            names.append("\n")
        if len(rows) > 10:
            names.append(f"  … and {len(rows) - 10} more\n", style="dim")
        if note:
            names.append(note, style="dim")
        self.app.push_screen(ConfirmScreen(question, names, danger=False),  # type: ignore[attr-defined]
                             lambda yes: yes and then())

    def _with_campaign(self) -> dict[str, Any] | None:
        row = self.current_campaign()
        if row is None:
            self.notify("No campaign selected", severity="warning")  # type: ignore[attr-defined]
        return row

    def action_view_inbox(self) -> None:
        if row := self._with_campaign():
            from tui.screens.conversations import ConversationsScreen, InboxFilter

            self.app.push_screen(ConversationsScreen(self.ctx, InboxFilter(campaign_id=row["id"])))  # type: ignore[attr-defined]

    def action_launch(self) -> None:
        """The launch checks first (storage.launch, as every launch): ready, a confirmation
        saying what will happen; problems that only make leads wait, listed with "launch
        anyway?"; a blocking one (a step's error), listed, and nothing to confirm."""
        if not (row := self._with_campaign()):
            return
        if row["status"] not in ("draft", "scheduled"):  # (already launched, archived: the store says why)
            self._intent(launch, row["id"], done=f"Launched {row['name']}")
            return
        check = launch_check(self.ctx.db, row["id"])
        push = self.app.push_screen  # type: ignore[attr-defined]
        problems = Text("\n").join(Text(clean(f"• {p}")) for p in check.problems)  # (wrapped, not cut)
        if check.blocking:
            push(NoticeScreen(f"{check.name} cannot be launched yet",
                              joined(problems, "\n\nFix the sequence first (S: the sequence editor).")))
            return
        summary = joined("Identity ", literal(check.identity or "none", "bold"), f"  ·  {check.leads:,} lead"
                         f"{'s' * (check.leads != 1)}", "\nIts leads start receiving the sequence's actions; "
                         "the sequence's structure is then locked.")

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._intent(launch, row["id"], force=bool(check.problems), done=f"Launched {check.name}")

        if check.problems:
            push(ConfirmScreen(f"Launch {check.name} anyway?",
                               joined(problems, "\n\n", summary, "\nLeads wait at those steps until it is fixed.")),
                 confirmed)
        else:
            push(ConfirmScreen(f"Launch {check.name} now?", summary, danger=False), confirmed)

    def action_pause_resume(self) -> None:
        rows = self.campaign_targets()
        if len(rows) > 1:
            self._pause_resume_many(rows)
        elif row := (rows[0] if rows else None):
            if row["status"] == "paused":
                self._intent(store.resume_campaign, row["id"], done=f"Resumed {row['name']}")
            else:
                self._intent(store.pause_campaign, row["id"], done=f"Paused {row['name']}")

    def _pause_resume_many(self, rows: list[dict[str, Any]]) -> None:
        running = [r for r in rows if r["status"] in ("running", "scheduled")]
        paused = [r for r in rows if r["status"] == "paused"]
        choices: list[tuple[str, Text | str]] = []
        if running:
            choices.append(("pause", f"Pause {len(running)} running or scheduled"))
        if paused:
            choices.append(("resume", f"Resume {len(paused)} paused"))
        if not choices:
            self.notify("None of the marked campaigns is running, scheduled or paused", severity="warning")  # type: ignore
            return
        other = len(rows) - len(running) - len(paused)
        note = (f"{plural(other, 'marked campaign')} neither running nor paused "
                f"{'is' if other == 1 else 'are'} left as {'it is' if other == 1 else 'they are'}.") if other else ""

        def chosen(what: str | None) -> None:
            if what == "pause":
                self._ask_many(f"Pause {_campaigns(len(running))}?", running,
                               lambda: self._each(running, store.pause_campaign, "Paused"), note)
            elif what == "resume":
                self._ask_many(f"Resume {_campaigns(len(paused))}?", paused,
                               lambda: self._each(paused, store.resume_campaign, "Resumed"), note)

        self.app.push_screen(ChoiceScreen(f"{len(rows)} marked campaigns", choices), chosen)  # type: ignore

    def action_priority(self) -> None:
        if not (row := self._with_campaign()):
            return
        choices = [(k, Text(f"{s} {label}", style=style)) for k, (s, label, style) in PRIORITY.items()]

        def chosen(value: str | None) -> None:
            if value:
                self._intent(store.update_campaign, row["id"], priority=value,
                             done=f"Priority of {row['name']}: {value}")

        self.app.push_screen(ChoiceScreen("Priority", choices, row["priority"]), chosen)  # type: ignore[attr-defined]

    def action_duplicate(self) -> None:
        if row := self._with_campaign():
            self._intent(store.duplicate_campaign, row["id"], done=f"Duplicated {row['name']} as a Draft")

    def action_edit_sequence(self) -> None:
        if row := self._with_campaign():
            self.edit_sequence(row)

    def edit_sequence(self, row: dict[str, Any]) -> None:
        """The tree editor on the campaign (the dashboard's palette names each campaign)."""
        from tui.screens.sequence_editor import SequenceEditorScreen

        if row["status"] == "archived":
            self.notify(f"{row['name']} is archived: its sequence cannot change (duplicate it to edit a copy)",  # type: ignore
                        severity="warning")
            return
        self.app.push_screen(SequenceEditorScreen(self.ctx, row["id"]))  # type: ignore[attr-defined]

    def action_edit(self) -> None:
        """The spec's Edit quick action: the Create Campaign wizard opened on this campaign."""
        if not (row := self._with_campaign()):
            return
        if row["status"] == "archived":
            self.notify(f"{row['name']} is archived and cannot change (duplicate it to edit a copy)",  # type: ignore
                        severity="warning")
            return
        from tui.screens.wizard import WizardScreen

        self.app.push_screen(WizardScreen(self.ctx, campaign_id=row["id"]))  # type: ignore[attr-defined]

    def action_archive(self) -> None:
        rows = self.campaign_targets()
        if len(rows) > 1:
            live = [r for r in rows if r["status"] != "archived"]
            if not live:
                self.notify("The marked campaigns are archived already", severity="warning")  # type: ignore
                return
            self._ask_many(f"Archive {_campaigns(len(live))}?", live,
                           lambda: self._each(live, store.archive_campaign, "Archived"),
                           "They stop for good and cannot be reactivated (duplicate one to run it again).")
            return
        if not (row := (rows[0] if rows else None)):
            return

        def confirmed(yes: bool | None) -> None:
            if yes:
                self._intent(store.archive_campaign, row["id"], done=f"Archived {row['name']}")

        detail = Text("It stops for good and cannot be reactivated (duplicate it to run it again).")
        self.app.push_screen(ConfirmScreen(f"Archive {row['name']}?", detail), confirmed)  # type: ignore[attr-defined]

    def action_delete(self) -> None:
        if not (row := self._with_campaign()):
            return

        def confirmed(yes: bool | None) -> None:
            if yes and self._intent(store.delete_campaign, row["id"], done=f"Deleted {row['name']}") is not None:
                self.after_delete()

        detail = Text("The campaign, its audience and its activity are removed permanently.")
        self.app.push_screen(ConfirmScreen(f"Delete {row['name']}?", detail), confirmed)  # type: ignore[attr-defined]

    def after_delete(self) -> None:
        """The campaign view closes itself; the dashboard just refreshes."""

    def action_save_template(self) -> None:
        if not (row := self._with_campaign()):
            return

        def named(name: str | None) -> None:
            if name:
                self._intent(store.save_as_template, row["id"], name, done=f"Saved template {name}")

        self.app.push_screen(PromptScreen("Save as template — name", f"{row['name']} template"), named)  # type: ignore

    def action_move_folder(self) -> None:
        rows = self.campaign_targets()
        if len(rows) > 1:
            def moved(folder: str | None) -> None:
                if folder is not None:
                    self._each(rows, store.update_campaign, f"Moved to {folder.strip() or 'no folder'}:",
                               folder=folder)

            self.app.push_screen(PromptScreen(f"Move {len(rows)} campaigns to folder (empty: none)",  # type: ignore
                                              suggestions=sorted({r["folder"] for r in rows if r.get("folder")})),
                                 moved)
            return
        if not (row := (rows[0] if rows else None)):
            return

        def named(folder: str | None) -> None:
            if folder is not None:
                self._intent(store.update_campaign, row["id"], folder=folder,
                             done=f"Moved {row['name']} to {folder or 'no folder'}")

        self.app.push_screen(PromptScreen("Folder (empty: none)", row.get("folder") or ""), named)  # type: ignore

    def action_export(self) -> None:
        default = str(self.ctx.workspace.dir / "campaign-metrics.csv")

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path).expanduser()
            try:
                with target.open("w", newline="", encoding="utf-8") as out:
                    n = write_csv(self.ctx.db, out, now=self.ctx.now(), campaign_ids=self.export_ids())
            except OSError as exc:
                self.notify(f"Cannot write {target}: {exc.strerror}", severity="error")  # type: ignore
                return
            self.notify(f"Exported {plural(n, 'campaign')} to {target}")  # type: ignore[attr-defined]

        self.app.push_screen(PromptScreen("Export campaign metrics as CSV to", default), chosen)  # type: ignore

    def export_ids(self) -> list[int] | None:
        """Which campaigns the export holds (None: all)."""
        return None

    def action_campaign_list(self) -> None:
        """The spec's "View in list": the contacts of these campaigns, in the Contacts screen."""
        from storage.contacts_view import ContactFilter
        from tui.screens.contacts import ContactsScreen

        rows = self.campaign_targets()
        if not rows:
            return
        title = rows[0]["name"] if len(rows) == 1 else f"{len(rows)} campaigns"
        self.app.push_screen(ContactsScreen(self.ctx, title=f"Contacts of {title}",  # type: ignore[attr-defined]
                                            flt=ContactFilter(campaign_ids=tuple(r["id"] for r in rows))))
