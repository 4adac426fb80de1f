"""The AI Agent step's preview (spec "Step 3 — AI Agent: Preview"): a conversation with a sample lead.

It shows the sequence's first messages as the campaign's first lead would get
them (storage/reply_agent.py `preview_turns`, rendered by the step function's
own code), and lets the user type a reply as that lead to see what the AI
would answer under the prompt as typed now (saved or not). The app does not
call the AI: the runtime answers the request (tui/screens/ai_ask.py).
"""

from __future__ import annotations

from typing import Callable

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Static

from storage.contacts import get_contact
from storage.reply_agent import Turn, preview_turns, request_simulation, sample_lead
from tui.screens.ai_ask import AIAsk
from tui.text import clean


def conversation_text(turns: list[Turn], lead_name: str, identity: str) -> Text:
    """The turns as a chat: ours with →, the lead's with ↩, the AI's answer last; outside text made literal."""
    text = Text(end="")
    for i, turn in enumerate(turns):
        if i:
            text.append("\n")
        if turn.direction == "out":
            text.append("→ ", style="bold")
            text.append(clean(identity), style="bold")
        elif turn.direction == "in":
            text.append("↩ ", style="bold cyan")
            text.append(clean(lead_name), style="bold cyan")
        else:
            text.append("✦ AI would answer", style="bold magenta")
        if turn.subject:
            text.append(f"  ({clean(turn.subject)})", style="dim")
        text.append("\n")
        for line in turn.text.strip().split("\n"):  # each line made literal (controls shown, never run)
            text.append(clean(line) + "\n", style="magenta" if turn.direction == "ai" else "")
    return text


class AgentPreview(Vertical):
    """The sample lead's conversation, and 'simulate a reply as the lead'."""

    DEFAULT_CSS = "AgentPreview { height: auto; } AgentPreview Static { height: auto; }"

    def __init__(self, prompt: Callable[[], str], **kwargs) -> None:
        super().__init__(**kwargs)
        self.prompt = prompt  # the prompt as typed in the step, saved or not
        self.row: dict | None = None
        self.contact_id: int | None = None
        self.lead_name, self.identity = "Alex Morgan (sample)", "you"
        self.turns: list[Turn] = []
        self.ai = AIAsk(self, self.say, self._answered)

    def compose(self) -> ComposeResult:
        yield Label(Text("Preview: the conversation with a sample lead", style="bold"), id="agent-preview-title")
        yield Static(id="agent-preview")
        yield Input(placeholder="Type a reply as the lead, Enter: what would the AI answer?", id="agent-simulate")
        yield Static(id="agent-simulate-status")

    def say(self, text: Text | str) -> None:
        self.query_one("#agent-simulate-status", Static).update(text)

    def show(self, row: dict | None, identity: str) -> None:
        """The campaign's first lead (or the sample lead when it has no audience yet) and its messages."""
        self.row, self.identity = row, identity
        db = self.screen.ctx.db
        self.contact_id = sample_lead(db, row["id"]) if row else None
        contact = get_contact(db, self.contact_id) if self.contact_id else None
        self.lead_name = (f"{contact.first_name} {contact.last_name}".strip() or contact.email or "the lead") if contact \
            else "Alex Morgan (sample)"
        self.turns = preview_turns(db, row["id"], self.contact_id) if row else []
        self._draw()

    def _draw(self) -> None:
        head = Text(f"Sample lead: {clean(self.lead_name)}\n", style="dim")
        if not self.turns:
            head.append("The sequence sends no message yet: the AI answers the lead's reply to whatever it sends.\n",
                        style="dim")
        self.query_one("#agent-preview", Static).update(head + conversation_text(self.turns, self.lead_name,
                                                                                 self.identity))

    @on(Input.Submitted, "#agent-simulate")
    def _simulate(self, event: Input.Submitted) -> None:
        event.stop()
        reply = event.value.strip()
        if not reply:
            self.say(Text("Type what the lead would answer first.", style="yellow"))
            return
        if self.row is None:
            self.say(Text("Choose the identity in step 1 first: the campaign is saved then.", style="yellow"))
            return
        ctx = self.screen.ctx
        self.turns = [t for t in self.turns if t.direction == "out"] + [Turn(direction="in", text=reply)]
        self._draw()
        self.query_one("#agent-simulate-status").scroll_visible()
        self.ai.start(lambda: request_simulation(ctx.db, self.row["id"], contact_id=self.contact_id,
                                                 prompt=self.prompt(), lead_text=reply, now=ctx.now(), actor=ctx.actor),
                      what="its answer")

    def _answered(self, text: str) -> None:
        self.turns.append(Turn(direction="ai", text=text))
        self._draw()
        self.say(Text("That is what the AI would answer now; change the prompt and try again.", style="green"))
        self.query_one("#agent-simulate-status").scroll_visible()
