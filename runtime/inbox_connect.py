"""Connecting an inbox, one implementation for every front end: the CLI drives it in a terminal, the app in a screen.

Why here: a connection signs in (OAuth), logs in to IMAP and SMTP and keeps a
secret — network and secret store, the runtime's business. The app never
imports the runtime (only its clock): `cli/tui.py` hands it `InboxConnection`
as a factory, and the screen only calls its steps. Each step blocks (HTTP,
IMAP, SMTP); a front end runs it where blocking is fine (the CLI's main
thread, a worker thread of the app).

    connection = InboxConnection(workspace, identity_id, email, SignInSettings("microsoft", client_id))
    code = connection.device_code()        # Microsoft 365: show code.verification_uri and code.user_code
    token = connection.wait_for_approval(code, sleep=…)   # polls; a raising `sleep` stops it
    inbox_id, kept_in = connection.keep(token)             # IMAP + SMTP checked, grant kept, inbox saved

Google: `with connection.browser_sign_in() as sign_in:` show `sign_in.url`;
`sign_in.redirected(timeout)` is the loopback redirect when it came, and
`connection.keep(sign_in.finish(address))` takes it or a pasted address.

Every refusal is `ConnectError`, one line in the spec's words, never a token.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Callable

from runtime.channels.email import oauth, oauth_flows
from runtime.channels.email.config import (InboxSettings, MailConfigError, MailConnectError, check_settings,
                                           resolve_ca_file, ssl_context)
from runtime.channels.email.oauth_flows import DeviceCode
from runtime.clock import wall_now
from runtime.secrets import SecretsError, SecretStore, inbox_secret_name
from storage.activity import iso
from storage.inboxes import save_imap_inbox

CLIENT_ID_ENV = "ENGINY_OAUTH_CLIENT_ID"
CLIENT_SECRET_ENV = "ENGINY_OAUTH_CLIENT_SECRET"
PROVIDER_NAMES = {"microsoft": "Microsoft 365", "google": "Google"}


class ConnectError(Exception):
    """The inbox cannot be connected; the message says why and what to do, in one line."""


@dataclass(frozen=True)
class SignInSettings:
    """Which provider, and the app registration enginy signs in as (client id, tenant, endpoints)."""

    provider: str  # microsoft | google
    client_id: str | None = None  # else $ENGINY_OAUTH_CLIENT_ID
    client_secret: str | None = None  # Google desktop clients (else $ENGINY_OAUTH_CLIENT_SECRET)
    tenant: str = "organizations"
    authority: str | None = None  # Microsoft sign-in host
    authorize_url: str | None = None  # Google
    token_url: str | None = None


@dataclass(frozen=True)
class Servers:
    """IMAP/SMTP overrides; None takes the provider's own (outlook.office365.com, imap.gmail.com …)."""

    imap_host: str | None = None
    imap_port: int | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    tls: str | None = None
    ca_file: str | None = None


def provider_of(s: SignInSettings) -> oauth.Provider:
    if s.provider not in oauth.PROVIDERS:
        raise ConnectError(f"the provider must be one of {', '.join(oauth.PROVIDERS)} (not {s.provider!r})")
    client_id = s.client_id or os.environ.get(CLIENT_ID_ENV)
    if not client_id:
        raise ConnectError(f"give the OAuth client id of your {PROVIDER_NAMES[s.provider]} app registration "
                           f"(--client-id or {CLIENT_ID_ENV}); see docs/email.md, 'Google and Microsoft 365'")
    if s.provider == "microsoft":
        provider = oauth.microsoft(client_id, tenant=s.tenant or "organizations",
                                   authority=s.authority or "https://login.microsoftonline.com")
        return replace(provider, token_url=s.token_url) if s.token_url else provider
    endpoints = {k: v for k, v in (("authorize_url", s.authorize_url), ("token_url", s.token_url)) if v}
    return oauth.google(client_id, s.client_secret or os.environ.get(CLIENT_SECRET_ENV), **endpoints)


def inbox_settings(email: str, servers: Servers, provider: oauth.Provider | None) -> InboxSettings:
    """The inbox's servers: what was given, else the provider's (an IMAP inbox must give both hosts)."""
    default = provider or oauth.Provider("imap", "", "", "")
    imap_host, smtp_host = servers.imap_host or default.imap_host, servers.smtp_host or default.smtp_host
    if not imap_host or not smtp_host:
        raise ConnectError("--imap-host and --smtp-host are required for an imap inbox "
                           "(or use --provider microsoft|google)")
    try:
        ca_file = resolve_ca_file(servers.ca_file) if servers.ca_file else None
    except MailConfigError as exc:
        raise ConnectError(str(exc)) from None
    return InboxSettings(email.strip(), imap_host.strip(), servers.imap_port or default.imap_port or 993,
                         smtp_host.strip(), servers.smtp_port or default.smtp_port or 465,
                         servers.tls or default.tls or "implicit", ca_file)


def check_connection(settings: InboxSettings, secret) -> None:
    """IMAP login, then SMTP EHLO + AUTH, with a password or a `TokenSource`; ConnectError in the spec's terms."""
    from runtime.channels.email import imap as mail_imap
    from runtime.channels.email.smtp import open_smtp, quit_smtp

    try:
        mail_imap.close(mail_imap.connect(settings, secret))
    except MailConnectError as exc:
        raise ConnectError(f"IMAP {settings.imap_host}:{settings.imap_port}: {exc}") from None
    try:
        quit_smtp(open_smtp(settings, secret))
    except MailConnectError as exc:
        lead = "IMAP connects, but sending fails — " if exc.symptom.startswith("Cannot connect") else ""
        raise ConnectError(f"{lead}SMTP {settings.smtp_host}:{settings.smtp_port}: {exc}") from None


class InboxConnection:
    """One inbox being connected to one identity: checked settings → sign-in → IMAP/SMTP check → kept."""

    def __init__(self, workspace, identity_id: int, email: str, sign_in: SignInSettings | None,
                 servers: Servers = Servers(), *, per_day: int | None = None, per_hour: int | None = None,
                 signature: str | None = None, list_unsubscribe: bool = True) -> None:
        self.workspace = workspace
        self.identity_id = identity_id
        self.provider = provider_of(sign_in) if sign_in is not None else None
        self.settings = inbox_settings(email, servers, self.provider)
        self.per_day = per_day if per_day is not None else workspace.config.email.per_day
        self.per_hour = per_hour if per_hour is not None else workspace.config.email.per_hour
        self.signature = signature
        self.list_unsubscribe = list_unsubscribe
        try:
            check_settings(self.settings, self.per_day, self.per_hour)
            ssl_context(self.settings.ca_file)
        except MailConfigError as exc:
            raise ConnectError(str(exc)) from None

    @classmethod
    def of_fields(cls, workspace, identity_id: int, email: str, provider: str, **fields: str | int | None
                  ) -> "InboxConnection":
        """From a form's fields by name (SignInSettings' and Servers'; empty ones take the defaults): what
        the app calls, as it may not import this module's types."""
        given = {k: v for k, v in fields.items() if v not in (None, "")}
        unknown = set(given) - set(SignInSettings.__dataclass_fields__) - set(Servers.__dataclass_fields__)
        if unknown:
            raise ConnectError(f"unknown connection settings: {', '.join(sorted(unknown))}")
        pick = lambda kind: {k: v for k, v in given.items() if k in kind.__dataclass_fields__}  # noqa: E731
        return cls(workspace, identity_id, email, SignInSettings(provider, **pick(SignInSettings)), Servers(**pick(Servers)))

    # ------------------------------------------------------------ Microsoft 365: the device flow
    def device_code(self) -> DeviceCode:
        try:
            return oauth_flows.start_device(self._oauth())
        except oauth.OAuthError as exc:
            raise self._refused(exc) from None

    def wait_for_approval(self, code: DeviceCode, *, sleep: Callable[[float], None],
                          on_wait: Callable[[int], None] = lambda interval: None) -> dict:
        """Poll at the server's interval until approved (the token response). `sleep(seconds)` waits before
        each poll; whatever it raises (the app's Esc) ends the wait."""
        try:
            return oauth_flows.poll_device(self._oauth(), code, sleep=sleep, on_wait=on_wait)
        except oauth.OAuthError as exc:
            raise self._refused(exc) from None

    # ------------------------------------------------------------ Google: PKCE + loopback or paste-back
    def browser_sign_in(self) -> "BrowserSignIn":
        return BrowserSignIn(self)

    # ------------------------------------------------------------ the end: check and keep
    def keep(self, token_or_password: dict | str) -> tuple[int, str]:
        """Check IMAP and SMTP with the sign-in (or password), then save the inbox and its secret in one
        transaction; returns the inbox id and where the secret is kept ("keyring" or "file")."""
        if isinstance(token_or_password, dict):
            try:
                grant = oauth.Grant.of_token(self._oauth(), token_or_password, wall_now())
            except oauth.OAuthError as exc:
                raise self._refused(exc) from None
            source = oauth.TokenSource(grant, lambda text: None)  # kept below, once the inbox exists
            secret, kept = source, lambda: source.grant.to_secret()
        else:
            secret, kept = token_or_password, lambda: token_or_password
        check_connection(self.settings, secret)
        store = SecretStore.of(self.workspace)

        def keep_secret(inbox_id: int) -> str:
            try:
                return store.save(inbox_secret_name(inbox_id), kept())
            except SecretsError as exc:
                raise ConnectError(str(exc)) from None

        s = self.settings
        db = self.workspace.open_db()  # its own connection: the app calls this from a worker thread
        try:
            return save_imap_inbox(
                db, self.identity_id, email=s.email, imap_host=s.imap_host, imap_port=s.imap_port,
                smtp_host=s.smtp_host, smtp_port=s.smtp_port, tls=s.tls, ca_file=s.ca_file, per_day=self.per_day,
                per_hour=self.per_hour, list_unsubscribe=self.list_unsubscribe, signature=self.signature,
                now=iso(wall_now()), keep_secret=keep_secret,
                provider=self.provider.name if self.provider else "imap")
        finally:
            db.close()

    def _oauth(self) -> oauth.Provider:
        if self.provider is None:
            raise ConnectError("an imap inbox signs in with its password, not by OAuth")
        return self.provider

    def _refused(self, exc: oauth.OAuthError) -> ConnectError:
        return ConnectError(f"{PROVIDER_NAMES[self._oauth().name]} sign-in: {exc}")


class BrowserSignIn:
    """The authorization-code flow with PKCE: a loopback listener open while the user signs in."""

    def __init__(self, connection: InboxConnection) -> None:
        self._connection = connection
        self._receiver = oauth_flows.LoopbackReceiver()
        self.url = ""

    def __enter__(self) -> "BrowserSignIn":
        self._receiver.__enter__()
        try:
            self._request = oauth_flows.start_code(self._connection._oauth(), self._receiver.redirect_uri)
        except oauth.OAuthError as exc:
            self._receiver.__exit__(None, None, None)
            raise self._connection._refused(exc) from None
        self.url = self._request.url
        return self

    def __exit__(self, *exc) -> None:
        self._receiver.__exit__(*exc)

    def redirected(self, timeout: float) -> str | None:
        """The address the local browser was redirected to, if it came within `timeout` seconds."""
        return (self._receiver.got or "") if self._receiver.arrived.wait(timeout) else None

    def finish(self, address: str) -> dict:
        """The token response for the redirected (or pasted) address."""
        try:
            return oauth_flows.finish_code(self._connection._oauth(), self._request, address)
        except oauth.OAuthError as exc:
            raise self._connection._refused(exc) from None
