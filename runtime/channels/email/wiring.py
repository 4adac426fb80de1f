"""Plugging real email into the runtime: the SMTP driver of an identity and its inboxes' accounts.

    rt = Runtime(db, workspace=ws_dir, email_factory=lambda ident: smtp_driver(rt, ident, store))

`smtp_driver` serves the identity's connected IMAP/SMTP inboxes (passwords, or
OAuth grants for Google and Microsoft 365, from the secret store; an inbox
without one is treated as disconnected). The watchers and the inbound effects are the runtime's side
(runtime/email_watchers.py): this package never reaches up into the runtime.
"""

from __future__ import annotations

from runtime.channels.email import tracking
from runtime.channels.email.config import InboxSettings
from runtime.channels.email.oauth import PROVIDERS, Grant, TokenSource
from runtime.channels.email.sasl import Secret
from runtime.channels.email.smtp import InboxAccount, SmtpEmail
from runtime.secrets import SecretsError, SecretStore, inbox_secret_name
from storage import outbox
from storage.inboxes import imap_inbox
from storage.records import Inbox


def account_of(inbox: Inbox, identity: dict | None, store: SecretStore) -> InboxAccount | None:
    """The inbox's account, logging in with its password (IMAP) or its OAuth grant (Google,
    Microsoft 365: a token source that saves each refreshed grant back to the store)."""
    if inbox.provider not in ("imap", *PROVIDERS) or not inbox.connected or not inbox.imap_host:
        return None
    secret_name = inbox_secret_name(inbox.id)
    password: Secret | None = store.load(secret_name)
    if not password:
        return None
    if inbox.provider in PROVIDERS:
        grant = Grant.of_secret(password)
        if grant is None:
            return None

        def keep(text: str) -> None:
            try:
                store.save(secret_name, text)
            except SecretsError:  # the refreshed grant still serves this run; the kept one stays valid
                pass

        password = TokenSource(grant, keep)
    name = " ".join(p for p in ((identity or {}).get("first_name"), (identity or {}).get("last_name")) if p)
    return InboxAccount(inbox.id, InboxSettings.of_row(inbox.to_row()), password,
                        sender_name=name or (identity or {}).get("name", ""),
                        signature_text=inbox.signature_text or "", signature_html=inbox.signature_html or "",
                        list_unsubscribe=inbox.list_unsubscribe)


def smtp_driver(rt, identity: dict, store: SecretStore, *, base_url: str = "") -> SmtpEmail:
    """The identity's email driver. Inbox rows are re-read per send: a reconnect or
    disconnect takes effect without restarting the runtime."""
    db = rt.db

    def account_for(inbox_id: int) -> InboxAccount | None:
        inbox = imap_inbox(db, inbox_id, identity["id"])
        return account_of(inbox, identity, store) if inbox is not None else None

    return SmtpEmail(account_for, rt.clock.now,
                     tracking_for=lambda email, key: tracking.tracking_for(db, key.key, base_url=base_url,
                                                                         now=rt.clock.now()),
                     on_tracked_links=lambda t, key, links: tracking.save_links(db, t, links),
                     on_accepted=lambda key: outbox.mark_accepted(db, key.key, rt.clock.now()))
