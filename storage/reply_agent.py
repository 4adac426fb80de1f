"""The AI agent's records after a reply: each lead's message it looked at, and what the app asked of it.

Automatic answers (a campaign whose reply handling is `auto`): the runtime
collects the lead's new messages from a cursor into `agent_replies` (one row a
message, `pending`), asks the AI outside any transaction, and `queue_answer`
queues the answer through storage/replies.py — the outbox, the caps, working
hours — in the same transaction that moves the row to `answered`. A crash
before that commit leaves the row `pending` (asked again, sent once); after it,
the outbox row exists and the key `reply:{conversation}:ai-{message}` stops any
second one. A message the agent must not answer, or could not, keeps why in
`note`: the conversation's note in the thread view and `conversations show`.

Requests (`ai_requests`): the app cannot call the AI, so a copilot suggestion
for a conversation, or a wizard's "simulate a reply as the lead", is a row the
runtime answers (`asked` → `ready` with the text, or `failed` with the error).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec
import sqlite_utils

from sequences.preview import preview
from sequences.render import PREVIEW_LEAD, LeadData
from storage.activity import iso
from storage.campaigns import sequence_of, settings_of
from storage.db import joined_transaction, transaction
from storage.replies import ReplyError, queue_reply
from storage.runtime_state import get_state, set_state

CURSOR = "agent_message_cursor"
BATCH = 200
MAX_ATTEMPTS = 3  # an AI that keeps failing: the note says so, the user answers by hand
RETRY_AFTER = timedelta(minutes=5)


class AgentNote(msgspec.Struct, kw_only=True):
    message_id: int
    state: str  # pending | answered | skipped | failed | done (nothing to answer)
    note: str | None
    outbox_key: str | None
    updated_at: str


class Work(msgspec.Struct, kw_only=True):
    """A lead's message waiting for the agent: tag it (when an AI is configured), maybe answer it."""

    message_id: int
    conversation_id: int
    attempts: int
    reply_handling: str  # the campaign's, now
    has_prompt: bool
    campaign_status: str | None  # None: the campaign is gone


class LeadFacts(msgspec.Struct, kw_only=True):
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    job_title: str = ""
    email: str | None = None
    custom: dict[str, str] = msgspec.field(default_factory=dict)


class Turn(msgspec.Struct, kw_only=True):
    direction: str  # in (the lead) | out (us)
    text: str
    subject: str | None = None


class ReplyContext(msgspec.Struct, kw_only=True):
    """What the AI is told to answer a lead: who, through what, the campaign's prompt, the thread."""

    channel: str
    identity: str
    campaign: str | None
    prompt: str
    lead: LeadFacts
    turns: list[Turn]


# --- collecting the lead's messages ------------------------------------------------------


def collect(db: sqlite_utils.Database, now: datetime) -> int:
    """File the lead's messages recorded since the cursor as `pending` work (human replies only:
    an out-of-office notice is no reply, spec FAQ Q3); moves the cursor in the same commit."""
    cursor = int(get_state(db, CURSOR) or 0)
    if db.execute("SELECT 1 FROM messages WHERE id > ? LIMIT 1", [cursor]).fetchone() is None:
        return 0  # the usual case, read without a write lock
    with transaction(db):
        cursor = int(get_state(db, CURSOR) or 0)
        rows = db.execute("SELECT id, conversation_id, direction, kind FROM messages WHERE id > ? ORDER BY id LIMIT ?",
                          [cursor, BATCH]).fetchall()
        added = 0
        for mid, conv, direction, kind in rows:
            if direction == "in" and kind == "reply":
                added += db.execute(
                    "INSERT OR IGNORE INTO agent_replies (message_id, conversation_id, state, created_at, updated_at)"
                    " VALUES (?, ?, 'pending', ?, ?)", [mid, conv, iso(now), iso(now)]).rowcount
        if rows:
            set_state(db, CURSOR, str(rows[-1][0]))
        return added + (collect(db, now) if len(rows) == BATCH else 0)


def due_work(db: sqlite_utils.Database, now: datetime, limit: int = 50) -> list[Work]:
    """Pending messages whose retry time has come, oldest first, with their campaign's reply handling."""
    out = []
    for mid, conv, attempts, settings, status in db.execute(
            "SELECT a.message_id, a.conversation_id, a.attempts, c.settings, c.status FROM agent_replies a"
            " INDEXED BY agent_replies_pending"
            " JOIN conversations cv ON cv.id = a.conversation_id LEFT JOIN campaigns c ON c.id = cv.campaign_id"
            " WHERE a.state = 'pending' AND (a.next_at IS NULL OR a.next_at <= ?) ORDER BY a.message_id LIMIT ?",
            [iso(now), limit]).fetchall():
        s = settings_of({"settings": settings}) if settings else None
        out.append(Work(message_id=mid, conversation_id=conv, attempts=attempts,
                        reply_handling=s.reply_handling if s else "manual", has_prompt=bool(s and s.ai_prompt.strip()),
                        campaign_status=status))
    return out


def settle(db: sqlite_utils.Database, message_id: int, state: str, note: str | None, *, now: datetime) -> None:
    """The agent is done with this message: skipped (why), failed (why), or done (nothing to answer)."""
    with joined_transaction(db):
        db.execute("UPDATE agent_replies SET state = ?, note = ?, next_at = NULL, updated_at = ? WHERE message_id = ?",
                   [state, note, iso(now), message_id])


def failed_attempt(db: sqlite_utils.Database, work: Work, error: str, *, retryable: bool, now: datetime) -> str:
    """An AI error: tried again later while it may help (up to MAX_ATTEMPTS), else the message's note says
    it failed. Returns the new state."""
    attempts = work.attempts + 1
    with transaction(db):
        if retryable and attempts < MAX_ATTEMPTS:
            db.execute("UPDATE agent_replies SET attempts = ?, next_at = ?, note = ?, updated_at = ? WHERE message_id = ?",
                       [attempts, iso(now + RETRY_AFTER * attempts), f"AI error, trying again: {error}", iso(now),
                        work.message_id])
            return "pending"
        db.execute("UPDATE agent_replies SET state = 'failed', attempts = ?, next_at = NULL, note = ?, updated_at = ?"
                   " WHERE message_id = ?", [attempts, f"AI reply failed: {error} — answer by hand (r)", iso(now),
                                             work.message_id])
        return "failed"


def lead_message(db: sqlite_utils.Database, message_id: int) -> tuple[str, str, list[str]]:
    """(body, subject, the conversation's tags now) of a lead's message."""
    body, subject, tags = db.execute("SELECT m.body, coalesce(m.subject, ''), cv.tags FROM messages m JOIN conversations cv"
                                     " ON cv.id = m.conversation_id WHERE m.id = ?", [message_id]).fetchone()
    return body or "", subject, msgspec.json.decode(tags)


def next_retry(db: sqlite_utils.Database) -> datetime | None:
    """When the earliest pending message waiting to be tried again is due."""
    row = db.execute("SELECT min(next_at) FROM agent_replies INDEXED BY agent_replies_pending"
                     " WHERE state = 'pending'").fetchone()
    return datetime.fromisoformat(row[0]) if row and row[0] else None


def why_not_answer(db: sqlite_utils.Database, message_id: int) -> str | None:
    """Why this message may no longer be answered automatically (a later message of the lead, or a reply
    already sent or queued after it), or None."""
    conv, at = db.execute("SELECT conversation_id, at FROM messages WHERE id = ?", [message_id]).fetchone()
    later = db.execute("SELECT direction FROM messages WHERE conversation_id = ? AND (at, id) > (?, ?)"
                       " ORDER BY at DESC, id DESC LIMIT 1", [conv, at, message_id]).fetchone()
    if later is not None:
        return "the lead wrote again since" if later[0] == "in" else "answered since"
    queued = db.execute("SELECT 1 FROM outbox WHERE key LIKE ? AND state IN ('queued', 'claimed', 'sending', 'unknown')"
                        " AND created_at >= ? LIMIT 1", [f"reply:{conv}:%", at]).fetchone()
    return "a reply by hand is queued" if queued else None


def queue_answer(db: sqlite_utils.Database, message_id: int, text: str, *, now: datetime) -> str | None:
    """Queue the AI's answer to this message and mark it answered, in one transaction. Returns the
    outbox key, or None when the message was settled meanwhile (or may no longer be answered: noted)."""
    with transaction(db):
        row = db.execute("SELECT conversation_id, state FROM agent_replies WHERE message_id = ?", [message_id]).fetchone()
        if row is None or row[1] != "pending":
            return None
        why = why_not_answer(db, message_id)
        if why is not None:
            settle(db, message_id, "skipped", f"not answered automatically: {why}", now=now)
            return None
        try:
            queued = queue_reply(db, row[0], text, now=now, answering=message_id)
        except ReplyError as exc:
            settle(db, message_id, "failed", f"AI reply not queued: {exc}", now=now)
            return None
        db.execute("UPDATE agent_replies SET state = 'answered', outbox_key = ?, note = ?, updated_at = ?"
                   " WHERE message_id = ?", [queued.key, "answered automatically by the AI", iso(now), message_id])
        return queued.key


def notes(db: sqlite_utils.Database, conversation_id: int) -> list[AgentNote]:
    """What the agent did with the conversation's messages, oldest first (the thread view's notes)."""
    return [AgentNote(message_id=r[0], state=r[1], note=r[2], outbox_key=r[3], updated_at=r[4]) for r in db.execute(
        "SELECT message_id, state, note, outbox_key, updated_at FROM agent_replies WHERE conversation_id = ?"
        " AND note IS NOT NULL ORDER BY message_id", [conversation_id]).fetchall()]


# --- what the AI is told --------------------------------------------------------------------


def _lead(db: sqlite_utils.Database, contact_id: int) -> LeadFacts:
    row = db.execute("SELECT first_name, last_name, company, job_title, email, custom FROM contacts WHERE id = ?",
                     [contact_id]).fetchone()
    if row is None:
        return LeadFacts()
    return LeadFacts(first_name=row[0] or "", last_name=row[1] or "", company=row[2] or "", job_title=row[3] or "",
                     email=row[4], custom=msgspec.json.decode(row[5] or "{}"))


def reply_context(db: sqlite_utils.Database, conversation_id: int, *, up_to: int | None = None) -> ReplyContext | None:
    """The conversation as the AI sees it (its messages up to message `up_to` when given)."""
    row = db.execute(
        "SELECT cv.channel, i.name, c.name, c.settings, cv.contact_id FROM conversations cv JOIN identities i"
        " ON i.id = cv.identity_id LEFT JOIN campaigns c ON c.id = cv.campaign_id WHERE cv.id = ?",
        [conversation_id]).fetchone()
    if row is None:
        return None
    channel, identity, campaign, settings, contact_id = row
    turns = [Turn(direction=d, text=b or "", subject=s) for d, b, s in db.execute(
        "SELECT direction, body, subject FROM messages WHERE conversation_id = ? AND (? IS NULL OR id <= ?)"
        " ORDER BY at, id", [conversation_id, up_to, up_to]).fetchall()]
    prompt = settings_of({"settings": settings}).ai_prompt if settings else ""
    return ReplyContext(channel=channel, identity=identity, campaign=campaign, prompt=prompt,
                        lead=_lead(db, contact_id), turns=turns)


def sample_lead(db: sqlite_utils.Database, campaign_id: int) -> int | None:
    """The contact the wizard's preview shows: the campaign's first lead (None with no audience yet)."""
    row = db.execute("SELECT contact_id FROM enrollments WHERE campaign_id = ? ORDER BY id LIMIT 1",
                     [campaign_id]).fetchone()
    return row[0] if row else None


MESSAGE_STEPS = ("connection_request", "linkedin_message", "inmail", "linkedin_attachment", "email")
PREVIEW_TURNS = 4


def preview_turns(db: sqlite_utils.Database, campaign_id: int, contact_id: int | None) -> list[Turn]:
    """The first messages the sequence sends the sample lead (first branch of each condition), as the
    lead gets them (sequences/preview.py renders with the step function's own code); a step that would
    stop the lead says why instead."""
    row = db.execute("SELECT sequence FROM campaigns WHERE id = ?", [campaign_id]).fetchone()
    if row is None:
        return []
    lead = PREVIEW_LEAD
    if contact_id is not None:
        f = _lead(db, contact_id)
        lead = LeadData(first_name=f.first_name, last_name=f.last_name, company=f.company, job_title=f.job_title,
                        email=f.email or "", custom=f.custom)
    turns: list[Turn] = []
    for step in preview(sequence_of({"sequence": row[0]}), lead):
        if step.kind not in MESSAGE_STEPS or any(b.endswith(": no") for b in step.branch):
            continue
        if step.payload is None:
            turns.append(Turn(direction="out", text=f"({step.label}: would stop this lead — {step.detail or step.error})"))
        else:
            p = step.payload
            text = p.note if step.kind == "connection_request" else "\n\n".join(p.chunks) if p.chunks else p.text
            if text.strip():
                turns.append(Turn(direction="out", text=text,
                                  subject=(p.subject or None) if step.kind in ("email", "inmail") else None))
        if len(turns) >= PREVIEW_TURNS:
            break
    return turns


def simulation_context(db: sqlite_utils.Database, request: "AIRequest") -> ReplyContext:
    """A conversation that has not happened: the sequence's first messages to the sample lead, then the
    reply the user typed as the lead (the wizard's simulation; its prompt as typed, maybe not saved)."""
    row = db.execute("SELECT c.name, i.name FROM campaigns c JOIN identities i ON i.id = c.identity_id"
                     " WHERE c.id = ?", [request.campaign_id]).fetchone()
    campaign, identity = (row[0], row[1]) if row else (None, "you")
    sent = preview_turns(db, request.campaign_id, request.contact_id) if request.campaign_id else []
    channel = "email" if any(t.subject for t in sent) else "linkedin"
    return ReplyContext(channel=channel, identity=identity, campaign=campaign, prompt=request.prompt or "",
                        lead=_lead(db, request.contact_id) if request.contact_id else LeadFacts(first_name="Alex"),
                        turns=[*sent, Turn(direction="in", text=request.lead_text or "")])


# --- the app's requests ------------------------------------------------------------------------


class AIRequest(msgspec.Struct, kw_only=True):
    id: int
    kind: str  # suggest | simulate
    conversation_id: int | None
    campaign_id: int | None
    contact_id: int | None
    prompt: str | None
    lead_text: str | None
    state: str  # asked | ready | failed
    text: str | None
    error: str | None
    requested_at: str
    answered_at: str | None


_REQUEST = ("SELECT id, kind, conversation_id, campaign_id, contact_id, prompt, lead_text, state, text, error,"
            " requested_at, answered_at FROM ai_requests")


def _request(r) -> AIRequest:
    return AIRequest(id=r[0], kind=r[1], conversation_id=r[2], campaign_id=r[3], contact_id=r[4], prompt=r[5],
                     lead_text=r[6], state=r[7], text=r[8], error=r[9], requested_at=r[10], answered_at=r[11])


def request_suggestion(db: sqlite_utils.Database, conversation_id: int, *, now: datetime, actor: str) -> int:
    """Ask the runtime for a suggested reply in this conversation (copilot); the request's id."""
    with transaction(db):
        if db.execute("SELECT 1 FROM conversations WHERE id = ?", [conversation_id]).fetchone() is None:
            raise LookupError(f"no conversation {conversation_id}")
        return db.execute("INSERT INTO ai_requests (kind, conversation_id, state, actor, requested_at)"
                          " VALUES ('suggest', ?, 'asked', ?, ?)", [conversation_id, actor, iso(now)]).lastrowid


def request_simulation(db: sqlite_utils.Database, campaign_id: int, *, contact_id: int | None, prompt: str,
                       lead_text: str, now: datetime, actor: str) -> int:
    """Ask the runtime what the AI would answer `lead_text` under `prompt` (the wizard's simulation)."""
    if not lead_text.strip():
        raise ValueError("type the lead's reply first")
    with transaction(db):
        return db.execute(
            "INSERT INTO ai_requests (kind, campaign_id, contact_id, prompt, lead_text, state, actor, requested_at)"
            " VALUES ('simulate', ?, ?, ?, ?, 'asked', ?, ?)",
            [campaign_id, contact_id, prompt, lead_text.strip(), actor, iso(now)]).lastrowid


def asked(db: sqlite_utils.Database) -> list[AIRequest]:
    return [_request(r) for r in db.execute(_REQUEST + " INDEXED BY ai_requests_asked WHERE state = 'asked'"
                                            " ORDER BY id").fetchall()]


def get_request(db: sqlite_utils.Database, request_id: int) -> AIRequest | None:
    r = db.execute(_REQUEST + " WHERE id = ?", [request_id]).fetchone()
    return _request(r) if r else None


def request_progress(db: sqlite_utils.Database, request_id: int, text: str) -> None:
    """The answer so far (a streamed one), shown by the app while the request is still asked."""
    with transaction(db):
        db.execute("UPDATE ai_requests SET text = ? WHERE id = ? AND state = 'asked'", [text, request_id])


def answer_request(db: sqlite_utils.Database, request_id: int, *, now: datetime, text: str | None = None,
                   error: str | None = None) -> None:
    with transaction(db):
        db.execute("UPDATE ai_requests SET state = ?, text = ?, error = ?, answered_at = ? WHERE id = ? AND state = 'asked'",
                   ["ready" if error is None else "failed", text, error, iso(now), request_id])
