"""The conversation inbox's read model: conversations newest first, filtered, and one thread in full.

The list is a keyset page over `conversations_recent` (m056): (updated_at, id)
descending, so the next page starts after the last row shown whatever the
inbox's size. A thread is its messages in order, the lead (contact, campaign,
status) and, for email, what the classifier found in mail from the lead that
is not a message of the conversation (a challenge-response notice's
verification link, shown and never followed).
"""

from __future__ import annotations

import msgspec
import sqlite_utils


class InboxFilter(msgspec.Struct, kw_only=True):
    campaign_id: int | None = None
    identity_id: int | None = None
    channel: str | None = None  # linkedin | email
    tag: str | None = None
    unread: bool = False
    search: str = ""  # the contact's name, email or company, or a message's text
    contact_id: int | None = None  # one lead's conversations (the side panel's "View in Inbox")

    def describe(self) -> str:
        parts = [f"{k}={v}" for k, v in (("campaign", self.campaign_id), ("identity", self.identity_id), ("contact", self.contact_id),
                                         ("channel", self.channel), ("tag", self.tag)) if v is not None]
        return " ".join(parts + (["unread"] if self.unread else []) + ([f"“{self.search}”"] if self.search else []))


class ConversationRow(msgspec.Struct, kw_only=True):
    id: int
    channel: str
    contact_id: int
    name: str
    email: str | None
    company: str | None
    identity_id: int
    identity: str
    campaign_id: int | None
    campaign: str | None
    tags: list[str]
    unread: bool
    updated_at: str
    last_direction: str | None
    last_text: str
    messages: int


class MessageRow(msgspec.Struct, kw_only=True):
    id: int
    direction: str
    kind: str
    at: str
    subject: str | None
    body: str
    message_id: str | None
    in_reply_to: str | None


class Notice(msgspec.Struct, kw_only=True):
    """Mail from the lead that is no message of the thread: a challenge, an autoresponder, a delay."""

    at: str
    kind: str
    subject: str
    effect: str | None
    challenge_link: str | None


class Thread(msgspec.Struct, kw_only=True):
    conversation: ConversationRow
    lead_status: str | None
    lead_substatus: str | None
    job_title: str | None
    linkedin_url: str | None
    inbox: str | None
    messages: list[MessageRow]
    notices: list[Notice]


_ROWS = """
SELECT cv.id, cv.channel, cv.contact_id, trim(coalesce(k.first_name, '') || ' ' || coalesce(k.last_name, '')) AS name,
       k.email, k.company, cv.identity_id, i.name AS identity, cv.campaign_id, c.name AS campaign, cv.tags, cv.unread,
       cv.updated_at,
       (SELECT m.direction FROM messages m WHERE m.conversation_id = cv.id ORDER BY m.at DESC, m.id DESC LIMIT 1),
       coalesce((SELECT substr(m.body, 1, 400) FROM messages m WHERE m.conversation_id = cv.id
                 ORDER BY m.at DESC, m.id DESC LIMIT 1), ''),
       (SELECT count(*) FROM messages m WHERE m.conversation_id = cv.id)
FROM conversations cv INDEXED BY conversations_recent
JOIN contacts k ON k.id = cv.contact_id
JOIN identities i ON i.id = cv.identity_id
LEFT JOIN campaigns c ON c.id = cv.campaign_id
"""


def _row(r) -> ConversationRow:
    return ConversationRow(id=r[0], channel=r[1], contact_id=r[2], name=r[3] or (r[4] or f"contact {r[2]}"),
                           email=r[4], company=r[5], identity_id=r[6], identity=r[7], campaign_id=r[8], campaign=r[9],
                           tags=msgspec.json.decode(r[10]), unread=bool(r[11]), updated_at=r[12], last_direction=r[13],
                           last_text=r[14], messages=r[15])


def conversations(db: sqlite_utils.Database, f: InboxFilter, *, limit: int = 200,
                  after: tuple[str, int] | None = None) -> list[ConversationRow]:
    """One page, newest first; `after` is the (updated_at, id) of the last row of the page before."""
    where, params = [], []
    for column, value in (("cv.campaign_id", f.campaign_id), ("cv.identity_id", f.identity_id), ("cv.channel", f.channel),
                          ("cv.contact_id", f.contact_id)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)
    if f.unread:
        where.append("cv.unread = 1")
    if f.tag:
        where.append("EXISTS (SELECT 1 FROM json_each(cv.tags) t WHERE lower(t.value) = lower(?))")
        params.append(f.tag)
    if f.search.strip():
        like = "%" + f.search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append("(k.first_name || ' ' || coalesce(k.last_name, '') LIKE ? ESCAPE '\\' OR k.email LIKE ? ESCAPE '\\'"
                     " OR k.company LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = cv.id"
                     " AND (m.body LIKE ? ESCAPE '\\' OR m.subject LIKE ? ESCAPE '\\')))")
        params += [like] * 5
    if after is not None:
        where.append("(cv.updated_at, cv.id) < (?, ?)")
        params += list(after)
    sql = _ROWS + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY cv.updated_at DESC, cv.id DESC LIMIT ?"
    return [_row(r) for r in db.execute(sql, [*params, limit]).fetchall()]


def conversation(db: sqlite_utils.Database, conversation_id: int) -> ConversationRow | None:
    r = db.execute(_ROWS + " WHERE cv.id = ?", [conversation_id]).fetchone()
    return _row(r) if r else None


def thread(db: sqlite_utils.Database, conversation_id: int) -> Thread | None:
    """The conversation with every message in and out, oldest first, and the lead beside it."""
    row = conversation(db, conversation_id)
    if row is None:
        return None
    lead = db.execute(
        "SELECT e.status, e.substatus, k.job_title, k.linkedin_url, x.email FROM conversations cv"
        " JOIN contacts k ON k.id = cv.contact_id LEFT JOIN enrollments e ON e.campaign_id = cv.campaign_id"
        " AND e.contact_id = cv.contact_id LEFT JOIN inboxes x ON x.id = cv.inbox_id WHERE cv.id = ?",
        [conversation_id]).fetchone()
    messages = [MessageRow(id=m[0], direction=m[1], kind=m[2], at=m[3], subject=m[4], body=m[5], message_id=m[6],
                           in_reply_to=m[7]) for m in db.execute(
        "SELECT id, direction, kind, at, subject, body, message_id, in_reply_to FROM messages"
        " WHERE conversation_id = ? ORDER BY at, id", [conversation_id]).fetchall()]
    notices = []
    if row.channel == "email":
        for at, kind, subject, effect, details in db.execute(
                "SELECT received_at, kind, subject, effect, details FROM mail_inbound WHERE contact_id = ?"
                " AND kind IN ('challenge', 'auto_reply', 'delay') ORDER BY received_at", [row.contact_id]).fetchall():
            link = msgspec.json.decode(details or "{}").get("challenge_link")
            notices.append(Notice(at=at, kind=kind, subject=subject, effect=effect, challenge_link=link))
    return Thread(conversation=row, lead_status=lead[0], lead_substatus=lead[1], job_title=lead[2],
                  linkedin_url=lead[3], inbox=lead[4], messages=messages, notices=notices)


def all_tags(db: sqlite_utils.Database) -> list[str]:
    """Every tag some conversation carries (the tag filter's and the tag editor's choices)."""
    return [t for (t,) in db.execute("SELECT DISTINCT t.value FROM conversations cv, json_each(cv.tags) t ORDER BY 1")]


def campaigns_with_conversations(db: sqlite_utils.Database) -> list[tuple[int, str]]:
    """(id, name) of the campaigns some conversation belongs to (the campaign filter's choices)."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT c.id, c.name FROM campaigns c WHERE EXISTS (SELECT 1 FROM conversations cv WHERE cv.campaign_id = c.id)"
        " ORDER BY c.name COLLATE NOCASE")]
