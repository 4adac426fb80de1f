"""`enginy conversations`: the inbox for scripts — list, show a thread, reply, tag, an AI suggestion.

The same storage calls as the app's Inbox screen: `list` filters as it does,
`show` prints a thread with quoted history and signatures folded (`--full`
keeps them), `reply` queues the reply as an outbox row that the runtime sends
under the identity's caps (it says so: nothing goes out from here), `tag`
adds and removes tags, and Positive follows them.
"""

from __future__ import annotations

from typing import List, Optional

import msgspec
import typer

from cli.output import UserError, emit
from cli.workspace import open_ws, wall_time
from sequences.inert import REPLACEMENT

app = typer.Typer(help="Conversations across LinkedIn and email: list, show a thread, reply by hand, tag.",
                  no_args_is_help=True, rich_markup_mode=None)

_JSON = typer.Option(False, "--json", help="Print the result as JSON.")
_ID = typer.Argument(..., help="The conversation's id (from `enginy conversations list`).")


def _one_line(text: str, width: int) -> str:
    from sequences.mail_text import fold

    return " ".join(fold(text).text.split())[:width]


@app.command("list")
def list_conversations(
    ctx: typer.Context,
    campaign: Optional[int] = typer.Option(None, "--campaign", help="Only this campaign's (id)."),
    identity: Optional[int] = typer.Option(None, "--identity", help="Only this identity's (id)."),
    channel: Optional[str] = typer.Option(None, "--channel", help="email or linkedin."),
    tag: Optional[str] = typer.Option(None, "--tag", help="Only conversations with this tag (e.g. Interested)."),
    contact: Optional[int] = typer.Option(None, "--contact", help="Only this contact's (id)."),
    unread: bool = typer.Option(False, "--unread", help="Only unread conversations."),
    search: str = typer.Option("", "--search", help="Text in the lead's name, email, company or a message."),
    limit: int = typer.Option(50, "--limit", min=1, max=5000, help="How many, newest first."),
    after: Optional[str] = typer.Option(None, "--after", help="Continue after this key (the last page's next_after)."),
    json_out: bool = _JSON,
) -> None:
    """Conversations newest first, filtered as the app's Inbox filters them; paged by key
    (`--after` the previous page's next_after; null: the last page)."""
    from storage.conversation_view import InboxFilter, conversations

    if channel not in (None, "email", "linkedin"):
        raise UserError(f"--channel {channel!r}: use email or linkedin")
    key = None
    if after is not None:
        when, _, conversation_id = after.rpartition("/")
        if not when or not conversation_id.isdigit():
            raise UserError(f"--after {after!r}: give the next_after of the page before (TIME/ID)")
        key = (when, int(conversation_id))
    db = open_ws(ctx).open_db()
    rows = conversations(db, InboxFilter(campaign_id=campaign, identity_id=identity, channel=channel, tag=tag,
                                         contact_id=contact, unread=unread, search=search), limit=limit + 1, after=key)
    more, rows = len(rows) > limit, rows[:limit]
    human = "\n".join(
        f"{r.id:>6} {'*' if r.unread else ' '} {r.channel:<8} {r.name[:24]:<24} {r.updated_at[:16]}  "
        f"{(r.campaign or '-')[:20]:<20} {_one_line(r.last_text, 40)}" + (f"  [{', '.join(r.tags)}]" if r.tags else "")
        for r in rows) or "(no conversation matches)"
    next_after = f"{rows[-1].updated_at}/{rows[-1].id}" if more else None
    if more:
        human += f"\n(more: --after {next_after})"
    emit({"conversations": [msgspec.to_builtins(r) for r in rows], "next_after": next_after}, json_out, human=human)


@app.command("show")
def show(ctx: typer.Context, conversation: int = _ID,
         full: bool = typer.Option(False, "--full", help="Keep quoted history and signatures."),
         keep_unread: bool = typer.Option(False, "--keep-unread", help="Do not mark the conversation read."),
         json_out: bool = _JSON) -> None:
    """A thread: every message in and out, oldest first, with the lead and its campaign."""
    from sequences.mail_text import fold
    from storage.conversation_view import thread
    from storage.conversations import set_unread
    from sequences.statuses import status_words
    from storage.replies import reply_wait
    from storage.reply_agent import notes

    db = open_ws(ctx).open_db()
    t = thread(db, conversation)
    if t is None:
        raise UserError(f"no conversation {conversation}: see `enginy conversations list`")
    if not keep_unread:
        set_unread(db, [conversation], False)
    c = t.conversation
    lines = [f"{c.name} <{c.email or '-'}> · {c.company or '-'} · {c.channel} · campaign {c.campaign or '-'}"
             f" · lead {status_words(t.lead_status, t.lead_substatus)} · tags: {', '.join(c.tags) or 'none'}", ""]
    for m in t.messages:
        parts = fold(m.body)
        who = c.name if m.direction == "in" else f"you ({c.identity})"
        lines.append(f"{'<-' if m.direction == 'in' else '->'} {who}  {m.at[:16]}  {m.kind}")
        if m.subject:
            lines.append(f"Subject: {m.subject}")
        lines.append(m.body if full else parts.text)
        if not full and (parts.quoted or parts.signature):
            lines.append("  [quoted history / signature folded: --full shows them]")
        lines.append("")
    for n in t.notices:
        lines.append(f"(i) {n.at[:16]} {n.kind}: {n.subject}" +
                     (f"\n    verification link (not followed): {n.challenge_link}" if n.challenge_link else ""))
    agent_notes = notes(db, conversation)
    lines += [f"(AI) {n.updated_at[:16]} {n.note}" for n in agent_notes]
    wait = reply_wait(db, conversation)
    if wait:
        lines.append(f"A reply waits to go out: {wait.text()}")
    out = msgspec.to_builtins(t) | {"reply_wait": wait.json() if wait else None,
                                    "agent_notes": [msgspec.to_builtins(n) for n in agent_notes]}
    if not full:
        for m in out["messages"]:
            parts = fold(m["body"])
            m |= {"text": parts.text, "signature": parts.signature, "quoted": parts.quoted}
    human = "\n".join(lines)
    emit(out, json_out, human=_printable(human))


@app.command("reply")
def reply(ctx: typer.Context, conversation: int = _ID,
          text: Optional[str] = typer.Option(None, "--text", help="The reply; else read from standard input."),
          json_out: bool = _JSON) -> None:
    """Queue a reply by hand: the runtime sends it through the conversation's identity, channel and inbox,
    threaded (In-Reply-To, References), under the same caps as campaign sends."""
    import sys

    from storage.replies import ReplyError, queue_reply, reply_wait

    body = text if text is not None else sys.stdin.read()
    db = open_ws(ctx).open_db()
    try:
        queued = queue_reply(db, conversation, body, now=wall_time())
    except ReplyError as exc:
        raise UserError(str(exc)) from None
    wait = reply_wait(db, conversation)
    emit(msgspec.to_builtins(queued) | {"state": "queued", "wait": wait.json() if wait else None}, json_out,
         human=f"Reply queued ({queued.key}): the runtime sends it under the identity's caps and working hours;"
               " `enginy queue` shows its place, `enginy conversations show` its thread."
               + (f"\nIt waits: {wait.text()}" if wait else ""))


@app.command("tag")
def tag(ctx: typer.Context, conversation: int = _ID,
        tags: List[str] = typer.Argument(None, help="Tags to add (standard: Interested, Not interested, Bad timing, "
                                                    "Meeting booked, Out of office, Wrong person, Unsubscribe)."),
        remove: List[str] = typer.Option([], "--remove", "-r", help="A tag to take off (repeatable)."),
        json_out: bool = _JSON) -> None:
    """Add and remove tags; Positive (Interested, Meeting booked) updates the campaign's Positive figures."""
    from sequences.conversation_tags import TagError, is_positive
    from storage.conversations import set_tags

    if not tags and not remove:
        raise UserError("give tags to add, or --remove TAG")
    ws = open_ws(ctx)
    db = ws.open_db()
    try:
        now_tags = set_tags(db, conversation, add=tags or [], remove=remove, now=wall_time(), actor=ws.config.user, by="hand")
    except TagError as exc:
        raise UserError(str(exc)) from None
    except LookupError:
        raise UserError(f"no conversation {conversation}: see `enginy conversations list`") from None
    emit({"conversation": conversation, "tags": now_tags, "positive": is_positive(now_tags)}, json_out,
         human=f"Conversation {conversation} tags: {', '.join(now_tags) or '(none)'}"
               + ("  (Positive)" if is_positive(now_tags) else ""))


@app.command("suggest")
def suggest(ctx: typer.Context, conversation: int = _ID, json_out: bool = _JSON) -> None:
    """Ask the AI for a suggested reply (copilot) from the thread, the lead and the campaign's prompt.
    Nothing is sent: edit it and pass it to `enginy conversations reply ID --text …`. Needs [ai] in
    enginy.toml (`enginy ai check`)."""
    from runtime.ai.agent import suggest_now
    from runtime.ai.client import AIError
    from runtime.secrets import SecretsError

    ws = open_ws(ctx)
    db = ws.open_db()
    try:
        text = suggest_now(ws, db, conversation)
    except LookupError:
        raise UserError(f"no conversation {conversation}: see `enginy conversations list`") from None
    except (AIError, SecretsError) as exc:
        raise UserError(f"no suggestion: {exc}") from None
    emit({"conversation": conversation, "suggestion": text}, json_out,
         human=_printable(text))


def _printable(text: str) -> str:
    """Message text for the terminal: beyond what `emit` makes inert (controls), every other character
    that does not print (line and paragraph separators, format characters) shows as '\N{REPLACEMENT CHARACTER}'."""
    return "".join(ch if ch in "\n\t" or ch.isprintable() else REPLACEMENT for ch in text)
