"""One identity's configuration (spec identity-configuration.md): every setting a line, enter edits it.

Sections as the spec orders them: contact details; working hours (time zone
completed from zoneinfo's list, days, hours, and the next openings they give);
LinkedIn rate limits (a value above the recommended default asks first, with
the spec's warning); withdrawals (automatic threshold, pending invitations —
W withdraws them all after confirming the count, written as a request the
runtime's LinkedIn watcher carries out: the app never calls the gateway — and
the latest withdrawals); likings opt-out; email inboxes (emails per day and
per hour, signature — changed without reconnecting, an HTML one previewed as
text — and disconnect, which lists the leads mid-sequence that will fail and
asks first: storage.inboxes.disconnect_inbox, the CLI's too; c connects a
Google or Microsoft 365 inbox by OAuth, tui/screens/inbox_connect.py; an inbox
warming up shows its day and today's cap with the spec's warning,
sequences/warmup.py). L shows a new one-time share link for the identity's
owner (`enginy identity share`). D deletes the identity after naming everything
that goes with it. Every
value is checked by the storage function that saves it (one rule, the same
refusal as the CLI's); a refused value is told in one line and offered again
as typed. u undoes the last change made here.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any, Callable, NamedTuple
from zoneinfo import available_timezones

from rich.padding import Padding
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Header, OptionList, Static
from textual.widgets.option_list import Option

from sequences import warmup
from sequences.limits import EMAIL_PER_DAY, EMAIL_PER_HOUR, LINKEDIN_INVITES_PER_DAY, LINKEDIN_MESSAGES_PER_DAY
from sequences.working_hours import WorkingHours
from storage.activity import iso
from storage.identities import IdentityError, get_identity, parse_hours, update_identity
from storage.identity_delete import delete_identity, deletion_plan
from storage.inboxes import (DISCONNECT_WARNING, InboxError, disconnect_inbox, edit_inbox, leads_on_inbox, list_inboxes,
                             with_warmup)
from storage.linkedin_invitations import (count_in_state, parse_time, pending, recent_withdrawals,
                                          request_withdrawal)
from storage.share_links import make_link
from tui.commands import Command
from tui.html_text import html_to_text
from tui.screens.inbox_connect import PROVIDERS, InboxConnectScreen
from tui.screens.modals import ChoiceScreen, ConfirmScreen, NoticeScreen, PromptScreen
from tui.text import clean, literal
from tui.widgets.footer import BindingsFooter

OPENINGS = 3
CONTACT = (("name", "Identity name"), ("first_name", "First name"), ("last_name", "Last name"),
           ("job_title", "Job title"), ("company", "Company"), ("email", "Email"), ("linkedin_url", "LinkedIn URL"),
           ("meeting_url", "Schedule meeting URL"), ("phone", "Phone number"))
RATE = {"daily_connection_limit": ("Daily connection requests", LINKEDIN_INVITES_PER_DAY),
        "daily_message_limit": ("Daily messages limit", LINKEDIN_MESSAGES_PER_DAY)}
RATE_WARNING = ("Increasing daily connection requests or message limits beyond the recommended defaults can "
                "trigger LinkedIn automation detection, which may result in temporary account restrictions. "
                "If you do increase them, do so temporarily and monitor closely.")


HISTORY = 5  # the latest withdrawals shown; the CLI pages the rest
WITHDRAW_IMPORTANT = "After withdrawing a connection request, you cannot send a new request to the same person for 3 weeks."
LIKINGS_NOTE = "on: never reacts to posts"


class Loaded(NamedTuple):
    identity: dict[str, Any]
    inboxes: list[dict[str, Any]]
    pending: list[dict[str, Any]]  # oldest first
    withdrawn: int
    history: list[dict[str, Any]]  # the latest withdrawals, newest first


def load(db, identity_id: int) -> Loaded:
    inboxes = with_warmup(db, list_inboxes(db, identity_id))  # the warm-up's push-back, as the runtime reads it
    return Loaded(get_identity(db, identity_id), inboxes, pending(db, identity_id),
                  count_in_state(db, identity_id, "withdrawn"), recent_withdrawals(db, identity_id, HISTORY))


def pending_line(rows: list[dict[str, Any]], now: datetime) -> str:
    if not rows:
        return "none"
    oldest = parse_time(rows[0]["sent_at"])
    days = (now - oldest).days if oldest else None
    age = "" if days is None else f" · oldest {days} day{'' if days == 1 else 's'}"
    return f"{len(rows)}{age}"


def openings(ident: dict[str, Any], now: datetime) -> str:
    """The next few working-hour windows, in the identity's local time."""
    wh = WorkingHours.of_identity(ident)
    windows = wh.next_openings(now, OPENINGS)
    if not windows:
        return "never (no working day)"
    current = wh.current_window(now)
    if current is not None:  # open: when it closes, then the next two (fits 80 columns)
        windows = windows[:OPENINGS - 1]
    starts = ", ".join(f"{b.astimezone(wh.tz):%a %d %H:%M}" for b, _ in windows)
    return f"open till {current[1].astimezone(wh.tz):%H:%M} · {starts}" if current else starts


def note(label: str, value: object, style: str = "dim") -> Option:
    """A line that shows, not edits."""
    text = Text(f"  {label:<26} ", style="dim")
    text.append_text(literal(value, style))
    return Option(text, disabled=True)


def withdrawal_line(row: dict[str, Any]) -> str:
    who = row["public_id"] or row["provider_id"]
    return f"{(row['withdrawn_at'] or '')[:10]} · {row['withdrawn_by'] or '?'} · {who}"


def signature_preview(html: str) -> list[Option]:
    """The HTML signature as the recipient reads it, one option per line (escaped by literal)."""
    lines = html_to_text(html).splitlines() or ["(no text)"]
    return [note("" if i else "    HTML preview", line, "italic") for i, line in enumerate(lines)]


def section(title: str) -> Option:
    return Option(Text(title, style="bold underline"), disabled=True)


def line(key: str, label: str, value: object, note: str = "", style: str = "") -> Option:
    text = Text(f"  {label:<26} ", style="dim")
    text.append_text(literal(value if value not in (None, "") else "—", style))
    if note:
        text.append(f"  {note}", style="dim italic")
    return Option(text, id=key)


class IdentityConfigScreen(Screen):
    """An identity's settings; enter edits the highlighted one."""

    BINDINGS = [
        Binding("enter", "edit", "Edit", id="identity.edit", tooltip="Change the highlighted setting"),
        Binding("u", "undo", "Undo", id="identity.undo", tooltip="Put back the last setting changed here"),
        Binding("W", "withdraw", "Withdraw all", id="identity.withdraw",
                tooltip="Withdraw every pending LinkedIn invitation (asks first)"),
        Binding("c", "connect_inbox", "Connect inbox", id="identity.connect_inbox",
                tooltip="Connect a Google or Microsoft 365 inbox (sign in by OAuth)"),
        Binding("L", "share", "Share link", id="identity.share",
                tooltip="A one-time, 24-hour link with which the identity's owner connects their own inbox"),
        Binding("D", "delete", "Delete", id="identity.delete",
                tooltip="Delete this identity with its campaigns, inboxes and secrets (asks first)"),
        Binding("j", "move(1)", "Down", show=False, id="identity.down"),
        Binding("k", "move(-1)", "Up", show=False, id="identity.up"),
    ]

    def __init__(self, ctx, identity_id: int) -> None:
        super().__init__()
        self.ctx = ctx
        self.identity_id = identity_id
        self.data: Loaded | None = None
        self.undo: tuple[str, Callable[[], object]] | None = None  # what it puts back, and how

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="identity-title")
        yield OptionList(id="identity-settings")
        yield BindingsFooter()

    async def on_mount(self) -> None:
        await self.refresh_data()
        self.query_one(OptionList).focus()

    async def refresh_data(self) -> None:
        reader, identity_id = self.ctx.reader, self.identity_id
        try:
            self.data = await asyncio.to_thread(lambda: load(reader.db(), identity_id))
        except IdentityError:  # deleted meanwhile
            self.app.pop_screen()
            return
        self._show()

    def _show(self) -> None:
        assert self.data is not None
        ident, inboxes, waiting, withdrawn, history = self.data
        title = literal(ident["name"], "bold")
        title.append(f"  #{ident['id']} · {ident['timezone']}", style="dim")
        self.query_one("#identity-title", Static).update(title)
        options: list[Option] = [section("Contact details")]
        options += [line(key, label, ident[key]) for key, label in CONTACT]
        options += [section("Working hours"),
                    line("timezone", "Time zone", ident["timezone"]),
                    line("working_days", "Days", ident["working_days"]),
                    line("hours", "Hours", f"{ident['work_start']}-{ident['work_end']}"),
                    Option(Text(f"  {'Next openings':<26} {openings(ident, self.ctx.now())}", style="dim"),
                           disabled=True),
                    section("LinkedIn — rate limits")]
        for key, (label, cap) in RATE.items():
            value = ident[key]
            above = value > cap.default
            options.append(line(key, label, value, f"recommended {cap.default}" + (" — above it!" if above else ""),
                                "bold yellow" if above else ""))
        options += [section("LinkedIn — withdrawals"),
                    line("withdraw_enabled", "Automatically withdraw", "on" if ident["withdraw_enabled"] else "off",
                         "enter toggles"),
                    line("withdraw_after_days", "Withdraw after (days)", ident["withdraw_after_days"]),
                    line("withdraw_pending", "Pending invitations", pending_line(waiting, self.ctx.now()),
                         "enter or W withdraws them all" if waiting else ""),
                    *([note("", f"{asked} asked to withdraw: the runtime does it on its next LinkedIn round",
                            "yellow")] if (asked := sum(1 for r in waiting if r["withdraw_requested_at"])) else []),
                    note("Withdrawn so far", withdrawn),
                    *[note("" if i else "Latest withdrawals", withdrawal_line(r)) for i, r in enumerate(history)],
                    Option(Text(f"  full history: enginy linkedin invitations {ident['id']} --state withdrawn",
                                style="dim italic"), disabled=True),
                    section("Likings opt-out"),
                    line("likings_opt_out", "Likings opt-out", "on" if ident["likings_opt_out"] else "off",
                         f"enter toggles · {LIKINGS_NOTE}"),
                    section("Email inboxes")]
        today = self.ctx.now().astimezone(WorkingHours.of_identity(ident).tz).date()
        for box in inboxes:
            state = "connected" if box["connected"] else "DISCONNECTED"
            sig = "signature" if box["signature_text"] or box["signature_html"] else "no signature"
            options.append(line(f"inbox:{box['id']}", box["email"],
                                f"{box['per_day']}/day · {box['per_hour']}/hour · {sig}", state,
                                "" if box["connected"] else "yellow"))
            if box["signature_html"]:
                options += signature_preview(box["signature_html"])
            warming = warmup.state(box, box["per_day"], today) if box["connected"] else None
            if warming:
                options += [note("  Warm-up", warming.line(), "yellow"),
                            Option(Padding(Text(warmup.WARNING, style="yellow italic"), (0, 0, 0, 4)), disabled=True)]
        options.append(line("connect_inbox", "Connect an inbox…", "Google or Microsoft 365", "c"))
        table = self.query_one(OptionList)
        keep = table.highlighted
        table.clear_options()
        table.add_options(options)
        table.highlighted = keep if keep is not None and keep < len(options) else 1

    # --- editing ------------------------------------------------------------------------

    def palette_commands(self) -> list[Command]:
        return [Command("Edit setting", "Change the highlighted setting", self.action_edit),
                Command("Undo last change", "Put back the last setting changed here", self.action_undo),
                Command("Withdraw pending invitations", "Every pending LinkedIn invitation of this identity",
                        self.action_withdraw),
                *[Command(f"Connect a {name} inbox", "Sign in by OAuth and connect it to this identity",
                          lambda provider=provider: self.connect_inbox(provider)) for provider, name in PROVIDERS.items()],
                Command("Toggle likings opt-out", LIKINGS_NOTE, lambda: self._edit("likings_opt_out")),
                Command("Share link", "A one-time, 24-hour link with which the identity's owner connects their "
                        "own inbox (served by `enginy tracking serve`)", self.action_share),
                Command("Delete identity", "With its campaigns, inboxes and secrets (asks first)",
                        self.action_delete)]

    def action_withdraw(self) -> None:
        """Bulk withdrawal, confirmed with the count: written as a request the runtime carries out."""
        if self.data is None:
            return
        count = sum(1 for r in self.data.pending if not r["withdraw_requested_at"])
        if not count:
            self.notify("No pending invitation to withdraw" if not self.data.pending else
                        "Already asked: the runtime withdraws them on its next LinkedIn round")
            return
        detail = Text(f"{count} pending invitation{'' if count == 1 else 's'}, oldest first, withdrawn by the "
                      "runtime on its next LinkedIn round.\n\n")
        detail.append("Important: " + WITHDRAW_IMPORTANT, style="bold")

        def answer(ok: bool) -> None:
            if ok:
                marked = self.ctx.run_intent(request_withdrawal, self.identity_id)
                self.notify(f"Asked to withdraw {marked} invitation{'' if marked == 1 else 's'}")
                self.run_worker(self.refresh_data(), exclusive=True, group="identity-refresh")

        self.app.push_screen(ConfirmScreen(f"Withdraw {count} pending invitation{'' if count == 1 else 's'}?",
                                           detail), answer)

    def action_share(self) -> None:
        """Make a share link and show it (also copied to the clipboard where the terminal allows it)."""
        link, url = make_link(self.ctx.db, self.identity_id, now=self.ctx.now(),
                              base_url=self.ctx.workspace.config.tracking.base_url)
        self.app.copy_to_clipboard(url)
        detail = Text(f"{url}\n\n", style="bold")
        detail.append(f"Works once, until {link['expires_at'][:16].replace('T', ' ')} UTC. Send it to the "
                      "identity's owner privately; `enginy tracking serve` serves its page. It is shown only "
                      "now (copied to the clipboard where the terminal allows). Cancel it: "
                      f"enginy identity share {self.identity_id} --revoke", style="")
        self.app.push_screen(NoticeScreen("Share link", detail))

    def action_delete(self) -> None:
        confirm_delete(self, self.identity_id, lambda: self.app.pop_screen())

    def action_move(self, delta: int) -> None:
        table = self.query_one(OptionList)
        table.action_cursor_down() if delta > 0 else table.action_cursor_up()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._edit(event.option.id)

    def action_edit(self) -> None:
        table = self.query_one(OptionList)
        if table.highlighted is not None:
            self._edit(table.get_option_at_index(table.highlighted).id)

    def _edit(self, key: str | None) -> None:
        if self.data is None or key is None:
            return
        ident = self.data.identity
        if key.startswith("inbox:"):
            self._inbox(int(key.split(":")[1]))
        elif key == "connect_inbox":
            self.action_connect_inbox()
        elif key in ("withdraw_enabled", "likings_opt_out"):
            self._save({key: not ident[key]})
        elif key == "withdraw_pending":
            self.action_withdraw()
        elif key == "hours":
            self._ask("Working hours START-END (e.g. 09:00-18:00)", f"{ident['work_start']}-{ident['work_end']}",
                      lambda v: dict(zip(("work_start", "work_end"), parse_hours(v))))
        elif key == "timezone":
            self._ask("Time zone (IANA name; → takes the suggestion)", ident["timezone"],
                      lambda v: {"timezone": v.strip()}, suggestions=sorted(available_timezones()))
        elif key in RATE or key == "withdraw_after_days":
            self._ask(f"{dict(line_labels())[key]} (a whole number)", str(ident[key]),
                      lambda v, key=key: {key: whole(v)})
        else:
            label = dict(CONTACT).get(key, key.replace("_", " "))
            self._ask(label, ident[key] or "", lambda v, key=key: {key: v})

    def _ask(self, title: str, value: str, parse: Callable[[str], dict[str, Any]],
             suggestions: list[str] | None = None) -> None:
        """Prompt; parse and save; a refused value is told and offered again as typed."""
        def done(typed: str | None) -> None:
            if typed is None:
                return
            try:
                changes = parse(typed)
            except (IdentityError, ValueError) as exc:
                self.notify(str(exc), severity="error")
                self._ask(title, typed, parse, suggestions)
                return
            self._save(changes, retry=lambda: self._ask(title, typed, parse, suggestions))

        self.app.push_screen(PromptScreen(title, value, suggestions=suggestions), done)

    def _save(self, changes: dict[str, Any], retry: Callable[[], None] | None = None) -> None:
        assert self.data is not None
        ident = self.data.identity
        above = [RATE[k][0] for k, v in changes.items() if k in RATE and isinstance(v, int) and v > RATE[k][1].default
                 and v != ident[k]]
        if above:
            detail = Text(f"{', '.join(above)} above the recommended "
                          f"{' / '.join(str(RATE[k][1].default) for k in changes if k in RATE)} a day.\n\n")
            detail.append(RATE_WARNING)
            self.app.push_screen(ConfirmScreen("Raise the LinkedIn limit above the recommended value?", detail),
                                 lambda ok: self._write(changes, retry) if ok else None)
        else:
            self._write(changes, retry)

    def _write(self, changes: dict[str, Any], retry: Callable[[], None] | None) -> None:
        assert self.data is not None
        before = {k: self.data.identity[k] for k in changes}
        try:
            self.ctx.run_intent(update_identity, self.identity_id, **changes)
        except IdentityError as exc:
            self.notify(str(exc), severity="error")
            if retry:
                retry()
            return
        self.undo = (", ".join(changes), lambda: self.ctx.run_intent(update_identity, self.identity_id, **before))
        self.notify(f"Saved {', '.join(k.replace('_', ' ') for k in changes)} (u undoes)")
        self.run_worker(self.refresh_data(), exclusive=True, group="identity-refresh")

    def action_undo(self) -> None:
        if self.undo is None:
            self.notify("Nothing to undo here")
            return
        what, put_back = self.undo
        try:
            put_back()
        except (IdentityError, InboxError) as exc:
            self.notify(f"Cannot undo: {exc}", severity="error")
            return
        self.undo = None
        self.notify(f"Put back {what.replace('_', ' ')}")
        self.run_worker(self.refresh_data(), exclusive=True, group="identity-refresh")

    # --- inboxes ------------------------------------------------------------------------

    def action_connect_inbox(self) -> None:
        self.app.push_screen(ChoiceScreen("Connect which inbox?", [(p, f"{name} (sign in by OAuth)")
                                                                   for p, name in PROVIDERS.items()]),
                             lambda provider: self.connect_inbox(provider) if provider else None)

    def connect_inbox(self, provider: str) -> None:
        """The sign-in dialog; a connected inbox is told and shown at once."""
        if self.data is None:
            return

        def connected(inbox_id: int | None) -> None:
            if inbox_id is not None:
                self.notify(f"Inbox {inbox_id} connected")
                self.run_worker(self.refresh_data(), exclusive=True, group="identity-refresh")

        self.app.push_screen(InboxConnectScreen(self.ctx.connect_inbox, self.ctx.workspace, self.data.identity,
                                                provider), connected)

    def _inbox(self, inbox_id: int) -> None:
        assert self.data is not None
        box = next(b for b in self.data.inboxes if b["id"] == inbox_id)
        choices = [("per_day", f"Emails per day: {box['per_day']} (recommended {EMAIL_PER_DAY.default}, "
                               f"at most {EMAIL_PER_DAY.high})"),
                   ("per_hour", f"Emails per hour: {box['per_hour']} (recommended {EMAIL_PER_HOUR.default}, "
                                f"at most {EMAIL_PER_HOUR.high})"),
                   ("signature_text", "Signature (plain text; \\n starts a new line)"),
                   ("signature_html", "Signature (HTML)")]
        if box["connected"]:
            choices.append(("disconnect", "Disconnect this inbox…"))

        def chosen(what: str | None) -> None:
            if what == "disconnect":
                self._disconnect(box)
            elif what in ("per_day", "per_hour"):
                self._ask_inbox(box, what, str(box[what]), lambda v: whole(v))
            elif what == "signature_text":
                self._ask_inbox(box, what, box[what].replace("\n", "\\n"), lambda v: v.replace("\\n", "\n"))
            elif what == "signature_html":
                self._ask_inbox(box, what, box[what], lambda v: v)

        self.app.push_screen(ChoiceScreen(clean(box["email"]), choices), chosen)

    def _ask_inbox(self, box: dict, field: str, value: str, parse: Callable[[str], Any]) -> None:
        def done(typed: str | None) -> None:
            if typed is None:
                return
            try:
                self._write_inbox(box, {field: parse(typed)})
            except (InboxError, ValueError) as exc:
                self.notify(str(exc), severity="error")
                self._ask_inbox(box, field, typed, parse)

        label = {"per_day": "Emails per day", "per_hour": "Emails per hour", "signature_text": "Signature",
                 "signature_html": "HTML signature"}[field]
        self.app.push_screen(PromptScreen(f"{label} of {clean(box['email'])}", value), done)

    def _write_inbox(self, box: dict, changes: dict[str, Any]) -> None:
        before = {k: box[k] for k in changes}
        edit_inbox(self.ctx.db, box["id"], now=iso(self.ctx.now()), **changes)
        self.undo = (f"{box['email']} {', '.join(changes)}",
                     lambda: edit_inbox(self.ctx.db, box["id"], now=iso(self.ctx.now()), **before))
        self.notify(f"Saved {box['email']}: {', '.join(k.replace('_', ' ') for k in changes)} (u undoes)")
        self.run_worker(self.refresh_data(), exclusive=True, group="identity-refresh")

    def _disconnect(self, box: dict) -> None:
        leads = leads_on_inbox(self.ctx.db, box["id"])
        detail = Text("Warning: " + DISCONNECT_WARNING + "\n\n")
        if leads:
            detail.append("Leads mid-sequence on this inbox:\n", style="bold")
            for lead in leads:
                detail.append_text(literal(f"  {lead['first_name']} {lead['last_name']} <{lead['email'] or ''}> "
                                           f"· {lead['campaign']}"))
                detail.append("\n")
            if len(leads) == 20:
                detail.append("  … and maybe more\n", style="dim")
        else:
            detail.append("No lead is mid-sequence on it.\n", style="dim")
        detail.append("Its stored password is forgotten: `enginy inbox reconnect INBOX --password-stdin` "
                      "checks and re-enables it.", style="dim")

        def answer(ok: bool) -> None:
            if ok:
                self.ctx.run_intent(disconnect_inbox, box["id"])
                self.notify(f"Disconnected {box['email']}")
                self.run_worker(self.refresh_data(), exclusive=True, group="identity-refresh")

        self.app.push_screen(ConfirmScreen(f"Disconnect {clean(box['email'])}?", detail), answer)


def confirm_delete(screen: Screen, identity_id: int, after: Callable[[], None]) -> None:
    """Ask with everything that goes (the plan and the spec's warning), then delete in one transaction;
    the runtime drops the identity's actors and forgets its secrets (storage/identity_delete.py)."""
    ctx = screen.ctx  # type: ignore[attr-defined]
    try:
        plan = deletion_plan(ctx.db, identity_id)
    except IdentityError as exc:
        screen.notify(str(exc), severity="error")
        return
    *body, warning = plan.lines(most=4)  # the dialog fits 80x24
    detail = Text()
    for text in body[1:]:
        detail.append_text(literal(text))
        detail.append("\n")
    detail.append("\n" + warning, style="bold")

    def answer(ok: bool) -> None:
        if not ok:
            return
        try:
            ctx.run_intent(delete_identity, identity_id)
        except IdentityError as exc:
            screen.notify(str(exc), severity="error")
            return
        screen.notify(f"Deleted identity {plan.name}")
        after()

    screen.app.push_screen(ConfirmScreen(f"Delete identity {clean(plan.name)}?", detail), answer)


def line_labels() -> list[tuple[str, str]]:
    return [*((k, v[0]) for k, v in RATE.items()), ("withdraw_after_days", "Withdraw after (days)")]


def whole(value: str) -> int:
    try:
        return int(value.strip())
    except ValueError:
        raise ValueError(f"expected a whole number, got {value!r}") from None
