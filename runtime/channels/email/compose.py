"""Building the outgoing MIME message of one email step.

multipart/alternative (plain text + HTML) with the identity's signature; no
attachments (spec: never). Threading headers when the step continues a
thread; List-Unsubscribe (mailto, plus one-click HTTPS when tracking has a
public URL); optional open pixel and click rewriting. No `Precedence: bulk`
(it marks mail as bulk and silences the out-of-office replies the spec wants
to see).

List-Unsubscribe is on by default. Trade-off to know: vacation responders
that skip list mail (Dovecot Pigeonhole, Gmail) then send no out-of-office,
so an inbox may turn it off (`InboxAccount.list_unsubscribe`).

Contact fields are hostile input: a name or subject with CR/LF must never add
a header, so every header value is flattened to one line and addresses are
built with `email.headerregistry.Address`, which quotes display names.
"""

from __future__ import annotations

import html as html_mod
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029\x85]+")
_ADDR_SPEC = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9.-]{0,250}[A-Za-z0-9])?$")
_URL = re.compile(r"https?://[^\s<>\"')]+", re.I)
_HREF = re.compile(r"""(<a\b[^>]*?\bhref\s*=\s*)(["'])(https?://[^"']+)\2""", re.I)


# Fold only where lines would exceed RFC 5322's hard limit: some receivers
# mishandle a List-Unsubscribe folded right after its colon.
POLICY = policy.SMTP.clone(max_line_length=998)


class ComposeError(ValueError):
    """The email cannot be built (e.g. an invalid recipient address)."""


@dataclass(frozen=True)
class Tracking:
    """Open/click tracking for one message: `base_url` is the public tracking endpoint."""

    base_url: str
    token: str
    opens: bool = True
    clicks: bool = True


@dataclass
class Composed:
    message: EmailMessage
    links: list[str] = field(default_factory=list)  # click-tracked URLs, by index

    def as_bytes(self) -> bytes:
        return self.message.as_bytes(policy=POLICY)


def one_line(value: str) -> str:
    """A header-safe single line: control characters (CR, LF, NUL …) become spaces."""
    return " ".join(_CONTROL.sub(" ", value or "").split())


def address(addr: str, name: str = "") -> Address:
    addr = (addr or "").strip()
    if not _ADDR_SPEC.match(addr):
        raise ComposeError(f"not a valid email address: {one_line(addr)[:80]!r}")
    local, domain = addr.rsplit("@", 1)
    return Address(display_name=one_line(name)[:200], username=local, domain=domain)


def text_to_html(text: str) -> str:
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    out = []
    for p in paragraphs:
        escaped = html_mod.escape(p)
        escaped = _URL.sub(lambda m: f'<a href="{m.group(0)}">{m.group(0)}</a>', escaped)
        out.append("<p>" + escaped.replace("\n", "<br>\n") + "</p>")
    return "\n".join(out)


def _rewrite_links(html: str, tracking: Tracking, links: list[str]) -> str:
    def repl(m: re.Match) -> str:
        url = html_mod.unescape(m.group(3))
        if url.startswith(tracking.base_url):
            return m.group(0)
        links.append(url)
        tracked = f"{tracking.base_url}/c/{tracking.token}/{len(links) - 1}"
        return f"{m.group(1)}{m.group(2)}{tracked}{m.group(2)}"

    return _HREF.sub(repl, html)


def compose(
    *,
    sender: str,
    sender_name: str,
    to: str,
    to_name: str,
    subject: str,
    text: str,
    html: str,
    message_id: str,
    now: datetime,
    in_reply_to: str | None = None,
    references: list[str] | None = None,
    signature_text: str = "",
    signature_html: str = "",
    unsubscribe_url: str | None = None,
    list_unsubscribe: bool = True,
    tracking: Tracking | None = None,
) -> Composed:
    """The complete message. `message_id` is the one committed before sending."""
    if not message_id.startswith("<") or not message_id.endswith(">") or _CONTROL.search(message_id):
        raise ComposeError("message_id must be a <local@domain> value")
    msg = EmailMessage(policy=POLICY)
    msg["From"] = address(sender, sender_name)
    msg["To"] = address(to, to_name)
    msg["Subject"] = one_line(subject)
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = message_id
    if in_reply_to:
        parent = in_reply_to if in_reply_to.startswith("<") else f"<{in_reply_to}>"
        msg["In-Reply-To"] = one_line(parent)
        chain = [one_line(r if r.startswith("<") else f"<{r}>") for r in (references or [])]
        if parent not in chain:
            chain.append(one_line(parent))
        msg["References"] = " ".join(chain)
    mailto = "mailto:" + sender + "?" + urllib.parse.urlencode({"subject": "unsubscribe", "body": "unsubscribe"}, quote_via=urllib.parse.quote)
    if not list_unsubscribe:
        pass
    elif unsubscribe_url:
        msg["List-Unsubscribe"] = f"<{mailto}>, <{one_line(unsubscribe_url)}>"
        msg["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    else:
        msg["List-Unsubscribe"] = f"<{mailto}>"

    body_text = (text or "").replace("\r\n", "\n").rstrip()
    if signature_text.strip():
        body_text += "\n\n-- \n" + signature_text.replace("\r\n", "\n").strip()
    body_html = html.strip() if html and html.strip() else text_to_html(text or "")
    if signature_html.strip():
        body_html += '\n<div class="signature">' + signature_html.strip() + "</div>"
    elif signature_text.strip():
        body_html += '\n<div class="signature">' + text_to_html(signature_text) + "</div>"

    links: list[str] = []
    if tracking is not None:
        if tracking.clicks:
            body_html = _rewrite_links(body_html, tracking, links)
        if tracking.opens:
            body_html += f'\n<img src="{tracking.base_url}/o/{tracking.token}.gif" width="1" height="1" alt="" style="display:none">'

    msg.set_content(body_text + "\n", subtype="plain", charset="utf-8")
    msg.add_alternative(f"<!DOCTYPE html>\n<html><body>\n{body_html}\n</body></html>\n", subtype="html", charset="utf-8")
    return Composed(msg, links)
