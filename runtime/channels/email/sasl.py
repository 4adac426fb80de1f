"""Logging in to IMAP and SMTP with what an inbox has: a password, or an OAuth access token.

A token goes by OAUTHBEARER (RFC 7628) where the server offers it, else by
XOAUTH2 (what Microsoft 365 and Gmail document). A token the server rejects
is refreshed once and tried again on the same connection — it may have been
revoked early or expired between the check and the login; a second rejection
is an authentication failure. Nothing here ever formats a token into a message.
"""

from __future__ import annotations

import smtplib
from typing import Callable, Union

import imapclient
from imapclient.exceptions import LoginError

from runtime.channels.email.config import MailConnectError
from runtime.channels.email.oauth import TokenSource

#: What an inbox logs in with: its password, or the source of its access tokens.
Secret = Union[str, TokenSource]

TOKEN_REJECTED = ("the server rejected a freshly refreshed access token: check that IMAP/SMTP access (SMTP AUTH) is "
                  "enabled for the mailbox, and that no Conditional Access policy blocks enginy")


def imap_login(client: imapclient.IMAPClient, email: str, secret: Secret) -> None:
    if isinstance(secret, str):
        client.login(email, secret)
        return
    offered = {c.upper() for c in client.capabilities()}

    def attempt(token: str) -> None:
        if b"AUTH=OAUTHBEARER" in offered:
            client.oauthbearer_login(email, token)
        else:
            client.oauth2_login(email, token)

    _twice(secret, attempt, LoginError)


def smtp_login(conn: smtplib.SMTP, email: str, secret: Secret) -> None:
    if isinstance(secret, str):
        conn.login(email, secret)
        return
    offered = (conn.esmtp_features.get("auth") or "").upper().split()
    mechanism = "OAUTHBEARER" if "OAUTHBEARER" in offered else "XOAUTH2"

    def attempt(token: str) -> None:
        first = _oauthbearer(email, token) if mechanism == "OAUTHBEARER" else _xoauth2(email, token)
        # After a failure the server sends an error challenge; an empty answer ends the exchange (535).
        conn.auth(mechanism, lambda challenge=None: first if challenge is None else "", initial_response_ok=True)

    _twice(secret, attempt, smtplib.SMTPAuthenticationError)


def _twice(tokens: TokenSource, attempt: Callable[[str], None], rejected: type[Exception]) -> None:
    token = tokens.access_token()
    try:
        attempt(token)
        return
    except rejected:
        pass
    try:
        attempt(tokens.refresh(rejected=token))
    except rejected:
        raise MailConnectError("Authentication failed", TOKEN_REJECTED) from None


def _xoauth2(email: str, token: str) -> str:
    return f"user={email}\x01auth=Bearer {token}\x01\x01"


def _oauthbearer(email: str, token: str) -> str:
    identity = email.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={identity},\x01auth=Bearer {token}\x01\x01"
