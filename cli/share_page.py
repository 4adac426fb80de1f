"""The share link's page: where an identity's owner, without access to the workspace, connects their inbox.

Served by `enginy tracking serve` (cli/tracking.py hands it every `/s/…`
path), so a workspace runs one small web server and the link uses its public
`[tracking] base_url`. `GET /s/ID/SECRET` shows a plain form (labels, no
script); `POST` to the same address checks the IMAP login and SMTP AUTH with
the code `enginy inbox connect` uses, then, in one transaction, marks the link
used and saves the inbox (the password goes only to the secret store). The
page never shows a stored secret nor echoes a password, and every string it
did not write itself is HTML-escaped. Unknown links answer 404; used, revoked
and expired ones 410. Time is the workspace's (runtime/clock.py through
storage/timeline.py), the same clock that dated the link.
"""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qs

from storage.share_links import ROUTE

_FORM_MAX_BYTES = 16_384
_HEADERS = {"Referrer-Policy": "no-referrer", "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"}
_REFUSED = {
    "unknown": (404, "Link not found", "This link does not exist. Ask the person who sent it for a new one."),
    "used": (410, "Link already used", "This link has already been used to connect an account; it works only once. "
                                       "Ask the person who sent it for a new one if you need to connect again."),
    "revoked": (410, "Link cancelled", "This link was cancelled by the workspace. Ask for a new one."),
    "expired": (410, "Link expired", "This link has expired (a share link is valid for 24 hours at most). Ask for a new one."),
}
_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font-family:sans-serif;max-width:34em;margin:2em auto;padding:0 1em;line-height:1.4}}
label{{display:block;margin-top:.7em;font-weight:bold}} input,select{{font-size:1em;padding:.3em;width:100%;
box-sizing:border-box}} fieldset{{margin-top:1em}} button{{margin-top:1em;font-size:1em;padding:.4em 1.2em}}
.error{{border:2px solid #a00;padding:.5em;color:#700}}</style></head>
<body><main><h1>{title}</h1>{body}</main></body></html>"""


def page(title: str, body: str) -> bytes:
    """A whole page; `title` is escaped here, `body` must already be safe HTML."""
    return _PAGE.format(title=escape(title), body=body).encode()


def _refused(reason: str) -> tuple[int, bytes]:
    code, title, text = _REFUSED[reason]
    return code, page(title, f"<p>{escape(text)}</p>")


def _field(name: str, label: str, value: str = "", kind: str = "text", extra: str = "") -> str:
    return (f'<label for="{name}">{escape(label)}</label>'
            f'<input id="{name}" name="{name}" type="{kind}" value="{escape(value)}" required {extra}>')


def _form(link: dict[str, Any], identity: str, action: str, given: dict[str, str], error: str | None) -> bytes:
    """The inbox form, filled again with what was given (never the password) after an error."""
    g = {"email": "", "imap_host": "", "imap_port": "993", "smtp_host": "", "smtp_port": "465", "tls": "implicit",
         **given}
    tls = "".join(f'<option value="{value}"{" selected" if g["tls"] == value else ""}>{escape(text)}</option>'
                  for value, text in (("implicit", "SSL/TLS (IMAP 993, SMTP 465)"),
                                      ("starttls", "STARTTLS (IMAP 143, SMTP 587)")))
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    body = (
        f"<p>You were asked to connect your accounts to the sender identity <strong>{escape(identity)}</strong>. "
        f"This link works once and until {escape(link['expires_at'][:16].replace('T', ' '))} UTC. Nobody is shown "
        "your password: it is checked with your mail server and kept only in the workspace's secret store.</p>"
        f'{alert}<form method="post" action="{escape(action)}">'
        "<fieldset><legend>Your inbox (IMAP to read replies, SMTP to send)</legend>"
        + _field("email", "Email address (also the login)", g["email"], "email", 'autocomplete="username"')
        + _field("password", "Password (or app password)", "", "password", 'autocomplete="current-password"')
        + _field("imap_host", "IMAP server", g["imap_host"], extra='placeholder="imap.example.com"')
        + _field("imap_port", "IMAP port", g["imap_port"], "number", 'min="1" max="65535"')
        + _field("smtp_host", "SMTP server", g["smtp_host"], extra='placeholder="smtp.example.com"')
        + _field("smtp_port", "SMTP port", g["smtp_port"], "number", 'min="1" max="65535"')
        + f'<label for="tls">Security</label><select id="tls" name="tls">{tls}</select>'
        + '</fieldset><button type="submit">Check and connect the inbox</button></form>')
    return page("Connect your inbox", body)


def _identity_name(db, identity_id: int) -> str:
    from storage.identities import get_identity

    return get_identity(db, identity_id)["name"]


def _now(db):
    from runtime.clock import wall_now
    from storage.timeline import workspace_time

    return workspace_time(db, wall_now())


def show(db, path: str) -> tuple[int, bytes, dict[str, str]]:
    """GET: the form, or the page saying why the link cannot be used."""
    from storage.share_links import LinkRefused, open_link

    m = ROUTE.match(path)
    try:
        if not m:
            raise LinkRefused("unknown")
        link = open_link(db, int(m.group(1)), m.group(2), _now(db))
    except LinkRefused as exc:
        return (*_refused(exc.reason), _HEADERS)
    return 200, _form(link, _identity_name(db, link["identity_id"]), path, {}, None), _HEADERS


def _given(raw: bytes) -> dict[str, str]:
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    return {k: v[0].strip() if k != "password" else v[0] for k, v in fields.items()}


def submit(workspace, db, path: str, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
    """POST: check the inbox, then use the link and save the inbox in one transaction."""
    from cli.inbox import check_connection
    from cli.output import UserError
    from runtime.channels.email.config import InboxSettings, MailConfigError, check_settings, ssl_context
    from runtime.secrets import SecretsError, SecretStore, inbox_secret_name
    from storage.activity import iso
    from storage.db import transaction
    from storage.inboxes import save_imap_inbox
    from storage.share_links import LinkRefused, open_link, use_link

    m = ROUTE.match(path)
    try:
        if not m:
            raise LinkRefused("unknown")
        link_id, secret = int(m.group(1)), m.group(2)
        link = open_link(db, link_id, secret, _now(db))
    except LinkRefused as exc:
        return (*_refused(exc.reason), _HEADERS)
    given = _given(raw[:_FORM_MAX_BYTES])
    password = given.pop("password", "")
    name = _identity_name(db, link["identity_id"])
    cfg = workspace.config.email

    def again(error: str) -> tuple[int, bytes, dict[str, str]]:
        return 400, _form(link, name, path, given, error), _HEADERS

    try:
        settings = InboxSettings(given.get("email", ""), given.get("imap_host", ""), int(given.get("imap_port") or 0),
                                 given.get("smtp_host", ""), int(given.get("smtp_port") or 0),
                                 given.get("tls", "implicit"), link["ca_file"])
        check_settings(settings, cfg.per_day, cfg.per_hour)
        ssl_context(link["ca_file"])
    except ValueError:
        return again("The ports must be numbers, e.g. 993 and 465.")
    except MailConfigError as exc:
        return again(str(exc).replace("--", ""))
    if not password or "\n" in password or "\r" in password:
        return again("Enter the inbox's password (or app password).")
    try:
        check_connection(settings, password)
    except UserError as exc:
        return again(f"{exc} — nothing was saved; correct the details and try again.")
    store = SecretStore.of(workspace)
    now = _now(db)
    try:
        with transaction(db):
            use_link(db, link_id, secret, now, f"inbox {settings.email}")
            save_imap_inbox(
                db, link["identity_id"], email=settings.email, imap_host=settings.imap_host,
                imap_port=settings.imap_port, smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
                tls=settings.tls, ca_file=settings.ca_file, per_day=cfg.per_day, per_hour=cfg.per_hour,
                list_unsubscribe=True, signature=None, now=iso(now),
                keep_secret=lambda inbox_id: store.save(inbox_secret_name(inbox_id), password))
    except LinkRefused as exc:  # used by another submission meanwhile: nothing of this one was saved
        return (*_refused(exc.reason), _HEADERS)
    except SecretsError as exc:
        return again(f"The workspace could not store the password ({exc}); nothing was saved.")
    body = (f"<p>The inbox <strong>{escape(settings.email)}</strong> is connected to "
            f"<strong>{escape(name)}</strong> (IMAP login and SMTP authentication checked). "
            "This link is now used up; you can close this page.</p>")
    return 200, page("Inbox connected", body), _HEADERS
