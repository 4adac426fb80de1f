"""The share link's page: where an identity's owner, without access to the workspace, connects their inbox
(or their LinkedIn, cli/share_linkedin.py, when the link was made with a gateway).

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
    "expired": (410, "Link expired", "This link has expired (a share link is valid for 24 hours at most). "
                                     "Ask for a new one."),
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


def _form(link: dict[str, Any], identity: str, action: str, given: dict[str, str], error: str | None,
          linkedin_error: str | None = None) -> bytes:
    """The page's forms, filled again with what was given (never a password) after an error: the inbox,
    and LinkedIn when the link has a gateway (its two-step code once the gateway asked for one)."""
    g = {"email": "", "imap_host": "", "imap_port": "993", "smtp_host": "", "smtp_port": "465", "tls": "implicit",
         "username": "", **given}
    tls = "".join(f'<option value="{value}"{" selected" if g["tls"] == value else ""}>{escape(text)}</option>'
                  for value, text in (("implicit", "SSL/TLS (IMAP 993, SMTP 465)"),
                                      ("starttls", "STARTTLS (IMAP 143, SMTP 587)")))
    body = (
        f"<p>You were asked to connect your accounts to the sender identity <strong>{escape(identity)}</strong>. "
        f"This link works once (for one account) and until {escape(link['expires_at'][:16].replace('T', ' '))} "
        "UTC. Nobody is shown your password: it is checked with the service and never displayed again.</p>"
        f'{_alert(error)}<form method="post" action="{escape(action)}"><input type="hidden" name="channel" '
        'value="inbox"><fieldset><legend>Your inbox (IMAP to read replies, SMTP to send)</legend>'
        + _field("email", "Email address (also the login)", g["email"], "email", 'autocomplete="username"')
        + _field("password", "Password (or app password)", "", "password", 'autocomplete="current-password"')
        + _field("imap_host", "IMAP server", g["imap_host"], extra='placeholder="imap.example.com"')
        + _field("imap_port", "IMAP port", g["imap_port"], "number", 'min="1" max="65535"')
        + _field("smtp_host", "SMTP server", g["smtp_host"], extra='placeholder="smtp.example.com"')
        + _field("smtp_port", "SMTP port", g["smtp_port"], "number", 'min="1" max="65535"')
        + f'<label for="tls">Security</label><select id="tls" name="tls">{tls}</select>'
        + '</fieldset><button type="submit">Check and connect the inbox</button></form>')
    if link["gateway_url"]:
        body += f'<h2>Or your LinkedIn</h2>{_alert(linkedin_error)}<form method="post" action="{escape(action)}">'
        if link["linkedin_pending"]:
            body += ('<input type="hidden" name="channel" value="code"><fieldset><legend>LinkedIn two-step '
                     "verification</legend><p>LinkedIn sent you a code (by text message, email or in its app).</p>"
                     + _field("code", "Verification code", "", extra='autocomplete="one-time-code" inputmode="numeric"')
                     + '</fieldset><button type="submit">Confirm the code</button></form>')
        else:
            body += ('<input type="hidden" name="channel" value="linkedin"><fieldset><legend>Your LinkedIn account'
                     "</legend>"
                     + _field("username", "LinkedIn email or phone", g["username"], extra='autocomplete="username"')
                     + _field("li_password", "LinkedIn password", "", "password", 'autocomplete="current-password"')
                     + '</fieldset><button type="submit">Connect LinkedIn</button></form>')
    return page("Connect your accounts", body)


def _alert(error: str | None) -> str:
    return f'<p class="error" role="alert">{escape(error)}</p>' if error else ""


def _identity_name(db, identity_id: int) -> str:
    from storage.identities import get_identity

    return get_identity(db, identity_id)["name"]


def _now(db):
    from runtime.clock import wall_now
    from storage.timeline import workspace_time

    return workspace_time(db, wall_now())


def _link_of(db, path: str) -> tuple[dict[str, Any], str]:
    """The usable link `path` names, and its secret; storage.share_links.LinkRefused says why not."""
    from storage.share_links import LinkRefused, open_link

    m = ROUTE.match(path)
    if not m:
        raise LinkRefused("unknown")
    return open_link(db, int(m.group(1)), m.group(2), _now(db)), m.group(2)


def show(db, path: str) -> tuple[int, bytes, dict[str, str]]:
    """GET: the form, or the page saying why the link cannot be used."""
    from storage.share_links import LinkRefused

    try:
        link, _ = _link_of(db, path)
    except LinkRefused as exc:
        return (*_refused(exc.reason), _HEADERS)
    return 200, _form(link, _identity_name(db, link["identity_id"]), path, {}, None), _HEADERS


def _given(raw: bytes) -> dict[str, str]:
    fields = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True, max_num_fields=20)
    return {k: v[0] if "password" in k else v[0].strip() for k, v in fields.items()}


class _Post:
    """One submission of the page: its link (checked usable), the fields, and how to answer."""

    def __init__(self, workspace, db, path: str, link: dict[str, Any], secret: str, given: dict[str, str]) -> None:
        self.workspace, self.db, self.path, self.link, self.secret = workspace, db, path, link, secret
        self.passwords = {k: given.pop(k) for k in ("password", "li_password") if k in given}
        self.given = given
        self.name = _identity_name(db, link["identity_id"])

    def now(self):
        return _now(self.db)

    def done(self, title: str, body: str) -> tuple[int, bytes, dict[str, str]]:
        """The page after a connection; `body` is safe HTML (escaped by the caller)."""
        return 200, page(title, body), _HEADERS

    def again(self, error: str, *, linkedin: bool = False, status: int = 400) -> tuple[int, bytes, dict[str, str]]:
        """The forms again with `error` above the inbox's (or LinkedIn's) form."""
        from storage.share_links import get_link

        link = get_link(self.db, self.link["id"])  # a LinkedIn login may have moved on to its code
        return status, _form(link, self.name, self.path, self.given, None if linkedin else error,
                          error if linkedin else None), _HEADERS

    def save(self, used_for: str, connect) -> tuple[int, bytes, dict[str, str]] | None:
        """Use the link and `connect()` in one transaction; then forget the link's gateway key.
        None when saved, else the page to answer with."""
        from runtime.secrets import SecretsError, SecretStore, forget_requested
        from storage.db import transaction
        from storage.share_links import LinkRefused, use_link

        try:
            with transaction(self.db):
                use_link(self.db, self.link["id"], self.secret, self.now(), used_for)
                connect()
        except LinkRefused as exc:  # used by another submission meanwhile: nothing of this one was saved
            return (*_refused(exc.reason), _HEADERS)
        except SecretsError as exc:
            return self.again(f"The workspace could not store the secret ({exc}); nothing was saved.")
        try:
            forget_requested(self.db, SecretStore.of(self.workspace))
        except SecretsError:  # kept in the purge list: the runtime forgets it later
            pass
        return None


def submit(workspace, db, path: str, raw: bytes) -> tuple[int, bytes, dict[str, str]]:
    """POST: check the inbox or the LinkedIn login, then use the link and save it in one transaction."""
    from storage.share_links import LinkRefused

    try:
        link, secret = _link_of(db, path)
    except LinkRefused as exc:
        return (*_refused(exc.reason), _HEADERS)
    post = _Post(workspace, db, path, link, secret, _given(raw[:_FORM_MAX_BYTES]))
    channel = post.given.get("channel")
    if channel in ("linkedin", "code") and link["gateway_url"]:
        from cli.share_linkedin import connect_linkedin

        return connect_linkedin(post)
    return _connect_inbox(post)


def _connect_inbox(post: _Post) -> tuple[int, bytes, dict[str, str]]:
    """Check IMAP login and SMTP AUTH (as `enginy inbox connect` does), then save the inbox."""
    from cli.inbox import check_connection
    from cli.output import UserError
    from runtime.channels.email.config import InboxSettings, MailConfigError, check_settings, ssl_context
    from runtime.secrets import SecretStore, inbox_secret_name
    from storage.activity import iso
    from storage.inboxes import save_imap_inbox

    given, ca_file, cfg = post.given, post.link["ca_file"], post.workspace.config.email
    password = post.passwords.get("password", "")
    try:
        settings = InboxSettings(given.get("email", ""), given.get("imap_host", ""), int(given.get("imap_port") or 0),
                                 given.get("smtp_host", ""), int(given.get("smtp_port") or 0),
                                 given.get("tls", "implicit"), ca_file)
        check_settings(settings, cfg.per_day, cfg.per_hour)
        ssl_context(ca_file)
    except ValueError:
        return post.again("The ports must be numbers, e.g. 993 and 465.")
    except MailConfigError as exc:
        return post.again(str(exc).replace("--", ""))
    if not password or "\n" in password or "\r" in password:
        return post.again("Enter the inbox's password (or app password).")
    try:
        check_connection(settings, password)
    except UserError as exc:
        return post.again(f"{exc} — nothing was saved; correct the details and try again.")
    store = SecretStore.of(post.workspace)
    refused = post.save(f"inbox {settings.email}", lambda: save_imap_inbox(
        post.db, post.link["identity_id"], email=settings.email, imap_host=settings.imap_host,
        imap_port=settings.imap_port, smtp_host=settings.smtp_host, smtp_port=settings.smtp_port,
        tls=settings.tls, ca_file=ca_file, per_day=cfg.per_day, per_hour=cfg.per_hour, list_unsubscribe=True,
        signature=None, now=iso(post.now()),
        keep_secret=lambda inbox_id: store.save(inbox_secret_name(inbox_id), password)))
    if refused:
        return refused
    return post.done("Inbox connected", f"<p>The inbox <strong>{escape(settings.email)}</strong> is connected to "
                     f"<strong>{escape(post.name)}</strong> (IMAP login and SMTP authentication checked). "
                     "This link is now used up; you can close this page.</p>")
