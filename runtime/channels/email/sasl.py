"""Logging in to IMAP and SMTP with what an inbox has: a password, or an OAuth access token.

A token goes by OAUTHBEARER (RFC 7628) where the server offers it, else by
XOAUTH2 (what Microsoft 365 and Gmail document). A token the server rejects
is refreshed once and tried again on a new connection — it may have been
revoked early or expired between the check and the login; a second rejection
is an authentication failure. Nothing here ever formats a token into a message.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from typing import Callable, TypeVar, Union

import imapclient

from runtime.channels.email.config import MailConnectError, explain
from runtime.channels.email.oauth import OAuthError, TokenSource

#: What an inbox logs in with: its password, or the source of its access tokens.
Secret = Union[str, TokenSource]

T = TypeVar("T")

def token_rejected(email: str) -> str:
    return (f"the server rejected a freshly refreshed access token for {email}: check that you signed in with that "
            "account, that IMAP/SMTP access (SMTP AUTH) is enabled for the mailbox, and that no Conditional Access "
            "policy blocks enginy")


@dataclass(frozen=True)
class Bearer:
    """One access token to log in with (never shown)."""

    token: str = field(repr=False)


Credential = Union[str, Bearer]


def logged_in(secret: Secret, open_and_login: Callable[[Credential], T], service: str, email: str) -> T:
    """`open_and_login(credential)` with the password, or with the access token and, when the server
    rejects it ("Authentication failed"), once more on a new connection with a refreshed token
    (servers delay or drop a second login on the same connection)."""
    if isinstance(secret, str):
        return open_and_login(secret)
    try:
        token = secret.access_token()
        try:
            return open_and_login(Bearer(token))
        except MailConnectError as exc:
            if exc.symptom != "Authentication failed":
                raise
        try:
            return open_and_login(Bearer(secret.refresh(rejected=token)))
        except MailConnectError as exc:
            if exc.symptom != "Authentication failed":
                raise
            raise MailConnectError("Authentication failed", token_rejected(email), service) from None
    except OAuthError as exc:
        raise explain(exc, service) from None


def imap_login(client: imapclient.IMAPClient, email: str, credential: Credential) -> None:
    if isinstance(credential, str):
        client.login(email, credential)
    elif b"AUTH=OAUTHBEARER" in {c.upper() for c in client.capabilities()}:
        client.oauthbearer_login(email, credential.token)
    else:
        client.oauth2_login(email, credential.token)


def smtp_login(conn: smtplib.SMTP, email: str, credential: Credential) -> None:
    if isinstance(credential, str):
        conn.login(email, credential)
        return
    offered = (conn.esmtp_features.get("auth") or "").upper().split()
    if "OAUTHBEARER" in offered:
        mechanism, first = "OAUTHBEARER", _oauthbearer(email, credential.token)
    else:
        mechanism, first = "XOAUTH2", _xoauth2(email, credential.token)
    # After a failure the server sends an error challenge; an empty answer ends the exchange (535).
    conn.auth(mechanism, lambda challenge=None: first if challenge is None else "", initial_response_ok=True)


def _xoauth2(email: str, token: str) -> str:
    return f"user={email}\x01auth=Bearer {token}\x01\x01"


def _oauthbearer(email: str, token: str) -> str:
    identity = email.replace("=", "=3D").replace(",", "=2C")
    return f"n,a={identity},\x01auth=Bearer {token}\x01\x01"
