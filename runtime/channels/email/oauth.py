"""OAuth 2.0 for Microsoft 365 and Google inboxes: the providers, the kept grant, fresh access tokens.

Microsoft 365 no longer takes passwords for IMAP/SMTP and Google only app
passwords, so these inboxes authenticate with an access token (XOAUTH2 /
OAUTHBEARER, runtime/channels/email/sasl.py). What is kept is the *grant*:
the refresh token with what is needed to use it (client id, token endpoint,
scopes), as one JSON line in the secret store under the inbox's name
(runtime/secrets.py) — so disconnecting an inbox forgets it like a password,
and nothing of it reaches the database, a log or an error text.

`TokenSource` hands out the access token, refreshing it shortly before it
expires and once more when a server rejects it; a refresh the authorization
server refuses (`invalid_grant`: revoked, password changed, consent withdrawn)
raises `GrantRevoked`, which the drivers turn into "Email disconnected" for the
inbox's leads. Token lifetimes are the authorization server's wall time, not
the workspace's (which a demo or a simulation may run fast), so expiry is read
from `runtime.clock.wall_now`.

The HTTP side is Authlib's httpx client (`authlib.integrations.httpx_client`).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Callable

from runtime.clock import wall_now

PROVIDERS = ("microsoft", "google")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
REFRESH_MARGIN = timedelta(minutes=5)  # refresh this long before the token's end
HTTP_TIMEOUT = 20.0

#: Microsoft 365: IMAP and SMTP on outlook.office.com, and a refresh token (offline_access).
MICROSOFT_SCOPES = ("https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send "
                    "offline_access")
#: Google: the one scope that covers IMAP and SMTP. Google's device flow does not grant it,
#: hence the desktop-app flow with PKCE and a loopback redirect.
GOOGLE_SCOPES = "https://mail.google.com/"


class OAuthError(Exception):
    """A flow or a refresh failed; the message says what the user can do (never a token)."""


class GrantRevoked(OAuthError):
    """The authorization server no longer honours the grant: the inbox must be connected again."""


@dataclass(frozen=True)
class Provider:
    """Where and how to ask one provider for tokens, and its mail servers."""

    name: str
    client_id: str
    scope: str
    token_url: str
    device_url: str | None = None  # RFC 8628 (Microsoft)
    authorize_url: str | None = None  # authorization code + PKCE (Google)
    client_secret: str | None = field(default=None, repr=False)  # Google desktop clients have one (not confidential)
    imap_host: str = ""
    imap_port: int = 993
    smtp_host: str = ""
    smtp_port: int = 465
    tls: str = "implicit"


def microsoft(client_id: str, *, tenant: str = "organizations",
              authority: str = "https://login.microsoftonline.com") -> Provider:
    """Microsoft 365 (Entra ID). `tenant` is a tenant id or domain, or `organizations` (any work account)."""
    base = f"{authority.rstrip('/')}/{tenant}/oauth2/v2.0"
    return Provider("microsoft", client_id, MICROSOFT_SCOPES, token_url=f"{base}/token",
                    device_url=f"{base}/devicecode", authorize_url=f"{base}/authorize",
                    imap_host="outlook.office365.com", imap_port=993,
                    smtp_host="smtp.office365.com", smtp_port=587, tls="starttls")


def google(client_id: str, client_secret: str | None = None, *,
           authorize_url: str = "https://accounts.google.com/o/oauth2/v2/auth",
           token_url: str = "https://oauth2.googleapis.com/token") -> Provider:
    return Provider("google", client_id, GOOGLE_SCOPES, token_url=token_url, authorize_url=authorize_url,
                    client_secret=client_secret, imap_host="imap.gmail.com", imap_port=993,
                    smtp_host="smtp.gmail.com", smtp_port=465, tls="implicit")


@dataclass(frozen=True)
class Grant:
    """What the secret store keeps for an OAuth inbox (one JSON line)."""

    provider: str
    client_id: str
    token_url: str
    scope: str
    refresh_token: str = field(repr=False)
    access_token: str = field(default="", repr=False)
    expires_at: float = 0.0  # POSIX seconds
    client_secret: str | None = field(default=None, repr=False)

    def to_secret(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"))

    @classmethod
    def of_secret(cls, text: str) -> "Grant | None":
        """The grant in a stored secret, None when the secret is a password (an IMAP inbox)."""
        if not text.startswith("{"):
            return None
        try:
            data = json.loads(text)
            return cls(**{k: data[k] for k in cls.__dataclass_fields__ if k in data})
        except (ValueError, TypeError, KeyError):
            return None

    @classmethod
    def of_token(cls, provider: Provider, token: dict, now: datetime) -> "Grant":
        """The grant a flow ended with; a token response without a refresh token cannot be kept."""
        if not token.get("refresh_token"):
            raise OAuthError("the provider granted no refresh token (is offline access allowed for this app?); "
                             "enginy cannot keep sending without one")
        return cls(provider.name, provider.client_id, provider.token_url, provider.scope, token["refresh_token"],
                   token.get("access_token", ""), _expiry(token, now), provider.client_secret)


def _expiry(token: dict, now: datetime) -> float:
    try:
        lifetime = float(token.get("expires_in", 3600))
    except (TypeError, ValueError):
        lifetime = 3600.0
    return now.timestamp() + lifetime


def oauth_client(client_id: str, client_secret: str | None = None, **kwargs):
    """Authlib's httpx client for one OAuth client (public clients authenticate with their id alone)."""
    import warnings

    import authlib.deprecate  # noqa: F401 - it sets its warnings to "always" on import; ours must come after

    with warnings.catch_warnings():
        # Authlib ≥ 1.9 would rather run on the httpx2 fork and says so once; enginy runs on httpx.
        warnings.filterwarnings("ignore", message="The httpx module is deprecated")
        from authlib.integrations.httpx_client import OAuth2Client

    method = "client_secret_post" if client_secret else "none"
    return OAuth2Client(client_id=client_id, client_secret=client_secret, token_endpoint_auth_method=method,
                        timeout=HTTP_TIMEOUT, **kwargs)


def describe(error: str, description: str | None = None) -> str:
    """An OAuth error in the spec's troubleshooting words (identities.md, Microsoft 365).

    `description` comes from the provider and names no token; only its AADSTS code is read."""
    text = (description or "").upper()
    if "AADSTS65001" in text or "AADSTS90094" in text or "AADSTS90008" in text or "CONSENT" in text:
        return ("Approval required: your organization requires admin consent for this app. Click "
                "'Request approval' on the sign-in page, or have an Azure administrator grant tenant-wide admin "
                "consent (Entra Admin Center > Enterprise applications > Permissions > Grant admin consent)")
    if "AADSTS53003" in text or "AADSTS53000" in text or "CONDITIONAL ACCESS" in text:
        return ("Blocked by Conditional Access: a policy of your organization blocks this app. Ask your "
                "administrator to exclude enginy from restrictive Conditional Access policies")
    if error == "access_denied":
        return ("Access denied: the sign-in was declined. If an 'Approval required' screen appeared, click "
                "'Request approval' or ask your IT administrator to grant tenant-wide admin consent")
    if error == "expired_token":
        return "The code expired before it was entered: run the connect command again and enter the new code sooner"
    if error == "invalid_grant":
        return "The sign-in is no longer valid (revoked, password changed or consent withdrawn): connect the inbox again"
    if error in ("invalid_client", "unauthorized_client"):
        return ("The OAuth client id is not accepted by the provider: check --client-id (and --tenant), and that "
                "the app registration allows public client flows")
    if error == "invalid_scope":
        return "The provider refused the mail scopes for this app: check the app registration's API permissions"
    return f"The provider refused the sign-in ({error})"


class TokenSource:
    """Fresh access tokens for one OAuth inbox, shared by its sender and its watcher (thread-safe).

    `load()` / `save(text)` read and write the inbox's secret; a refreshed grant is saved at once,
    so another process (the CLI, a restarted runtime) starts from the newest tokens."""

    def __init__(self, grant: Grant, save: Callable[[str], object], *,
                 now: Callable[[], datetime] = wall_now) -> None:
        self._grant = grant
        self._save = save
        self._now = now
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never a token
        return f"TokenSource({self._grant.provider}, expires_at={self._grant.expires_at:.0f})"

    @property
    def grant(self) -> Grant:
        """The newest grant (after any refresh): what to keep."""
        return self._grant

    def access_token(self) -> str:
        """The current access token, refreshed first when it ends within REFRESH_MARGIN."""
        with self._lock:
            grant = self._grant
            due = datetime.fromtimestamp(grant.expires_at, timezone.utc) - REFRESH_MARGIN
            if grant.access_token and self._now() < due:
                return grant.access_token
            return self._refresh_locked()

    def refresh(self, rejected: str | None = None) -> str:
        """A new access token (after a server rejected `rejected`); if another thread refreshed
        meanwhile, its token is returned instead of refreshing twice."""
        with self._lock:
            if rejected is not None and self._grant.access_token and self._grant.access_token != rejected:
                return self._grant.access_token
            return self._refresh_locked()

    def _refresh_locked(self) -> str:
        from authlib.integrations.base_client import OAuthError as AuthlibError

        grant = self._grant
        now = self._now()
        try:
            with oauth_client(grant.client_id, grant.client_secret, scope=grant.scope) as client:
                token = client.refresh_token(grant.token_url, refresh_token=grant.refresh_token)
        except AuthlibError as exc:
            if exc.error in ("invalid_grant", "interaction_required", "consent_required"):
                raise GrantRevoked(describe(exc.error, exc.description)) from None
            raise OAuthError(describe(exc.error, exc.description)) from None
        except Exception as exc:  # the token endpoint is down or unreachable: try again later
            raise OAuthError(f"cannot reach the token endpoint to refresh the sign-in ({type(exc).__name__})") from None
        if not token.get("access_token"):
            raise OAuthError("the token endpoint answered without an access token")
        self._grant = replace(grant, access_token=token["access_token"], expires_at=_expiry(token, now),
                              refresh_token=token.get("refresh_token") or grant.refresh_token)
        self._save(self._grant.to_secret())
        return self._grant.access_token
