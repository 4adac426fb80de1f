"""What an inbound email is: reply, auto_reply, challenge, bounce, delay, complaint, unsubscribe, spam, other.

Nothing automatic may ever be taken for a human reply (a reply stops the
lead and counts in the reply rate), so the checks run from the most
structural to the least, and a message only becomes a reply when no check
before says a program sent it:

1. complaint — an ARF feedback report (RFC 5965), or a provider's complaint.
2. bounce / delay — RFC 3464 delivery status, prose bounces from older MTAs,
   a mailing-list manager's refusal, a bare failure from the null sender;
   a report whose recipients are all `delayed` is a delay (transient: the
   lead waits) — recognised before auto-replies, as daemons often also say
   `Auto-Submitted: auto-replied`.
3. challenge — a challenge-response filter holding our message until we
   verify (its link is kept to show the user, never followed).
4. auto_reply — out-of-office (with its return date when given) or another
   autoresponder: RFC 3834 / vendor headers, else the wording of
   phrases.PHRASES in two dozen languages.
5. spam — the receiving filter's verdict (X-Spam-Flag, X-Spam-Status, SCL).
6. unsubscribe — a person asking to stop (or our List-Unsubscribe mailto).
7. reply — threaded to a message (In-Reply-To/References) or a reply
   subject, and no machine hint (null envelope sender, list headers,
   Precedence bulk, no-reply sender). Threading helps but never decides alone;
   matching it to *our* Message-IDs is the store's job (`mail_inbound`).
8. other — everything else (newsletters, read receipts, unrelated mail).

`signals` says what decided, for `enginy mail classify` and the record.
Pure and total: bytes in, a Classification out, for any input.
"""

from __future__ import annotations

import email.utils
import re
from email.message import Message

import msgspec

from runtime.channels.email.inbound import autoreply as mail_autoreply
from runtime.channels.email.inbound import challenge as mail_challenge
from runtime.channels.email.inbound import dsn as mail_dsn
from runtime.channels.email.inbound import parse as mp
from runtime.channels.email.inbound.returndate import return_date
from sequences.mail_text import new_text

KINDS = ("reply", "auto_reply", "challenge", "bounce", "delay", "complaint", "unsubscribe", "spam", "other")
# Hints that a program sent the message: any one keeps it from being a reply.
_MACHINE_HINTS = ("null envelope sender", "mailing list", "precedence:", "no-reply sender")


class Classification(msgspec.Struct, kw_only=True):
    kind: str
    hard: bool | None = None
    status: str | None = None
    recipients: list[str] = []
    in_reply_to: str | None = None
    references: list[str] = []
    message_id: str | None = None
    from_addr: str = ""
    subject: str = ""
    reason: str = ""
    auto: str | None = None  # auto_reply: "out_of_office" or "autoresponder"
    return_date: str | None = None  # out_of_office: ISO date the person is back, when given
    challenge_link: str | None = None  # challenge: the verification link (shown, never followed)
    signals: list[str] = []


_REPLY_PREFIX = re.compile(r"^\s*(?:re|aw|sv|vs|antw|odp|rif|r|ynt|回复|答复)\s*(?:\[\d+\])?\s*[:：]", re.I)

_UNSUB_SUBJECT = re.compile(
    r"^\s*(?:(?:re|aw|sv|antw)\s*:\s*)*(?:unsubscribe|remove(?: me)?|stop|opt[- ]?out|abmelden|austragen|"
    r"d[ée]sinscription|d[ée]sabonner|baja|darse de baja|cancellami|cancellazione|afmelden|uitschrijven|avregistrera)\b",
    re.I,
)
_UNSUB_BODY = re.compile(
    r"|".join(
        [
            r"\bunsubscribe\b",
            r"\bremove me\b",
            r"\bremove my (?:e-?mail|address|name)\b",
            r"take me off",
            r"\bopt (?:me )?out\b",
            r"stop (?:e-?mailing|emailing|contacting|sending|writing|messaging)",
            r"(?:do not|don'?t|never) (?:contact|e-?mail|email|write to|message) me",
            r"no (?:more|further) (?:e-?mails|emails|messages|contact)",
            r"please remove",
            r"not interested[,.]? (?:please )?(?:remove|stop)",
            r"\babmelden\b|\baustragen\b|nicht mehr (?:kontaktieren|anschreiben|schreiben)",
            r"d[ée]sinscri|d[ée]sabonne|ne (?:plus|pas) me (?:contacter|[ée]crire)|retirez[- ]moi",
            r"dar(?:me)? de baja|no me (?:contacte|escriba)|elim[íi]n(?:enme|ame) de",
            r"cancellami|disiscriv|non contattarmi|rimuovetemi",
            r"uitschrijven|afmelden|verwijder mij",
            r"avregistrera|avsluta prenumeration",
        ]
    ),
    re.I,
)
def is_unsubscribe(subject: str, body: str) -> bool:
    if _UNSUB_SUBJECT.search(subject or ""):
        return True
    fresh = new_text(body)[:1500]
    return bool(_UNSUB_BODY.search(fresh))


def _complaint(msg) -> Classification | None:
    is_arf = mp.content_type(msg) == "multipart/report" and mp.param(msg, "report-type") == "feedback-report"
    recipients: list[str] = []
    original: str | None = None
    for _, part in mp.walk(msg):
        ctype = mp.content_type(part)
        if ctype == "message/feedback-report":
            is_arf = True
            text = mp.text_of(part)
            try:
                payload = part.get_payload()
                if isinstance(payload, list):
                    text += "\n".join(f"{k}: {v}" for p in payload for k, v in p.items())
            except Exception:
                pass
            for line in text.splitlines():
                name, _, value = line.partition(":")
                if name.strip().lower() in ("original-rcpt-to", "removal-recipient"):
                    recipients += mp.find_addresses(value)
        elif ctype in ("message/rfc822", "text/rfc822-headers"):
            original = original or mp_original_id(part)
            if not recipients:
                recipients += _original_to(part)
    if not is_arf:
        return None
    return Classification(
        kind="complaint",
        recipients=_dedupe(recipients),
        in_reply_to=original,
        reason="arf",
    )


def mp_original_id(part) -> str | None:
    return mail_dsn.original_message_id(part, mp.text_of(part) if not part.is_multipart() else "")


def _original_to_any(msg) -> list[str]:
    for _, part in mp.walk(msg):
        if mp.content_type(part) == "message/rfc822":
            return _original_to(part)
    return []


def _original_id_any(msg) -> str | None:
    return mail_dsn.original_message_id(msg, "")


def _original_to(part) -> list[str]:
    try:
        payload = part.get_payload()
    except Exception:
        return []
    if isinstance(payload, list) and payload:
        return mp.find_addresses(mp.header(payload[0], "To"))
    found = re.search(r"(?im)^to:\s*(.+)$", mp.text_of(part))
    return mp.find_addresses(found.group(1)) if found else []


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out


def _ses_notification(body: str) -> Classification | None:
    """Amazon SES/SNS notifications forward bounces and complaints as JSON."""
    start = body.find('{"notificationType"')
    if start < 0:
        start = body.find('{"eventType"')
    if start < 0:
        return None
    end = body.rfind("}")
    try:
        data = msgspec.json.decode(body[start: end + 1].replace("\n ", "").replace("\n", "").encode())
    except Exception:
        return None
    if not isinstance(data, dict):
        return None
    kind = str(data.get("notificationType") or data.get("eventType") or "").lower()
    mail = data.get("mail") if isinstance(data.get("mail"), dict) else {}
    original = mp.first_message_id(str(mail.get("commonHeaders", {}).get("messageId", "") or "")) or mail.get("messageId")
    if kind == "bounce" and isinstance(data.get("bounce"), dict):
        info = data["bounce"]
        rcpts = [r for r in info.get("bouncedRecipients", []) if isinstance(r, dict)]
        status = next((mail_dsn.valid_status(str(r.get("status", ""))) for r in rcpts if r.get("status")), None)
        if status is None:
            status = mail_dsn.infer_status(" ".join(str(r.get("diagnosticCode", "")) for r in rcpts))
        permanent = str(info.get("bounceType", "")).lower() == "permanent"
        return Classification(
            kind="bounce",
            hard=permanent if status is None else (permanent and not status.startswith("4")),
            status=status,
            recipients=_dedupe([mp.address_of(str(r.get("emailAddress", ""))) for r in rcpts]),
            in_reply_to=original if isinstance(original, str) else None,
            reason="ses",
        )
    if kind == "complaint" and isinstance(data.get("complaint"), dict):
        rcpts = data["complaint"].get("complainedRecipients", [])
        return Classification(
            kind="complaint",
            recipients=_dedupe([mp.address_of(str(r.get("emailAddress", ""))) for r in rcpts if isinstance(r, dict)]),
            in_reply_to=original if isinstance(original, str) else None,
            reason="ses",
        )
    if kind in ("delivery", "send", "open", "click"):
        return Classification(kind="other", reason=f"ses {kind}")
    return None


_COMPLAINT_SUBJECT = re.compile(r"complaint about message|abuse report|spam (?:complaint|report)", re.I)


def spam_verdict(msg) -> str | None:
    """The receiving server's spam verdict, when it says spam."""
    for name in ("X-Spam-Flag", "X-Spam-Status", "X-Spam", "X-Spam-Verdict", "X-Spam-Result"):
        value = mp.header(msg, name).strip().lower()
        if value.startswith(("yes", "spam", "true")):
            return f"{name.lower()}: {value.split(',')[0]}"
    if mp.header(msg, "X-Spam-Level").count("*") >= 5:
        return "x-spam-level: *****"
    scl = mp.header(msg, "X-MS-Exchange-Organization-SCL").strip()
    if scl.lstrip("-").isdigit() and int(scl) >= 5:
        return f"x-ms-exchange-organization-scl: {scl}"
    return None


def _sent_date(msg):
    try:
        value = email.utils.parsedate_to_datetime(mp.header(msg, "Date"))
        return value.date() if value else None
    except Exception:
        return None


def classify_message(raw: bytes) -> Classification:
    """Classify one RFC 5322 message given as bytes. Never raises on bad input: if reading the
    message fails somewhere the parse helpers do not guard, the answer is "other" with what its
    headers say (sender, subject, thread), and the failure is logged once, at debug level."""
    try:
        return _classify(mp.parse(raw))
    except Exception as exc:  # noqa: BLE001 — the email library on a message it cannot read
        mp.library_failed("classify", exc)
    try:
        msg = mp.headers_only(raw)
    except Exception as exc:  # noqa: BLE001 — not even its headers can be read
        mp.library_failed("classify headers", exc)
        return Classification(kind="other", reason="unreadable message")
    references = mp.message_ids(mp.header(msg, "References"))
    return Classification(
        kind="other", reason="unreadable message", subject=mp.header(msg, "Subject"),
        from_addr=mp.address_of(mp.header(msg, "From")), references=references,
        message_id=mp.first_message_id(mp.header(msg, "Message-ID")),
        in_reply_to=mp.first_message_id(mp.header(msg, "In-Reply-To")) or (references[-1] if references else None))


def _classify(msg: Message) -> Classification:
    subject = mp.header(msg, "Subject")
    from_addr = mp.address_of(mp.header(msg, "From"))
    references = mp.message_ids(mp.header(msg, "References"))
    in_reply_to = mp.first_message_id(mp.header(msg, "In-Reply-To"))
    threaded = in_reply_to or (references[-1] if references else None)
    base = dict(
        references=references,
        message_id=mp.first_message_id(mp.header(msg, "Message-ID")),
        from_addr=from_addr,
        subject=subject,
    )
    sender = [from_addr] if from_addr else []

    complaint = _complaint(msg)
    if complaint is not None:
        complaint.in_reply_to = complaint.in_reply_to or threaded
        for key, value in base.items():
            setattr(complaint, key, value)
        complaint.signals = ["arf feedback report (rfc 5965)"]
        return complaint

    body = mp.body_text(msg)
    ses = _ses_notification(body) if "amazon" in (from_addr + mp.header(msg, "Feedback-ID")).lower() or '"notificationType"' in body[:200] else None
    if ses is not None:
        for key, value in base.items():
            setattr(ses, key, value)
        ses.signals = ["amazon ses notification"]
        return ses

    if _COMPLAINT_SUBJECT.search(subject) and any(
        mp.content_type(p) == "message/rfc822" for _, p in mp.walk(msg)
    ):
        return Classification(kind="complaint", recipients=_original_to_any(msg), in_reply_to=_original_id_any(msg),
                              reason="complaint subject", signals=["complaint subject", "attached original"], **base)

    if _UNSUB_SUBJECT.match(subject) and not _REPLY_PREFIX.match(subject) and re.search(
        r"unsub|opt-?out|list-unsubscribe|remove", mp.header(msg, "To") + " " + body[:500], re.I
    ):
        # A mail client's one-click unsubscribe to our List-Unsubscribe mailto
        # (Apple Mail marks it Auto-Submitted): a request, not an auto-reply.
        return Classification(kind="unsubscribe", recipients=sender, in_reply_to=threaded,
                              reason="list-unsubscribe mailto", signals=["unsubscribe subject to our mailto"], **base)

    bounce = mail_dsn.parse_bounce(msg, body)
    if bounce is not None:
        envelope = mp.envelope_sender(msg)
        signals = [{"rfc3464": "delivery status notification (rfc 3464)", "prose": "bounce wording from a mail server",
                    "list manager": "mailing-list manager refusal"}.get(bounce.reason, bounce.reason)]
        if envelope == "":
            signals.append("null envelope sender")
        if bounce.status:
            signals.append(f"status {bounce.status}")
        if bounce.delayed_only:
            signals.append("delivery delayed; the server keeps retrying")
        return Classification(
            kind="delay" if bounce.delayed_only else "bounce",
            hard=bounce.hard,
            status=bounce.status,
            recipients=bounce.recipients,
            in_reply_to=bounce.original_message_id or threaded,
            reason=bounce.reason,
            signals=signals,
            **base,
        )

    if mp.content_type(msg) == "multipart/report":
        # Success DSNs, read receipts (MDN) and other reports: machine mail, not a reply.
        return Classification(kind="other", in_reply_to=threaded, reason="report",
                              signals=[f"multipart/report ({mp.param(msg, 'report-type') or '?'})"], **base)

    own_text = new_text(body)
    challenge = mail_challenge.challenge_signals(msg, own_text)
    if challenge:
        return Classification(kind="challenge", recipients=sender, in_reply_to=threaded, reason="challenge-response",
                              challenge_link=mail_challenge.verification_link(own_text), signals=challenge, **base)

    hints = mail_autoreply.automatic_hints(msg)
    auto = mail_autoreply.auto_reply(msg, own_text, hints)
    if auto is not None:
        back = return_date(subject + "\n" + own_text, _sent_date(msg)) if auto.out_of_office else None
        return Classification(
            kind="auto_reply", recipients=sender, in_reply_to=threaded,
            reason="out of office" if auto.out_of_office else "autoresponder",
            auto="out_of_office" if auto.out_of_office else "autoresponder", return_date=back,
            signals=auto.signals + ([f"return date {back}"] if back else []), **base,
        )

    verdict = spam_verdict(msg)
    if verdict:
        return Classification(kind="spam", in_reply_to=threaded, reason="spam", signals=[verdict], **base)

    if is_unsubscribe(subject, body):
        return Classification(kind="unsubscribe", recipients=sender, in_reply_to=threaded,
                              reason="unsubscribe request", signals=["asks to stop"], **base)

    machine = [h for h in hints if h.startswith(_MACHINE_HINTS)]
    if threaded or _REPLY_PREFIX.match(subject):
        answer = ["threaded (in-reply-to/references)" if threaded else "reply subject"]
        if machine:
            return Classification(kind="other", in_reply_to=threaded, reason="machine-sent",
                                  signals=answer + machine + ["machine-sent: never a reply"], **base)
        return Classification(kind="reply", recipients=sender, in_reply_to=threaded,
                              reason="threaded" if threaded else "subject",
                              signals=answer + ["no automatic header, wording or sender"], **base)
    return Classification(kind="other", in_reply_to=threaded, signals=machine or ["not a reply"], **base)


def as_report(file: str, c: Classification) -> dict:
    """The JSON line of `enginy mail classify` (stable keys first)."""
    return {
        "file": file,
        "kind": c.kind,
        "hard": c.hard,
        "status": c.status,
        "recipients": c.recipients,
        "in_reply_to": c.in_reply_to,
        "message_id": c.message_id,
        "from": c.from_addr,
        "subject": c.subject,
        "reason": c.reason,
        "auto": c.auto,
        "return_date": c.return_date,
        "challenge_link": c.challenge_link,
        "signals": c.signals,
    }
