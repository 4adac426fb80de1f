"""Bounces: is this a delivery failure, for whom, with which status, hard or soft?

Two worlds. RFC 3464 delivery status notifications (Postfix, Sendmail, Gmail,
Exchange 2007+, most modern systems) carry machine-readable per-recipient
fields; we read those ourselves because we need the Status code and the
Action, which flufl.bounce does not report. The older half of the world
(qmail "failure notice", Exim "Mail delivery failed", Yahoo, Lotus Notes,
Exchange 2003, Courier…) sends prose. For those, flufl.bounce's per-vendor
detectors find the failed addresses, and our own patterns find the status
code (an enhanced code such as 5.1.1 in the text, else one inferred from the
SMTP reply code and the wording: "user unknown" is 5.1.1 on every system).

Hard vs soft: a permanent (5.x.x) failure is hard, except "mailbox full"
(x.2.2), which clears by itself; 4.x.x failures and delay warnings are soft.
Without any code, the wording decides ("permanent error" vs "will retry"),
else it stays unknown (None).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email.message import Message

from runtime.channels.email.inbound import parse as mp
from runtime.channels.email.inbound import phrases

STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
REPLY_CODE = re.compile(r"(?<![\d.#])([45][0-5]\d)(?:[ -]|$)", re.M)

BOUNCE_SENDERS = re.compile(
    r"^(?:mailer[-_]?daemon|post[-_]?master|mail[-_ ]?delivery[-_ ]?(?:system|subsystem)?|"
    r"mail[-_]?administrator|mailadmin|mdaemon|mmdf|root|double-bounce|bounces?)(?:[@+-]|$)",
    re.I,
)

BODY_MARKERS = re.compile(
    r"|".join(
        [
            r"this is the mail system at host",
            r"i'?m afraid i wasn'?t able to deliver",
            r"this is the qmail-send program",
            r"created automatically by mail delivery software",
            r"delivery to the following recipients? (?:failed|has been delayed)",
            r"following addresses? had permanent fatal errors",
            r"your message did not reach some or all of the intended recipients",
            r"delivery has failed to these recipients",
            r"could not be delivered to (?:one or more|the following)",
            r"message could not be delivered",
            r"unable to deliver (?:your|the) message",
            r"we were unable to deliver your message",
            r"couldn'?t be delivered",
            r"wasn'?t delivered to",
            r"delivery (?:to .* )?has failed",
            r"permanent(?:ly)? (?:fatal )?(?:error|failure|failed)",
            r"not (?:be )?delivered",
            r"did not reach the following recipient",
            r"undeliverable",
            r"returned mail",
            r"was undeliverable",
            r"message was not delivered",
            r"failed recipient",
            r"recipient address rejected",
            r"user unknown",
            r"mailbox (?:unavailable|not found|full)",
            r"retry (?:timeout|time) exceeded",
            r"giving up",
            r"has been delayed",
            r"error has occurred while attempting to deliver",
            r"unable to deliver message",
            r"could not be delivered",
            r"had delivery problems",
            r"delivery to the following recipients was aborted",
            r"failed addresses follow",
            r"no valid recipients",
            r"requested action not taken",
            r"invalid user address",
        ]
    ),
    re.I,
)

RETURNED_MARKERS = re.compile(
    r"(?im)^.*(?:below this line is a copy of the message|this is a copy of the message|"
    r"original message follows|original message headers|undelivered message headers|"
    r"returned message|message headers follow|content-type: message/rfc822|"
    r"---+ ?(?:original|returned) message).*$"
)

# Wording → (enhanced status used when the text carries none, permanent?)
_REASONS: list[tuple[re.Pattern, str]] = [
    (re.compile(p, re.I), code)
    for p, code in [
        (r"mailbox (?:is )?full|over ?quota|quota exceeded|exceeded (?:the )?(?:storage|quota)|insufficient (?:storage|system storage)|mailbox size limit|disk quota", "5.2.2"),
        (r"user unknown|unknown user|no such (?:user|mailbox|recipient|address)|(?:user|mailbox|recipient|address|account)(?: name)? (?:does not|doesn'?t) exist|"
         r"invalid (?:recipient|mailbox|address)|recipient (?:not found|unknown|name is not recognized|address rejected: user)|"
         r"mailbox (?:not found|unavailable|does not exist)|unknown (?:recipient|local[- ]part|address)|"
         r"not a valid (?:user|mailbox|recipient)|address (?:not found|unknown|rejected)|"
         r"user (?:not found|doesn'?t have|does not have)|account (?:has been )?(?:disabled|deactivated|closed|suspended)|no mailbox here|"
         r"resolver\.adr\.recipnotfound|recipientnotfound|unrouteable address|couldn'?t find the recipient|"
         r"user not listed|unknown or illegal alias|deactivated mailbox|is not a known user|not our customer", "5.1.1"),
        (r"host (?:or domain name )?not found|domain (?:not found|does not exist)|no (?:mx|such domain)|unknown host|name service error|"
         r"host unknown|unrouteable domain|dns error|domain name not found", "5.1.2"),
        (r"message (?:size )?(?:is )?too (?:big|large)|size limit|message size exceeds|exceeds (?:the )?maximum (?:message )?size", "5.3.4"),
        (r"relay(?:ing)? (?:access )?denied|not permitted to relay|unable to relay|relay not permitted", "5.7.1"),
        (r"spam|blocked|blacklist|block ?list|rejected for policy|policy|reputation|not authorized|access denied|denied|refused", "5.7.1"),
        (r"retry (?:timeout|time not reached|time) exceeded|timed? ?out|expired|too long in (?:the )?queue|could not be delivered within", "4.4.7"),
        (r"connection refused|connect to .* failed|network is unreachable|lost connection", "4.4.1"),
    ]
]

_PERMANENT = re.compile(r"permanent|fatal error|given up|giving up|not be delivered|has failed|failed permanently", re.I)
_TEMPORARY = re.compile(r"temporar|will (?:be )?retr|still trying|has been delayed|delivery delayed|deferred|will keep trying|not yet been delivered", re.I)


@dataclass
class Bounce:
    hard: bool | None
    status: str | None
    recipients: list[str] = field(default_factory=list)
    original_message_id: str | None = None
    delayed_only: bool = False
    reason: str = ""


# --------------------------------------------------------------------- DSN fields
def _dsn_blocks(part: Message) -> list[dict[str, str]]:
    """The field groups of a message/delivery-status part (per-message first)."""
    text = ""
    try:
        payload = part.get_payload()
    except Exception:
        payload = None
    if isinstance(payload, list):
        # email parses delivery-status into a list of header blocks.
        blocks = []
        for block in payload:
            if isinstance(block, Message):
                blocks.append({k.lower(): mp.decode_words(str(v)) for k, v in block.items()})
        if blocks:
            return blocks
    elif isinstance(payload, str):
        text = payload
    if not text:
        text = mp.text_of(part)
    blocks, current, last = [], {}, None
    for line in text.replace("\r", "").split("\n"):
        if not line.strip():
            if current:
                blocks.append(current)
                current, last = {}, None
            continue
        if line[:1] in " \t" and last:
            current[last] += " " + line.strip()
            continue
        name, sep, value = line.partition(":")
        if sep and name.strip() and " " not in name.strip():
            last = name.strip().lower()
            current[last] = value.strip()
    if current:
        blocks.append(current)
    return blocks


def _addr_field(value: str) -> str:
    value = value or ""
    if ";" in value:
        value = value.split(";", 1)[1]
    return mp.address_of(value.strip())


def valid_status(value: str) -> str | None:
    found = STATUS.search(value or "")
    if not found:
        return None
    return ".".join(str(int(g)) for g in found.groups())


def _best_status(status_field: str, diagnostic: str) -> str | None:
    status = valid_status(status_field)
    specific = valid_status(diagnostic)
    if status is None:
        return specific or infer_status(diagnostic)
    if specific and status.endswith(".0.0") and specific[0] == status[0]:
        return specific
    if status.endswith(".0.0"):
        inferred = infer_status(diagnostic)
        if inferred and inferred[0] == status[0] and not inferred.endswith(".0.0"):
            return inferred
    return status


def read_dsn(msg: Message) -> tuple[list[tuple[str, str, str]], int] | None:
    """[(recipient, action, status)] of failed/delayed recipients and the number
    of successful ones; None when there is no delivery-status part at all."""
    found = False
    successes = 0
    failures: list[tuple[str, str, str]] = []
    for _, part in mp.walk(msg):
        ctype = mp.content_type(part)
        if ctype not in ("message/delivery-status", "message/global-delivery-status"):
            continue
        found = True
        for block in _dsn_blocks(part):
            if not ({"final-recipient", "original-recipient", "action"} & block.keys()):
                continue  # the per-message group (Reporting-MTA, Arrival-Date…)
            recipient = _addr_field(block.get("final-recipient", "")) or _addr_field(
                block.get("original-recipient", "")
            )
            action = block.get("action", "").strip().lower().split(" ")[0]
            diagnostic = block.get("diagnostic-code", "")
            status = _best_status(block.get("status", ""), diagnostic)
            if action in ("delivered", "relayed", "expanded", "deliverable"):
                successes += 1
                continue
            if not recipient and not status:
                continue
            failures.append((recipient, action or "failed", status or ""))
    if not found:
        return None
    return failures, successes


# --------------------------------------------------------------------- detection
def _sender_is_daemon(msg: Message) -> bool:
    sender = mp.header(msg, "From")
    address = mp.address_of(sender)
    local = address.split("@", 1)[0]
    name = sender.split("<", 1)[0].strip().strip('"').lower()
    return bool(
        BOUNCE_SENDERS.match(local)
        or BOUNCE_SENDERS.match(name.replace(" ", "-"))
        or "mail delivery" in name
        or "mailer-daemon" in sender.lower()
    )


def _is_reply_subject(subject: str) -> bool:
    # Not "Fwd:": a forwarded bounce is still the bounce (sisimai lhost-sendmail-14).
    return bool(re.match(r"^\s*(?:re|aw|sv|vs|rif|r)\s*:", subject, re.I))


def looks_like_bounce(msg: Message, text: str) -> bool:
    """Non-DSN detection: daemon sender or bounce subject, plus failure wording."""
    subject = mp.header(msg, "Subject")
    if mp.header(msg, "X-Failed-Recipients"):
        return True
    null_sender = mp.envelope_sender(msg) == ""
    if null_sender and len(text.strip()) < 2000 and infer_status(text[:2000]) in _ADDRESS_FAILURES:
        # A bare "That's not a valid user here" from the null sender: only a
        # mail server sends from <>, and it says the address does not exist.
        return True
    if _is_reply_subject(subject) and not _sender_is_daemon(msg):
        return False
    subject_hit = phrases.find("bounce_subject", subject) is not None
    body_hit = bool(BODY_MARKERS.search(text[:20000]))
    daemon = _sender_is_daemon(msg)
    if subject_hit and (body_hit or daemon or null_sender):
        return True
    if daemon and body_hit:
        return True
    if null_sender and body_hit and (
        re.search(r"\b[45]\d\d\b|[45]\.\d+\.\d+", text[:20000]) or _has_returned_copy(msg)
    ):
        return True
    return False


_ADDRESS_FAILURES = ("5.1.1", "5.1.2", "5.2.2", "4.2.2", "5.1.0")
_LIST_MANAGER_HEADERS = ("X-MLServer", "X-ML-Name", "X-ML-Info", "Mailing-List", "List-Id", "X-Mailman-Version", "X-Listprocessor-Version")
_LIST_ADMIN = re.compile(r"-(?:admin|owner|request|bounces?)$|^(?:majordomo|listserv|mailman|fml|ezmlm|sympa|listproc)$", re.I)
_LIST_REJECTION = re.compile(
    r"not (?:a )?member|loop alert|duplicated message-id|not allowed to post|posting (?:is )?(?:not allowed|rejected|held)|"
    r"(?:rejected|refused|could not be delivered|undeliverable)", re.I)


def _list_manager_rejection(msg: Message, text: str) -> bool:
    """A mailing-list manager (fml, Mailman, ezmlm, Majordomo…) refusing our message:
    sent by the list's admin address, with list headers and refusal wording."""
    sender = mp.address_of(mp.header(msg, "From")).split("@", 1)[0]
    listed = any(mp.header(msg, h) for h in _LIST_MANAGER_HEADERS)
    return bool(listed and _LIST_ADMIN.search(sender) and _LIST_REJECTION.search(mp.header(msg, "Subject") + "\n" + text[:3000]))


def _has_returned_copy(msg: Message) -> bool:
    return any(
        mp.content_type(p) in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers")
        for _, p in mp.walk(msg)
    )


# --------------------------------------------------------------------- details
def infer_status(text: str) -> str | None:
    """A status from wording and SMTP reply code when no enhanced code is given."""
    if not text:
        return None
    reply = REPLY_CODE.search(text)
    klass = reply.group(1)[0] if reply else None
    for pattern, code in _REASONS:
        if pattern.search(text):
            if klass:
                return klass + code[1:]
            return code
    if reply:
        return {"5": "5.0.0", "4": "4.0.0"}[klass]
    return None


def hardness(status: str | None, text: str, delayed: bool) -> bool | None:
    if delayed:
        return False
    if status:
        if status.startswith("4"):
            return False
        if status.startswith("5"):
            return not status.startswith("5.2.2")
        return None
    if _TEMPORARY.search(text):
        return False
    if _PERMANENT.search(text):
        return True
    return None


def original_message_id(msg: Message, text_after: str) -> str | None:
    """The Message-ID of the message that bounced (attached copy or quoted headers)."""
    for _, part in mp.walk(msg):
        ctype = mp.content_type(part)
        if ctype in ("message/rfc822", "message/global"):
            try:
                inner = part.get_payload()
            except Exception:
                inner = None
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                value = mp.first_message_id(mp.header(inner[0], "Message-ID"))
                if value:
                    return value
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers", "text/rfc822-header"):
            found = re.search(r"(?im)^message-id:\s*(<[^>\s]+>)", mp.text_of(part))
            if found:
                return found.group(1)[1:-1]
    found = re.search(r"(?im)^\s*>?\s*message-id:\s*<([^>\s]+)>", text_after)
    return found.group(1) if found else None


def _failure_zone(text: str) -> tuple[str, str]:
    """Split a prose bounce into its report and the returned copy of the message."""
    marker = RETURNED_MARKERS.search(text)
    if marker:
        return text[: marker.start()], text[marker.start():]
    return text, ""


def _own_addresses(msg: Message) -> set[str]:
    own = set()
    for name in ("To", "From", "Return-Path", "Delivered-To", "Envelope-To", "Sender", "Reply-To"):
        for value in mp.headers(msg, name):
            for addr in mp.find_addresses(value):
                own.add(addr)
    return own


def _prose_recipients(msg: Message, report: str) -> list[str]:
    own = _own_addresses(msg)
    out: list[str] = []
    for addr in mp.find_addresses(report):
        local = addr.split("@", 1)[0]
        if addr in own or BOUNCE_SENDERS.match(local) or addr in out:
            continue
        if re.search(r"\.(?:png|jpe?g|gif)$", addr):
            continue
        out.append(addr)
    return out


def _quiet(logger: logging.Logger) -> None:
    """A library's own log (progress chatter, tracebacks of its failures) never reaches the terminal."""
    if logger.propagate:
        logger.addHandler(logging.NullHandler())
        logger.propagate = False


def _flufl_failures(msg: Message) -> tuple[list[str], list[str]]:
    """flufl.bounce's per-vendor detectors. One of them raising on a malformed message (Yale's
    on a bounce without a From header) makes flufl log the traceback at ERROR and re-raise: its
    logger is kept off the terminal, the failure is ours to log once at debug level, and the
    prose reading below still answers."""
    try:
        from flufl.bounce import all_failures

        _quiet(logging.getLogger("flufl.bounce"))
        temporary, permanent = all_failures(msg)
    except Exception as exc:  # noqa: BLE001 — a third-party detector on hostile input
        mp.library_failed("flufl.bounce", exc)
        return [], []

    def norm(items) -> list[str]:
        out = []
        for item in items:
            addr = item.decode("utf-8", "replace") if isinstance(item, bytes) else str(item)
            addr = mp.address_of(addr)
            if addr and addr not in out:
                out.append(addr)
        return sorted(out)

    return norm(temporary), norm(permanent)


def _status_near(report: str, recipient: str | None) -> str | None:
    """The enhanced status closest after the failed recipient's mention (else first)."""
    if recipient:
        at = report.lower().find(recipient)
        if at >= 0:
            window = report[at: at + 1500]
            found = valid_status(window)
            if found and found[0] in "45":
                return found
    for match in STATUS.finditer(report):
        code = ".".join(str(int(g)) for g in match.groups())
        if code[0] in "45":
            return code
    return None


def parse_bounce(msg: Message, text: str) -> Bounce | None:
    """A Bounce when `msg` is a delivery failure (or delay), else None."""
    report_type = mp.param(msg, "report-type") if mp.content_type(msg) == "multipart/report" else ""
    dsn = read_dsn(msg)
    x_failed = [a for v in mp.headers(msg, "X-Failed-Recipients") for a in mp.find_addresses(v)]
    report, returned = _failure_zone(text)

    if dsn is not None or report_type in ("delivery-status", "global-delivery-status"):
        failures = dsn[0] if dsn else []
        if dsn is not None and not failures and dsn[1] and not x_failed:
            return None  # a success notification (delivered / relayed)
        recipients = [r for r, _, _ in failures if r]
        statuses = [s for _, _, s in failures if s]
        delayed = bool(failures) and all(a == "delayed" for _, a, _ in failures)
        status = statuses[0] if statuses else None
        if not recipients:
            recipients = x_failed or _flufl_failures(msg)[1] or _flufl_failures(msg)[0]
        if status is None:
            status = _status_near(report, recipients[0] if recipients else None) or infer_status(report)
        return Bounce(
            hard=hardness(status, report, delayed),
            status=status,
            recipients=_dedupe(recipients),
            original_message_id=original_message_id(msg, returned or text),
            delayed_only=delayed,
            reason="rfc3464",
        )

    if _list_manager_rejection(msg, text):
        return Bounce(hard=True, status=valid_status(report) or infer_status(report), recipients=_dedupe(x_failed),
                      original_message_id=original_message_id(msg, returned), reason="list manager")
    if not looks_like_bounce(msg, text):
        return None
    temporary, permanent = _flufl_failures(msg)
    lowered = report.lower()

    def by_position(addrs: list[str]) -> list[str]:
        return sorted(addrs, key=lambda a: (lowered.find(a) < 0, lowered.find(a)))

    recipients = x_failed or by_position(permanent) or by_position(temporary) or _prose_recipients(msg, report)
    first = recipients[0] if recipients else None
    status = _status_near(report, first) or infer_status(_diagnostic_window(report, first))
    delay_text = mp.header(msg, "Subject") + " " + report[:3000]
    delayed = bool(re.search(r"delay|will (?:be )?retr|still trying", delay_text, re.I) or phrases.find("delay", delay_text)) and not (
        status and status.startswith("5")
    ) and bool(temporary or not permanent)
    return Bounce(
        hard=hardness(status, report, delayed),
        status=status,
        recipients=_dedupe(recipients),
        original_message_id=original_message_id(msg, returned),
        delayed_only=delayed,
        reason="prose",
    )


def _diagnostic_window(report: str, recipient: str | None) -> str:
    if recipient:
        at = report.lower().find(recipient)
        if at >= 0:
            return report[at: at + 1500]
    return report


def _dedupe(items: list[str]) -> list[str]:
    out: list[str] = []
    for item in items:
        if item and item not in out:
            out.append(item)
    return out
