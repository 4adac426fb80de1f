"""What an inbound email is, in the runtime's terms: its match to our mail, its record, its effect.

Recording and applying are two steps on purpose. The watcher records each
fetched message (classified, matched to the outbox row it answers) in the
same transaction that advances the folder's last UID (`record`, inside the
watcher's transaction); runtime/inbound.py applies the effects from the
unapplied rows (storage/mail.py), each in one transaction with the lead's
state change, using `effect_of` to read what the message means. A crash
between the two loses nothing (the row waits) and applies nothing twice (the
row is marked in the transaction that applied it).

Matching a message to our mail: its In-Reply-To/References (or, for a
bounce, the returned copy's Message-ID) against `outbox.message_id`; else
sender address + subject ("Re: <our subject>") against the latest email we
sent that contact from this inbox; for a bounce, the failed recipient.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime

import sqlite_utils

from runtime.channels.email.inbound.classify import Classification
from sequences.step import DELIVERY_DELAY_WAIT
from storage import mail as mail_db
from storage.activity import iso
from storage.records import MailInbound, SentEmail, UnappliedMail

_SUBJECT_PREFIX = re.compile(r"^\s*(?:(?:re|aw|sv|vs|antw|odp|rif|r|fw|fwd|wg|tr)\s*(?:\[\d+\])?\s*[:：]\s*)+", re.I)


# ------------------------------------------------------------------ matching
def fingerprint(raw: bytes, c: Classification) -> str:
    """Message-ID when present (stable across UIDVALIDITY changes), else a header hash."""
    if c.message_id:
        return "mid:" + c.message_id[:400]
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    return "sha:" + hashlib.sha256(head[:65536]).hexdigest()


def _norm_subject(subject: str) -> str:
    return " ".join(_SUBJECT_PREFIX.sub("", subject or "").lower().split())


@dataclass(frozen=True)
class Match:
    sent: SentEmail
    matched_by: str


def match(db: sqlite_utils.Database, inbox_id: int, c: Classification) -> Match | None:
    ids = ([c.in_reply_to] if c.in_reply_to else []) + list(reversed(c.references))
    for mid in ids:
        sent = mail_db.sent_email_by_message_id(db, f"<{mid}>")
        if sent is not None:
            return Match(sent, "message-id")
    who = c.recipients[:1] if c.kind in ("bounce", "delay", "complaint") else ([c.from_addr] if c.from_addr else [])
    for address in who:
        recent = mail_db.recent_emails_to(db, address, inbox_id)
        if not recent:
            continue
        if c.kind in ("bounce", "delay", "complaint", "auto_reply", "unsubscribe", "challenge"):
            return Match(recent[0], "recipient" if c.kind in ("bounce", "delay", "complaint") else "sender")
        wanted = _norm_subject(c.subject)
        for sent in recent:
            ours = _norm_subject(sent.subject)
            if wanted and ours and wanted == ours:
                return Match(sent, "sender+subject")
    return None


# ------------------------------------------------------------------ recording
def record(db: sqlite_utils.Database, *, inbox_id: int, folder: str, uidvalidity: int, uid: int,
           raw: bytes, c: Classification, body: str, now: datetime) -> int | None:
    """Store one classified message (inside the caller's transaction). None if already known."""
    m = match(db, inbox_id, c)
    return mail_db.add_inbound(db, MailInbound(
        inbox_id=inbox_id, folder=folder, uidvalidity=uidvalidity, uid=uid, fingerprint=fingerprint(raw, c),
        message_id=c.message_id, received_at=iso(now), kind=c.kind, hard=c.hard, status=c.status,
        recipients=list(c.recipients), in_reply_to=c.in_reply_to, from_addr=c.from_addr, subject=c.subject[:500],
        reason=c.reason, body=body[:20000], details=details_of(c), outbox_id=m.sent.outbox_id if m else None,
        enrollment_id=m.sent.enrollment_id if m else None, contact_id=m.sent.contact_id if m else None,
        matched_by=m.matched_by if m else None))


def details_of(c: Classification) -> dict:
    """What the record keeps besides the class: return date, challenge link, and the signals that decided."""
    found = {"auto": c.auto, "return_date": c.return_date, "challenge_link": c.challenge_link}
    return {k: v for k, v in found.items() if v} | {"signals": list(c.signals)}


# ------------------------------------------------------------------ meaning
@dataclass(frozen=True)
class Effect:
    """What a recorded message does to its lead; runtime/inbound.py applies it.

    `signal` (replied | out_of_office | bounced | delayed) steps the lead of the delivery
    the message answers; `block` is the address to blocklist (with the contact,
    whose campaigns then stop); `label` is what mail_inbound.effect records;
    `detail` goes into the activity record (an out-of-office's return date; a delay's `until`,
    which only the step reads)."""

    label: str
    signal: str | None = None
    hard: bool = True
    text: str = ""
    block: str | None = None
    detail: dict = field(default_factory=dict)


def effect_of(mail: UnappliedMail) -> Effect:
    """The spec's effect of each class: reply → Replied; out-of-office →
    Finished / Out of office (return date kept); bounce → Bounced (hard, or the
    soft retry); unsubscribe / complaint → blocklist; a delay → the next step
    waits (Delivery delayed). Nothing finishes the lead for a delay (the server
    keeps trying), a challenge (the user decides on its
    link), another autoresponder ("we received your message": the person has not
    answered), spam or other mail."""
    kind, answered = mail.kind, bool(mail.outbox_key)
    details = mail.details or {}
    if kind in ("unsubscribe", "complaint"):
        # An unsubscribe request is also the lead's answer: it is recorded as the reply it is.
        address = mail.from_addr if kind == "unsubscribe" else (mail.recipients or [""])[0]
        if kind == "unsubscribe" and answered:
            return Effect("blocklisted", "replied", text=mail.body, block=address)
        return Effect("blocklisted", block=address)
    if answered and kind == "reply":
        return Effect("replied", "replied", text=mail.body)
    if answered and kind == "auto_reply" and details.get("auto", "out_of_office") == "out_of_office":
        back = details.get("return_date")
        return Effect(f"out_of_office until {back}" if back else "out_of_office", "out_of_office", text=mail.body,
                      detail={"return_date": back} if back else {})
    if answered and kind == "bounce":
        hard = mail.hard is None or mail.hard
        return Effect("bounced hard" if hard else "bounced soft", "bounced", hard=hard)
    if kind == "delay":
        # Never finishes the lead: its next step waits (Delivery delayed) until the server's
        # retries are over; a bounce for the same email meanwhile ends it as Bounced.
        label = f"waiting: delivery delayed ({mail.status or 'no status'}), the server keeps retrying"
        if not answered:
            return Effect(label)
        until = datetime.fromisoformat(mail.received_at) + DELIVERY_DELAY_WAIT
        return Effect(label, "delayed", detail={"until": iso(until)})
    if kind == "challenge":
        return Effect("waiting: challenge-response, verification link shown to the user (never followed)")
    if kind == "auto_reply":
        return Effect("none: autoresponder" if answered else "none")
    return Effect("none")
