"""A reply by hand: written by the user as an outbox row the runtime sends like any other.

The app and the CLI never call a driver: `queue_reply` writes a `queued`
outbox row on the conversation's identity, channel and inbox (the lead's
enrollment in the conversation's campaign), marked `manual` in its payload
and with no sequence node. The runtime's identity actor picks it up
(`pending_replies`), claims it through the same ledger and caps as a campaign
send (bucket `email` on the inbox, `message` on LinkedIn) and records it in
the conversation; a manual reply never steps the lead (its sequence stopped
when the lead replied, spec FAQ Q1). An email reply threads under the lead's
latest message: In-Reply-To is its Message-ID and References the thread's.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

import msgspec
import sqlite_utils

from sequences.limits import MESSAGE_MAX_CHARS
from sequences.model import BUCKET
from sequences.statuses import Substatus, Wait, explain
from storage.db import joined_transaction
from storage.outbox import PENDING_INDEX_TERM, insert_job

ACTION = {"email": "email", "linkedin": "linkedin_message"}
REPLY_SORT_KEY = -1  # ahead of every campaign job of its lane (sort keys are >= 0)


class ReplyError(ValueError):
    pass


class QueuedReply(msgspec.Struct, kw_only=True):
    outbox_id: int
    key: str
    channel: str
    identity_id: int
    inbox_id: int | None
    subject: str | None
    in_reply_to: str | None


def _subject(subject: str | None) -> str:
    subject = " ".join((subject or "").split())
    return subject if subject.lower().startswith("re:") else f"Re: {subject}" if subject else "Re:"


def queue_reply(db: sqlite_utils.Database, conversation_id: int, text: str, *, now: datetime,
                answering: int | None = None) -> QueuedReply:
    """Queue the user's reply in this conversation. Raises ReplyError with a one-line reason.

    `answering`: the id of the lead's message the AI agent answers automatically
    (storage/reply_agent.py); its key is then fixed by that message, so a second try
    of the same answer finds the row already there (ReplyError) and never sends twice."""
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise ReplyError("the reply is empty")
    with joined_transaction(db):
        row = db.execute(
            "SELECT cv.channel, cv.identity_id, coalesce(cv.inbox_id, e.inbox_id, (SELECT o.inbox_id FROM outbox o"
            " WHERE o.enrollment_id = e.id AND o.channel = 'email' AND o.inbox_id IS NOT NULL ORDER BY o.id DESC LIMIT 1)),"
            " cv.campaign_id, e.id, k.email"
            " FROM conversations cv JOIN contacts k ON k.id = cv.contact_id LEFT JOIN enrollments e"
            " ON e.campaign_id = cv.campaign_id AND e.contact_id = cv.contact_id WHERE cv.id = ?",
            [conversation_id]).fetchone()
        if row is None:
            raise ReplyError(f"no conversation {conversation_id}")
        channel, identity_id, inbox_id, campaign_id, enrollment_id, address = row
        if enrollment_id is None:
            raise ReplyError("the conversation's lead is no longer in its campaign")
        if channel == "email" and (inbox_id is None or not address):
            raise ReplyError("no inbox or no address to reply with")
        if channel == "linkedin" and len(text) > MESSAGE_MAX_CHARS:
            raise ReplyError(f"a LinkedIn message is at most {MESSAGE_MAX_CHARS} characters")
        ids = [m for (m,) in db.execute("SELECT message_id FROM messages WHERE conversation_id = ? AND message_id IS NOT NULL"
                                        " AND message_id LIKE '<%@%>' ORDER BY at, id", [conversation_id])]
        last_in = db.execute("SELECT subject, message_id FROM messages WHERE conversation_id = ? AND direction = 'in'"
                             " ORDER BY at DESC, id DESC LIMIT 1", [conversation_id]).fetchone()
        last_subject = db.execute("SELECT subject FROM messages WHERE conversation_id = ? AND subject IS NOT NULL"
                                  " ORDER BY at DESC, id DESC LIMIT 1", [conversation_id]).fetchone()
        parent = (last_in[1] if last_in and last_in[1] else None) or (ids[-1] if ids else None)
        subject = _subject((last_in[0] if last_in and last_in[0] else None) or (last_subject[0] if last_subject else ""))
        payload = {"manual": True, "conversation": conversation_id, "text": text}
        if answering is not None:
            payload["by"] = "ai"
        if channel == "email":
            payload |= {"subject": subject, "in_reply_to": parent, "references": ids[-20:]}
        else:
            payload |= {"chunks": [text]}  # one LinkedIn message (what a campaign message step sends as chunks)
        key = f"reply:{conversation_id}:" + (f"ai-{answering}" if answering is not None else secrets.token_hex(6))
        outbox_id = insert_job(db, key=key, enrollment_id=enrollment_id, campaign_id=campaign_id,
                               identity_id=identity_id, inbox_id=inbox_id if channel == "email" else None,
                               node_id=None, channel=channel, action=ACTION[channel], bucket=BUCKET[ACTION[channel]],
                               payload=msgspec.json.encode(payload), sort_key=REPLY_SORT_KEY, now=now)
        if outbox_id is None:
            raise ReplyError(f"message {answering} has an answer queued already")
        return QueuedReply(outbox_id=outbox_id, key=key, channel=channel, identity_id=identity_id,
                           inbox_id=inbox_id if channel == "email" else None,
                           subject=subject if channel == "email" else None, in_reply_to=parent if channel == "email" else None)


class PendingReply(msgspec.Struct, kw_only=True):
    outbox_id: int
    campaign_id: int
    bucket: str
    inbox_id: int | None
    state: str
    created_at: str
    error: str | None


def pending_replies(db: sqlite_utils.Database, identity_id: int) -> list[PendingReply]:
    """The identity's replies by hand not sent yet (queued, or in doubt after a crash), oldest first.

    Read on every change the supervisor sees: through the partial index `outbox_pending`
    (its WHERE term repeated word for word), never a scan of the whole outbox."""
    return [PendingReply(outbox_id=r[0], campaign_id=r[1], bucket=r[2], inbox_id=r[3], state=r[4], created_at=r[5],
                         error=r[6]) for r in db.execute(
        "SELECT id, campaign_id, bucket, inbox_id, state, created_at, error FROM outbox INDEXED BY outbox_pending"
        f" WHERE identity_id = ? AND state IN ('queued', 'unknown') AND {PENDING_INDEX_TERM}"
        " AND node_id IS NULL AND key LIKE 'reply:%' ORDER BY id", [identity_id]).fetchall()]


def identities_replying(db: sqlite_utils.Database) -> list[dict]:
    """Whole rows of the identities with no running campaign but a reply by hand not settled yet
    (queued, claimed, sending or unknown): the supervisor runs their actors for it, so a reply to a
    lead whose campaign was paused or archived still goes. Read on every change the supervisor
    sees: each such identity's pending rows through `outbox_pending`, never the whole outbox (an
    identity with a running campaign has its actor anyway and is not looked at)."""
    return list(db.query(
        "SELECT * FROM identities i WHERE i.id NOT IN (SELECT identity_id FROM campaigns WHERE status = 'running')"
        " AND EXISTS (SELECT 1 FROM outbox INDEXED BY outbox_pending WHERE identity_id = i.id"
        f" AND {PENDING_INDEX_TERM} AND node_id IS NULL AND key LIKE 'reply:%')"))


def reply_state(db: sqlite_utils.Database, conversation_id: int) -> list[tuple[str, str, str | None, str]]:
    """(key, state, error, created_at) of the conversation's replies by hand, newest first."""
    return [tuple(r) for r in db.execute(
        "SELECT key, state, error, created_at FROM outbox WHERE key LIKE ? ORDER BY id DESC",
        [f"reply:{conversation_id}:%"]).fetchall()]


class ReplyWait(NamedTuple):
    wait: Wait
    timezone: str  # the identity's, to name the time in

    def text(self) -> str:
        """'The identity has reached its limit: emails 1 per day. Refills Tue 24 Nov 09:00 (UTC).'"""
        return explain(self.wait.reason, wait=self.wait, tz=ZoneInfo(self.timezone))

    def json(self) -> dict:
        return {"reason": self.wait.reason.value, "cap": self.wait.cap,
                "until": self.wait.until.isoformat() if self.wait.until else None, "text": self.text()}


def reply_wait(db: sqlite_utils.Database, conversation_id: int) -> ReplyWait | None:
    """When the conversation's queued reply will go, if its lane waits: what the identity's lanes
    wrote (runtime/actors/waiting.py) on the reply's lead, or, before the runtime filed it, on a
    lead queued in the same lane. A cap named is Identity limits (refills then), none is Outside
    working hours (the next opening). None: not waiting for either (or nothing queued)."""
    row = db.execute(
        "SELECT o.identity_id, o.bucket, o.inbox_id, o.enrollment_id, i.timezone FROM outbox o"
        " JOIN identities i ON i.id = o.identity_id WHERE o.key LIKE ? AND o.state = 'queued'"
        " ORDER BY o.id LIMIT 1", [f"reply:{conversation_id}:%"]).fetchone()
    if row is None:
        return None
    identity_id, bucket, inbox_id, enrollment_id, timezone = row
    inbox_sql = "o.inbox_id = ?" if inbox_id is not None else "o.inbox_id IS NULL"
    lane_args = [identity_id, bucket] + ([inbox_id] if inbox_id is not None else [])
    found = db.execute(
        "SELECT e.wait_cap, e.wait_until FROM outbox o INDEXED BY outbox_queue JOIN enrollments e ON e.id = o.enrollment_id"
        f" WHERE o.identity_id = ? AND o.bucket = ? AND {inbox_sql} AND o.state = 'queued'"
        " AND (e.wait_cap IS NOT NULL OR e.wait_until IS NOT NULL)"
        " AND (e.id = ? OR (e.status = 'in_progress' AND e.substatus IN (?, ?)))"
        " ORDER BY e.id = ? DESC LIMIT 1",
        [*lane_args, enrollment_id, Substatus.IDENTITY_LIMITS.value, Substatus.OUTSIDE_WORKING_HOURS.value,
         enrollment_id]).fetchone()
    if found is None:
        return None
    cap, until = found
    reason = Substatus.IDENTITY_LIMITS if cap else Substatus.OUTSIDE_WORKING_HOURS
    return ReplyWait(Wait(reason, cap, datetime.fromisoformat(until) if until else None), timezone or "UTC")


def is_manual(payload: dict) -> bool:
    return bool(payload.get("manual"))


