"""Which driver an identity's actions go through (the smallest seam between runtime and channels).

LinkedIn: `sandbox` identities use the seeded world; `gateway` identities the
LinkedIn engineer's GatewayDriver with the API key from the secret store.
Email: sandbox inboxes (provider 'sandbox') use the world; real IMAP/SMTP
inboxes use the SMTP driver with the workspace's secret store and tracking
base URL, so `enginy run` sends real mail. An identity with both kinds gets a
router that picks the driver by the email's inbox. An identity whose channel
cannot be driven gets a driver that raises the channel's "disconnected" error,
so its leads show "LinkedIn disconnected" / "Email disconnected" instead of hanging.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from runtime.channels.email.sandbox import SandboxEmail
from runtime.channels.email.protocol import EmailDisconnected
from runtime.channels.linkedin.protocol import AccountDisconnected
from runtime.channels.linkedin.sandbox import SandboxLinkedIn
from storage.identities import connected_inbox_ids, real_inbox_ids

if TYPE_CHECKING:
    from runtime.engine import Runtime


class _Unavailable:
    """Every call fails as 'disconnected' (a channel that is not set up for this identity)."""

    def __init__(self, error: Exception) -> None:
        self._error = error

    def __getattr__(self, name):
        async def fail(*args, **kwargs):
            raise self._error
        return fail


def linkedin_for(rt: "Runtime", identity: dict):
    if identity.get("linkedin_driver") == "sandbox" and rt.world is not None:
        return SandboxLinkedIn(rt.world, identity["id"], rt.clock.now)
    if identity.get("linkedin_driver") == "gateway" and identity.get("gateway_url") and rt.workspace is not None:
        from runtime.channels.linkedin.gateway import GatewayDriver
        from runtime.secrets import SecretsError, SecretStore, linkedin_secret_name
        from storage.workspace import WorkspaceError, open_workspace

        try:
            key = SecretStore.of(open_workspace(rt.workspace)).load(linkedin_secret_name(identity["id"]))
        except (SecretsError, WorkspaceError) as exc:
            return _Unavailable(AccountDisconnected(str(exc), code="not_connected"))
        if key and identity.get("linkedin_account_id"):
            return GatewayDriver(identity["gateway_url"], key, identity["linkedin_account_id"], now=rt.clock.now)
    return _Unavailable(AccountDisconnected("LinkedIn is not connected for this identity", code="not_connected"))


class _ByInbox:
    """Mixed identities (a sandbox inbox and a real one): each send goes through its inbox's driver."""

    def __init__(self, real: set[int], smtp, sandbox) -> None:
        self.real, self.smtp, self.sandbox = real, smtp, sandbox

    async def send(self, email, key):
        return await (self.smtp if email.inbox_id in self.real else self.sandbox).send(email, key)

    async def aclose(self) -> None:
        for d in (self.smtp, self.sandbox):
            if hasattr(d, "aclose") and not isinstance(d, _Unavailable):
                await d.aclose()


def email_for(rt: "Runtime", identity: dict):
    real = real_inbox_ids(rt.db, identity["id"])
    if rt.world is not None:
        sandbox = SandboxEmail(rt.world, identity["id"], rt.clock.now)
    else:
        sandbox = _Unavailable(EmailDisconnected("no email driver for this identity's inboxes yet"))
    if not real:
        return sandbox
    smtp = _smtp_for(rt, identity)
    return smtp if connected_inbox_ids(rt.db, identity["id"]) <= real else _ByInbox(real, smtp, sandbox)


def _smtp_for(rt: "Runtime", identity: dict):
    """The SMTP driver, configured from the workspace (secrets backend, tracking base URL).
    Without a workspace there is no secret store, so no password: Email disconnected."""
    from runtime.channels.email.wiring import smtp_driver
    from runtime.secrets import SecretStore
    from storage.workspace import WorkspaceError, open_workspace

    if rt.workspace is None:
        return _Unavailable(EmailDisconnected("no workspace: the inbox's password cannot be read"))
    try:
        ws = open_workspace(rt.workspace)
    except WorkspaceError as exc:
        return _Unavailable(EmailDisconnected(str(exc)))
    return smtp_driver(rt, identity, SecretStore.of(ws), base_url=ws.config.tracking.base_url or "")
