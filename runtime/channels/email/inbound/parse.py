"""Defensive reading of inbound mail: whatever arrives, never crash.

Inbound mail is hostile input: truncated MIME, lying charsets, RFC 2047 words
in unknown encodings, raw 8-bit headers, thousands of nested parts, messages
of many megabytes. Everything here returns *something* (possibly empty) and
bounds its work, so the classifier above it can stay simple.

When the standard library itself fails on a message (a header it cannot decode,
a payload it cannot walk), that piece is read as empty and the failure is
logged once per kind, at debug level (`library_failed`): it is the sender's
malformed mail, not news for the user's terminal.
"""

from __future__ import annotations

import codecs
import email
import email.header
import email.parser
import email.policy
import email.utils
import logging
import re
from email.message import Message
from typing import Iterator

# Only the start of a huge message matters for classification: headers and the
# human-readable part of a bounce come first. The rest is never parsed.
MAX_PARSE_BYTES = 2 * 1024 * 1024
MAX_PARTS = 200
MAX_DEPTH = 12
MAX_TEXT = 64 * 1024

_MSGID = re.compile(r"<([^<>\s]{1,500})>")
_ADDR = re.compile(r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250}[A-Za-z0-9])?")


log = logging.getLogger("enginy.mail")
_REPORTED: set[tuple[str, str]] = set()


def library_failed(where: str, exc: BaseException) -> None:
    """The email library raised in `where` on a malformed message: we go on without that piece."""
    key = (where, type(exc).__name__)
    if key not in _REPORTED:
        _REPORTED.add(key)
        log.debug("the email library failed in %s on a malformed message (%s); read without it",
                  where, f"{type(exc).__name__}: {exc}"[:200])


def clean(text: str) -> str:
    """Text safe to print and to JSON-encode (no lone surrogates, no NULs)."""
    if not text:
        return ""
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.replace("\x00", "")


def parse(raw: bytes) -> Message:
    """Parse at most MAX_PARSE_BYTES of `raw` (compat32: the most forgiving)."""
    if len(raw) > MAX_PARSE_BYTES:
        raw = raw[:MAX_PARSE_BYTES]
    # Lone CRs (old Mac mail) confuse the header parser; normalise line ends.
    if b"\r" in raw[:4096] and b"\n" not in raw[:4096]:
        raw = raw.replace(b"\r", b"\n")
    # The stdlib parser recurses once per nested multipart: a hostile message
    # nesting thousands deep would hit the recursion limit. Past a sane depth,
    # keep the headers and treat the body as one opaque text.
    if raw.count(b"boundary=") > MAX_PARTS:
        return headers_only(raw)
    try:
        return email.message_from_bytes(raw, policy=email.policy.compat32)
    except Exception as exc:  # RecursionError on deep nesting, anything else the parser trips on
        library_failed("parse", exc)
        return headers_only(raw)


def headers_only(raw: bytes) -> Message:
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw, headersonly=True)
    try:
        del msg["Content-Type"]  # the body is no longer a tree
    except Exception as exc:
        library_failed("headers_only", exc)
    return msg


def header(msg: Message, name: str) -> str:
    """A header's decoded value ('' when absent or undecodable), one line."""
    try:
        value = msg.get(name)
    except Exception as exc:
        library_failed("header", exc)
        return ""
    if value is None:
        return ""
    return decode_words(str(value))


def headers(msg: Message, name: str) -> list[str]:
    try:
        values = msg.get_all(name) or []
    except Exception as exc:
        library_failed("headers", exc)
        return []
    return [decode_words(str(v)) for v in values]


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating unknown charsets and junk."""
    value = clean(value)
    if "=?" in value:
        try:
            pieces = []
            for chunk, charset in email.header.decode_header(value):
                if isinstance(chunk, bytes):
                    pieces.append(decode_bytes(chunk, charset))
                else:
                    pieces.append(chunk)
            value = "".join(pieces)
        except Exception as exc:
            library_failed("decode_words", exc)
            pass
    return " ".join(clean(value).split())


def decode_bytes(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8", "cp1252", "latin-1"):
        if not candidate:
            continue
        try:
            codecs.lookup(candidate)
            return data.decode(candidate, "replace" if candidate == "latin-1" else "strict")
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def walk(msg: Message) -> Iterator[tuple[int, Message]]:
    """(depth, part) for every part, iteratively and bounded (no recursion limit)."""
    stack: list[tuple[int, Message]] = [(0, msg)]
    seen = 0
    while stack and seen < MAX_PARTS:
        depth, part = stack.pop()
        seen += 1
        yield depth, part
        if depth >= MAX_DEPTH:
            continue
        try:
            payload = part.get_payload()
        except Exception as exc:
            library_failed("walk", exc)
            continue
        if isinstance(payload, list):
            stack.extend((depth + 1, p) for p in reversed(payload) if isinstance(p, Message))


def content_type(part: Message) -> str:
    try:
        return part.get_content_type().lower()
    except Exception as exc:
        library_failed("content_type", exc)
        return "text/plain"


def param(part: Message, name: str) -> str:
    try:
        value = part.get_param(name)
    except Exception as exc:
        library_failed("param", exc)
        return ""
    if isinstance(value, tuple):
        value = email.utils.collapse_rfc2231_value(value)
    return clean(str(value or "")).lower()


def raw_payload(part: Message) -> bytes:
    """The decoded bytes of a non-multipart part, bounded."""
    try:
        if part.is_multipart():
            return b""
        data = part.get_payload(decode=True)
        if data is None:
            text = part.get_payload()
            data = text.encode("utf-8", "surrogateescape") if isinstance(text, str) else b""
    except Exception as exc:
        library_failed("raw_payload", exc)
        return b""
    return data[: MAX_TEXT * 4]


def text_of(part: Message) -> str:
    """A non-multipart part as text, decoded with its charset or a fallback."""
    data = raw_payload(part)
    try:
        charset = part.get_content_charset()
    except Exception as exc:
        library_failed("text_of", exc)
        charset = None
    text = clean(decode_bytes(data, charset))
    return text[:MAX_TEXT]


_TAG = re.compile(r"<[^>]{0,2000}>")
_ENTITY = {"&nbsp;": " ", "&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'"}


def html_to_text(html: str) -> str:
    html = re.sub(r"(?is)<(script|style)\b.*?</\1\s*>", " ", html)
    html = re.sub(r"(?i)<br\s*/?>|</p\s*>|</div\s*>|</tr\s*>", "\n", html)
    text = _TAG.sub(" ", html)
    for entity, char in _ENTITY.items():
        text = text.replace(entity, char)
    return text


def body_text(msg: Message) -> str:
    """The message's readable text: text/plain parts (else HTML as text), in order,
    not descending into attached messages (a bounce's returned copy is not its text)."""
    plain: list[str] = []
    html: list[str] = []
    stack: list[tuple[int, Message]] = [(0, msg)]
    seen = 0
    while stack and seen < MAX_PARTS:
        depth, part = stack.pop()
        seen += 1
        ctype = content_type(part)
        if ctype.startswith("multipart/") and depth < MAX_DEPTH:
            try:
                children = part.get_payload()
            except Exception as exc:
                library_failed("body_text", exc)
                children = []
            if isinstance(children, list):
                stack.extend((depth + 1, p) for p in reversed(children) if isinstance(p, Message))
            elif isinstance(children, str):
                plain.append(clean(children)[:MAX_TEXT])  # a multipart whose boundary was lost
            continue
        if ctype == "text/plain" or (ctype.startswith("text/") and ctype not in ("text/html", "text/rfc822-headers")):
            plain.append(text_of(part))
        elif ctype == "text/html":
            html.append(html_to_text(text_of(part)))
    text = "\n".join(plain) if any(p.strip() for p in plain) else "\n".join(html)
    return text[:MAX_TEXT]


def message_ids(value: str) -> list[str]:
    """All <msg-id>s in a header value, in order, without angle brackets."""
    return [m for m in _MSGID.findall(value or "")]


def first_message_id(value: str) -> str | None:
    ids = message_ids(value)
    if ids:
        return ids[0]
    value = (value or "").strip()
    return value if value and " " not in value and "@" in value and len(value) < 500 else None


def address_of(value: str) -> str:
    """The bare, lower-cased address of a From/To-like header value ('' if none)."""
    try:
        _, addr = email.utils.parseaddr(value or "")
    except Exception as exc:
        library_failed("address_of", exc)
        addr = ""
    if "@" not in addr:
        found = _ADDR.search(value or "")
        addr = found.group(0) if found else ""
    return clean(addr).strip().strip("<>").lower()


def envelope_sender(msg: Message) -> str | None:
    """The SMTP envelope sender as the delivering server recorded it ('' for the
    null sender `<>`, used only by notifications, RFC 5321 §4.5.5), or None when
    the message carries no trace of it (a file saved without Return-Path)."""
    for name in ("Return-Path", "X-Envelope-From", "Envelope-From"):
        value = header(msg, name)
        if value or msg.get(name) is not None:
            return address_of(value) if value.strip() not in ("<>", "") else ""
    unixfrom = msg.get_unixfrom() or ""
    if unixfrom.startswith("From "):
        sender = (unixfrom[5:].split() or [""])[0]
        return "" if sender in ("<>", "MAILER-DAEMON") else address_of(sender)
    return None


def find_addresses(text: str) -> list[str]:
    return [a.lower().rstrip(".") for a in _ADDR.findall(text or "")]
