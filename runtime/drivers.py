"""Which driver an identity's actions go through (the smallest seam between runtime and channels).

LinkedIn: `sandbox` identities use the seeded world; `gateway` identities the
LinkedIn engineer's GatewayDriver with the API key from the secret store.
Email: sandbox inboxes use the world. An identity whose channel cannot be
driven gets a driver that raises the channel's "disconnected" error, so its
leads show "LinkedIn disconnected" / "Email disconnected" instead of hanging.
(The SMTP driver plugs in here when it lands.)
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from runtime.channels.email_sandbox import EmailDisconnected, SandboxEmail
from runtime.channels.linkedin import AccountDisconnected
from runtime.channels.linkedin_sandbox import SandboxLinkedIn

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
        from runtime.channels.linkedin_gateway import GatewayDriver
        from runtime.channels.linkedin_secrets import load_api_key

        key = load_api_key(Path(rt.workspace), identity["id"])
        if key and identity.get("linkedin_account_id"):
            return GatewayDriver(identity["gateway_url"], key, identity["linkedin_account_id"], now=rt.clock.now)
    return _Unavailable(AccountDisconnected("LinkedIn is not connected for this identity", code="not_connected"))


def email_for(rt: "Runtime", identity: dict):
    if rt.world is not None:
        return SandboxEmail(rt.world, identity["id"], rt.clock.now)
    return _Unavailable(EmailDisconnected("no email driver for this identity's inboxes yet"))
