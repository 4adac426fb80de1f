"""The conversation inbox: conversations across LinkedIn and email, and one thread to read and answer.

Two screens, so 80×24 shows each whole: the list (newest first; filters by
campaign, identity, channel, tag, unread; search) and the thread (every
message in and out, the author's words first, quoted history and signature
folded — sequences/mail_text.py — with the lead and campaign beside it when
the terminal is wide, above it when narrow). Keys follow aerc/neomutt: j/k,
enter opens, r replies, a asks the AI for a suggested reply to edit and send
(copilot: the runtime asks, tui/screens/ai_ask.py), t tags, u / N mark read / unread, c jumps to the lead
in its campaign. A reply is written as an outbox row through
storage/replies.py; the runtime sends it under the same caps as campaign
sends. Everything from outside goes through tui/text.py's `literal`.
"""

from __future__ import annotations

import asyncio
from datetime import datetime

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import DataTable, Header, Input, Label, Static, TextArea

from sequences.conversation_tags import STANDARD, TagError, is_positive
from sequences.mail_text import fold
from storage.conversation_view import (ConversationRow, InboxFilter, Thread, all_tags, campaigns_with_conversations,
                                        conversations, thread)
from storage.conversations import set_tags, set_unread
from storage.identities import list_identities
from storage.replies import ReplyError, queue_reply, reply_state, reply_wait
from storage.reply_agent import AgentNote, notes, request_suggestion
from tui.screens.ai_ask import AIAsk
from tui.screens.rows_screen import RowsScreen
from tui.screens.modals import ChoiceScreen, PromptScreen
from sequences.wording import ago
from tui.text import clean, joined, literal, short_time, snippet
from tui.widgets.footer import BindingsFooter
from tui.widgets.status import lead_status

CHANNEL_ICON = {"email": "✉", "linkedin": "in"}
PAGE = 200  # conversations read at a time; the next page comes as the cursor nears the end


class ConversationsScreen(RowsScreen):
    """Every conversation, newest first; enter opens the thread."""

    TABLE_ID, SEARCH_ID = "inbox-table", "inbox-search"

    BINDINGS = [
        Binding("enter", "open", "Open", id="inbox.open", tooltip="Read the thread (and reply)"),
        Binding("slash", "search", "Search", id="inbox.search", tooltip="The lead's name, email, company or a message's text"),
        Binding("f", "filters", "Filters", id="inbox.filters", tooltip="Campaign, identity, channel, tag, unread"),
        Binding("U", "toggle_unread", "Unread only", id="inbox.unread", tooltip="Show only unread conversations, or all"),
        Binding("r", "reply", "Reply", id="inbox.reply", tooltip="Write a reply (sent by the runtime through the outbox)"),
        Binding("t", "tag", "Tag", id="inbox.tag", tooltip="Add or remove a tag (Positive = Interested or Meeting booked)"),
        Binding("u", "mark(False)", "Mark read", show=False, id="inbox.read"),
        Binding("N", "mark(True)", "Mark unread", show=False, id="inbox.mark_unread"),
        Binding("c", "lead", "Lead in campaign", show=False, id="inbox.lead",
                tooltip="Open the conversation's campaign at its audience, on this lead"),
        Binding("x", "clear_filters", "Clear filters", show=False, id="inbox.clear"),
        Binding("j", "move(1)", "Down", show=False, id="inbox.down"),
        Binding("k", "move(-1)", "Up", show=False, id="inbox.up"),
        Binding("g", "ends(False)", "First", show=False, id="inbox.top", tooltip="The newest conversation"),
        Binding("G", "ends(True)", "Last", show=False, id="inbox.bottom",
                tooltip="The oldest conversation read so far (older ones are read as you get near the end)"),
    ]

    def __init__(self, ctx, flt: InboxFilter | None = None) -> None:
        super().__init__()
        self.ctx = ctx
        self.flt = flt or InboxFilter()
        self.rows: list[ConversationRow] = []
        self.more = False  # the last page read was full: older conversations may follow
        self._paging = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(placeholder="search conversations (/)", id="inbox-search", value=self.flt.search)
        yield Static(id="inbox-filters")
        table: DataTable = DataTable(id="inbox-table", cursor_type="row", zebra_stripes=True)
        for label, key in (("", "unread"), ("Ch", "channel"), ("Lead", "lead"), ("Last message", "last"),
                           ("Tags", "tags"), ("Campaign", "campaign"), ("When", "at")):
            table.add_column(label, key=key)
        yield table
        yield Static(id="inbox-report")
        yield BindingsFooter()

    async def on_mount(self) -> None:
        self.sub_title = "Inbox"
        await super().on_mount()

    def on_resize(self) -> None:
        self._fill()

    async def refresh_data(self) -> None:
        """The newest conversations again, as many as were shown (so a refresh keeps the place)."""
        flt, reader, shown = self.flt, self.ctx.reader, max(PAGE, len(self.rows))
        self.rows = await asyncio.to_thread(lambda: conversations(reader.db(), flt, limit=shown))
        self.more = len(self.rows) >= shown
        self._fill()

    @on(DataTable.RowHighlighted, "#inbox-table")
    async def _near_the_end(self, event: DataTable.RowHighlighted) -> None:
        """Keyset paging: the cursor a screen from the end reads the next older page and appends it."""
        if not self.more or self._paging or event.cursor_row < len(self.rows) - self.table.size.height:
            return
        self._paging = True
        try:
            flt, reader, last = self.flt, self.ctx.reader, self.rows[-1]
            page = await asyncio.to_thread(lambda: conversations(reader.db(), flt, limit=PAGE,
                                                                 after=(last.updated_at, last.id)))
            if flt is not self.flt or not self.rows or self.rows[-1] is not last:
                return  # the filter changed or the list was read again meanwhile
            self.more = len(page) >= PAGE
            now, wide, last_width = self._layout()
            for r in page:
                self._add(r, now, wide, last_width)
            self.rows += page
            self.query_one("#inbox-filters", Static).update(self._describe())
        finally:
            self._paging = False

    def _layout(self) -> tuple[datetime, bool, int]:
        wide = self.size.width >= 120
        return self.ctx.now(), wide, max(12, self.size.width - (95 if wide else 58))

    def _add(self, r: ConversationRow, now: datetime, wide: bool, last_width: int) -> None:
        arrow = "↩ " if r.last_direction == "in" else "→ " if r.last_direction == "out" else ""
        self.table.add_row(Text("●", style="bold cyan") if r.unread else Text(" "), CHANNEL_ICON.get(r.channel, r.channel),
                           literal(r.name[:40 if wide else 18], "bold" if r.unread else ""),
                           joined(arrow, literal(snippet(r.last_text, last_width))),
                           literal(", ".join(r.tags)[:40 if wide else 14], "italic green" if is_positive(r.tags) else "italic"),
                           literal((r.campaign or "—")[:30 if wide else 10]), ago(r.updated_at, now), key=str(r.id))

    def _fill(self) -> None:
        keep = self.current()
        table = self.table
        now, wide, last_width = self._layout()
        table.clear()
        for r in self.rows:
            self._add(r, now, wide, last_width)
        if keep is not None and any(r.id == keep.id for r in self.rows):
            table.move_cursor(row=table.get_row_index(str(keep.id)))
        self.query_one("#inbox-filters", Static).update(self._describe())

    def _describe(self) -> Text:
        n = len(self.rows)
        text = Text(f"{n:,}{'+' if self.more else ''} conversation{'s' * (n != 1)}", style="bold", end="")
        shown = self.flt.describe()
        if shown:
            text.append("  ·  ", style="dim")
            text.append_text(literal(shown, "bold"))
        if not self.rows:
            text.append("  ·  none matches (x clears the filters)" if shown
                        else "  ·  no conversation yet: replies and messages appear here", style="dim")
        return text

    def report(self, text: Text | str) -> None:
        self.query_one("#inbox-report", Static).update(text)

    # --- filters -------------------------------------------------------------------

    async def action_toggle_unread(self) -> None:
        await self._set(unread=not self.flt.unread)

    async def action_clear_filters(self) -> None:
        self.query_one("#inbox-search", Input).value = ""
        await self._set(**{f: getattr(InboxFilter(), f) for f in InboxFilter.__struct_fields__})

    def action_filters(self) -> None:
        choices = [("campaign", "Campaign…"), ("identity", "Identity…"), ("channel", "Channel…"), ("tag", "Tag…")]

        def picked(which: str | None) -> None:
            if which:
                self._pick(which)
        self.app.push_screen(ChoiceScreen("Filter conversations", choices), picked)

    def _pick(self, which: str) -> None:
        db = self.ctx.db
        if which == "campaign":
            values = [(str(cid), name) for cid, name in campaigns_with_conversations(db)]
            field, convert = "campaign_id", int
        elif which == "identity":
            values = [(str(i["id"]), i["name"]) for i in list_identities(db)]
            field, convert = "identity_id", int
        elif which == "channel":
            values = [("email", "Email"), ("linkedin", "LinkedIn")]
            field, convert = "channel", str
        else:
            values = [(t, t) for t in sorted(set(STANDARD) | set(all_tags(db)))]
            field, convert = "tag", str

        def chosen(value: str | None) -> None:
            if value is not None:
                self.run_worker(self._set(**{field: None if value == "" else convert(value)}))
        self.app.push_screen(ChoiceScreen(f"Only conversations of which {which}?", [("", "any"), *values]), chosen)

    # --- actions ---------------------------------------------------------------------

    def action_ends(self, last: bool) -> None:
        self.table.action_scroll_bottom() if last else self.table.action_scroll_top()

    def action_move(self, delta: int) -> None:
        self.table.action_cursor_down() if delta > 0 else self.table.action_cursor_up()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        row = self.current()
        if row is not None:
            self.app.push_screen(ThreadScreen(self.ctx, row.id))

    def action_reply(self) -> None:
        row = self.current()
        if row is not None:
            compose_reply(self, row.id, row.name, row.channel)

    def action_tag(self) -> None:
        row = self.current()
        if row is not None:
            edit_tags(self, row.id, row.tags)

    async def action_mark(self, unread: bool) -> None:
        row = self.current()
        if row is not None:
            set_unread(self.ctx.db, [row.id], unread)
            await self.refresh_data()

    def action_lead(self) -> None:
        row = self.current()
        if row is not None:
            open_lead(self, row)


def compose_reply(screen, conversation_id: int, name: str, channel: str, draft: str = "") -> None:
    """Ask for the reply's text (starting from `draft`: the AI's suggestion), then queue it (the runtime
    sends it); the report line says what happens next."""

    def written(text: str | None) -> None:
        if text is None:
            return
        try:
            queued = queue_reply(screen.ctx.db, conversation_id, text, now=screen.ctx.now())
        except ReplyError as exc:
            screen.report(Text(f"Not sent: {exc}", style="bold red"))
            return
        where = "email" if queued.channel == "email" else "LinkedIn message"
        screen.report(joined(Text(f"Reply queued as a {where} to ", style="green"), literal(name, "bold"),
                             Text(": the runtime sends it under the identity's caps and working hours "
                                  "(its place is on the Queues screen, Q on the dashboard).", style="green")))
        screen.run_worker(screen.refresh_data())
    title = f"{'AI suggestion: edit, then send — r' if draft else 'R'}eply to {clean(name)} ({CHANNEL_ICON.get(channel, channel)})"
    screen.app.push_screen(ReplyScreen(title, draft), written)


def edit_tags(screen, conversation_id: int, tags: list[str]) -> None:
    """Toggle a standard or known tag, or type a new one (Positive follows the tags)."""
    known = [*STANDARD, *sorted(set(all_tags(screen.ctx.db)) - set(STANDARD), key=str.lower)]
    choices = [(t, ("✓ " if t in tags else "  ") + t) for t in known] + [("+", "+ a new tag…")]

    def toggle(tag: str | None) -> None:
        if tag is None:
            return
        if tag == "+":
            screen.app.push_screen(PromptScreen("New tag", placeholder="e.g. Pricing question"),
                                   lambda t: t and apply([t], []))
        else:
            apply([], [tag]) if tag in tags else apply([tag], [])

    def apply(add: list[str], remove: list[str]) -> None:
        try:
            now_tags = set_tags(screen.ctx.db, conversation_id, add=add, remove=remove, now=screen.ctx.now(),
                                actor=screen.ctx.actor, by="hand")
        except (TagError, LookupError) as exc:
            screen.report(Text(f"Tags unchanged: {exc}", style="bold red"))
            return
        screen.report(joined(Text("Tags: "), literal(", ".join(now_tags) or "none", "italic"),
                             Text("  (Positive)" if is_positive(now_tags) else "", style="green")))
        screen.run_worker(screen.refresh_data())
    screen.app.push_screen(ChoiceScreen("Toggle a tag (✓ = on)", choices), toggle)


def open_lead(screen, row: ConversationRow) -> None:
    """The lead in its campaign: the campaign's audience searched for the lead's email or name."""
    if row.campaign_id is None:
        screen.report(Text("This conversation belongs to no campaign (it was deleted).", style="yellow"))
        return
    screen.app.open_campaign(row.campaign_id, tab="audience")
    view = screen.app.screen
    if hasattr(view, "apply_audience"):
        view.call_after_refresh(view.apply_audience, search=row.email or row.name)


class ReplyScreen(ModalScreen[str | None]):
    """Several lines of text; ctrl+s sends, Esc cancels (nothing is kept)."""

    BINDINGS = [Binding("escape", "cancel", "Cancel", id="reply.cancel"),
                Binding("ctrl+s", "send", "Send", id="reply.send", priority=True)]

    def __init__(self, title: str, draft: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.draft = draft

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Label(literal(self.title_text, "bold"), id="dialog-title")
            yield TextArea(self.draft, id="reply-text", soft_wrap=True, show_line_numbers=False)
            yield Label(Text("ctrl+s: send    esc: cancel", style="dim"))

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    def action_send(self) -> None:
        self.dismiss(self.query_one(TextArea).text)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ThreadScreen(Screen):
    """One conversation: its messages oldest first, the lead beside (wide) or above (narrow)."""

    BINDINGS = [
        Binding("r", "reply", "Reply", id="thread.reply", tooltip="Write a reply (sent by the runtime through the outbox)"),
        Binding("a", "suggest", "AI reply", id="thread.suggest",
                tooltip="Ask the AI for a suggested reply (copilot), opened in the reply editor to edit and send"),
        Binding("t", "tag", "Tag", id="thread.tag", tooltip="Add or remove a tag"),
        Binding("z", "unfold", "Quoted", id="thread.unfold", tooltip="Show or fold quoted history and signatures"),
        Binding("N", "mark(True)", "Mark unread", show=False, id="thread.unread"),
        Binding("u", "mark(False)", "Mark read", show=False, id="thread.read"),
        Binding("c", "lead", "Lead in campaign", show=False, id="thread.lead"),
        Binding("escape,q", "app.pop_screen", "Back", id="thread.back"),
        Binding("j", "scroll(1)", "Down", show=False, id="thread.down"),
        Binding("k", "scroll(-1)", "Up", show=False, id="thread.up"),
    ]

    def __init__(self, ctx, conversation_id: int) -> None:
        super().__init__()
        self.ctx = ctx
        self.conversation_id = conversation_id
        self.data: Thread | None = None
        self.notes: list[AgentNote] = []
        self.unfolded = False
        self.ai = AIAsk(self, self.report, self._suggested)

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="thread-head")
        with Horizontal(id="thread-body"):
            with VerticalScroll(id="thread-messages"):
                yield Static(id="thread-text")
            with VerticalScroll(id="thread-lead"):
                yield Static(id="thread-lead-text")
        yield Static(id="thread-report")
        yield BindingsFooter()

    async def on_mount(self) -> None:
        self.sub_title = "Conversation"
        self.query_one("#thread-messages").focus()
        set_unread(self.ctx.db, [self.conversation_id], False)  # opening it reads it
        await self.refresh_data()

    def on_resize(self) -> None:
        self.query_one("#thread-lead").display = self.size.width >= 110
        self._show()

    async def refresh_data(self) -> None:
        reader, cid = self.ctx.reader, self.conversation_id
        self.data, self.notes = await asyncio.to_thread(lambda: (thread(reader.db(), cid), notes(reader.db(), cid)))
        self._show()

    def report(self, text: Text | str) -> None:
        self.query_one("#thread-report", Static).update(text)

    def _show(self) -> None:
        if self.data is None or not self.is_mounted:
            return
        t, c = self.data, self.data.conversation
        wide = self.size.width >= 110
        head = joined(Text(f"{CHANNEL_ICON.get(c.channel, c.channel)}  ", style="bold"), literal(c.name, "bold"),
                      Text("  ·  "), literal(c.company or "—"), Text("  ·  "), literal(c.campaign or "no campaign"),
                      Text("  ·  tags: "), literal(", ".join(c.tags) or "none", "italic green" if is_positive(c.tags) else "italic"))
        self.query_one("#thread-head", Static).update(head)
        text = Text()
        for i, part in enumerate(self._messages(t)):
            if i:
                text.append("\n")
            text.append_text(part)
        self.query_one("#thread-text", Static).update(text)
        lead = Text(end="")
        for label, value in (("Lead", c.name), ("Title", t.job_title), ("Company", c.company), ("Email", c.email),
                             ("LinkedIn", t.linkedin_url), ("Campaign", c.campaign), ("Status", t.lead_status),
                             ("Identity", c.identity), ("Inbox", t.inbox), ("Tags", ", ".join(c.tags))):
            lead.append(f"{label}\n", style="dim")
            if label == "Status" and value:  # the spec's words, as the side panel shows them
                lead.append_text(lead_status(value, t.lead_substatus))
            else:
                lead.append_text(literal(value or "—"))
            lead.append("\n\n")
        pending = [r for r in reply_state(self.ctx.db, self.conversation_id) if r[1] in ("queued", "sending", "unknown")]
        wait = reply_wait(self.ctx.db, self.conversation_id) if pending else None
        if pending:
            lead.append(f"{len(pending)} reply(s) waiting to go out\n", style="yellow")
            if wait:
                lead.append(f"{wait.text()}\n", style="yellow")
        self.query_one("#thread-lead-text", Static).update(lead)
        if not wide and pending:  # the lead column is hidden: the head says it
            head.append(f"  ·  {len(pending)} reply(s) waiting to go out", style="yellow")
            if wait:
                head.append(f" — {wait.text()}", style="yellow")
            self.query_one("#thread-head", Static).update(head)

    def _messages(self, t: Thread) -> list[Text]:
        out: list[Text] = []
        for m in t.messages:
            who = t.conversation.name if m.direction == "in" else f"you ({t.conversation.identity})"
            line = joined(Text("↩ " if m.direction == "in" else "→ ", style="bold cyan" if m.direction == "in" else "bold"),
                          literal(who, "bold"), Text(f"  {short_time(m.at)}", style="dim"),
                          Text(f"  {m.kind.replace('_', ' ')}" if m.kind not in ("reply", "message") else "", style="dim"))
            out.append(line)
            if m.subject:
                out.append(joined(Text("Subject: ", style="dim"), literal(m.subject)))
            parts = fold(m.body)
            out.append(self._body(parts.text or "(no text)"))
            for label, hidden in (("signature", parts.signature), ("quoted history", parts.quoted)):
                if hidden and self.unfolded:
                    out.append(self._body(hidden, "dim"))
                elif hidden:
                    out.append(Text(f"  [{label}: {hidden.count(chr(10)) + 1} lines folded — z shows]", style="dim"))
            out.append(Text(""))
        for n in t.notices:
            out.append(joined(Text("ⓘ ", style="yellow"), Text(f"{short_time(n.at)}  {n.kind.replace('_', ' ')}: ",
                                                               style="yellow"), literal(n.subject)))
            if n.challenge_link:
                out.append(joined(Text("  verification link (not followed; open it yourself if you trust it): ",
                                       style="dim"), literal(n.challenge_link, "underline")))
        for note in self.notes:  # what the AI agent did with the lead's messages (failures included)
            style = "bold red" if note.state == "failed" else "magenta"
            out.append(joined(Text("✦ AI ", style=style), Text(f"{short_time(note.updated_at)}  ", style="dim"),
                              Text(clean(note.note or ""), style=style)))
        if not out:
            out.append(Text("No message in this conversation yet.", style="dim"))
        return out

    @staticmethod
    def _body(text: str, style: str = "") -> Text:
        """Outside text, wrapped: each line made literal (controls shown, never interpreted)."""
        body = Text(end="", style=style)
        for i, line in enumerate(text.split("\n")):
            if i:
                body.append("\n")
            body.append(clean(line))
        return body

    def action_scroll(self, delta: int) -> None:
        box = self.query_one("#thread-messages", VerticalScroll)
        box.scroll_relative(y=delta * 3, animate=False)

    def action_unfold(self) -> None:
        self.unfolded = not self.unfolded
        self._show()

    def action_reply(self) -> None:
        if self.data is not None:
            c = self.data.conversation
            compose_reply(self, c.id, c.name, c.channel)

    def action_tag(self) -> None:
        if self.data is not None:
            edit_tags(self, self.conversation_id, self.data.conversation.tags)

    def action_suggest(self) -> None:
        """Copilot: the runtime asks the AI (the app never does); the answer opens in the reply editor."""
        if self.data is not None:
            self.ai.start(lambda: request_suggestion(self.ctx.db, self.conversation_id, now=self.ctx.now(),
                                                     actor=self.ctx.actor))

    def _suggested(self, text: str) -> None:
        if self.data is not None and self.is_current:
            c = self.data.conversation
            self.report(Text("The AI's suggestion is in the editor: change what you like, ctrl+s sends it, esc drops it.",
                             style="green"))
            compose_reply(self, c.id, c.name, c.channel, draft=text)

    async def action_mark(self, unread: bool) -> None:
        set_unread(self.ctx.db, [self.conversation_id], unread)
        self.report("Marked unread." if unread else "Marked read.")

    def action_lead(self) -> None:
        if self.data is not None:
            open_lead(self, self.data.conversation)
