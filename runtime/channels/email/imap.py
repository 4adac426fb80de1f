"""Blocking IMAP helpers (run them in a worker thread): connect, Sent folder, search, append.

Shared by the sender (APPEND to Sent, reconciliation by Message-ID), the
watcher and `enginy inbox connect` (validation).
"""

from __future__ import annotations

from datetime import datetime

import imapclient

from runtime.channels.email.config import TIMEOUT, InboxSettings, explain, ssl_context
from runtime.channels.email.sasl import Credential, Secret, imap_login, logged_in


def connect(s: InboxSettings, secret: Secret, *, timeout: float = TIMEOUT) -> imapclient.IMAPClient:
    """A client logged in with the password or an OAuth token. Failures raise MailConnectError in the spec's words."""
    return logged_in(secret, lambda credential: _connect(s, credential, timeout), "IMAP", s.email)


def _connect(s: InboxSettings, credential: Credential, timeout: float) -> imapclient.IMAPClient:
    client = None
    try:
        ctx = ssl_context(s.ca_file)
        if s.tls == "implicit":
            client = imapclient.IMAPClient(s.imap_host, port=s.imap_port, ssl=True, ssl_context=ctx, timeout=timeout)
        else:
            client = imapclient.IMAPClient(s.imap_host, port=s.imap_port, ssl=False, timeout=timeout)
            if s.tls == "starttls":
                client.starttls(ssl_context=ctx)
        imap_login(client, s.email, credential)
        return client
    except Exception as exc:
        if client is not None:
            try:
                client.shutdown()
            except Exception:
                pass
        raise explain(exc, "IMAP") from None


def sent_folder(client: imapclient.IMAPClient) -> str:
    try:
        found = client.find_special_folder(imapclient.SENT)
    except Exception:
        found = None
    if found:
        return found
    for name in ("Sent", "Sent Items", "Sent Messages", "INBOX.Sent", "INBOX/Sent"):
        try:
            if client.folder_exists(name):
                return name
        except Exception:
            continue
    client.create_folder("Sent")
    return "Sent"


def find_message_id(client: imapclient.IMAPClient, folder: str, message_id: str) -> list[int]:
    """UIDs in `folder` whose Message-ID header is `message_id` (with or without <>)."""
    bare = message_id.strip().strip("<>")
    client.select_folder(folder, readonly=True)
    return list(client.search(["HEADER", "Message-ID", bare]))


def append_sent(client: imapclient.IMAPClient, raw: bytes, message_id: str, when: datetime) -> bool:
    """Store a copy in Sent (as mail clients do) unless the provider already did."""
    folder = sent_folder(client)
    if find_message_id(client, folder, message_id):
        return False
    client.append(folder, raw, flags=[imapclient.SEEN], msg_time=when)
    return True


def close(client: imapclient.IMAPClient | None) -> None:
    if client is None:
        return
    try:
        client.logout()
    except Exception:
        try:
            client.shutdown()
        except Exception:
            pass
