"""drivers.email_for picks the email driver by the identity's inboxes: sandbox
inboxes go to the world, real IMAP/SMTP inboxes to the SMTP driver (configured
from the workspace), a mix to a router by inbox, and a real inbox with no
workspace (no secret store) fails as Email disconnected instead of hanging."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from runtime.channels.email.sandbox import SandboxEmail
from runtime.channels.email.protocol import EmailDisconnected, OutgoingEmail
from runtime.channels.email.smtp import SmtpEmail
from runtime.channels.base import SendKey
from runtime.clock import Clock
from runtime.drivers import _ByInbox, email_for
from runtime.engine import Runtime
from runtime.sandbox.world import SandboxWorld
from storage.activity import iso
from storage.db import transaction
from storage.identities import create_identity, real_inbox_ids
from storage.workspace import init_workspace

NOW = datetime(2026, 3, 23, 10, 0, tzinfo=timezone.utc)


def runtime_with(tmp_path, providers: list[str], *, workspace=True, world=True) -> Runtime:
    ws = init_workspace(tmp_path / "ws")
    db = ws.open_db()
    at = iso(NOW)
    create_identity(db, "Ana", now=NOW, actor="you")
    with transaction(db):  # storage has no function for an inbox of any provider (cli/inbox.py writes them)
        for i, provider in enumerate(providers, 1):
            db.execute("INSERT INTO inboxes (id, identity_id, email, provider, imap_host, smtp_host, created_at,"
                       " updated_at) VALUES (?, 1, ?, ?, 'mail.example.test', 'mail.example.test', ?, ?)",
                       [i, f"ana{i}@example.test", provider, at, at])
    rt = Runtime(db, world=SandboxWorld(1) if world else None, workspace=str(ws.dir) if workspace else None)
    rt.clock = Clock(NOW)
    return rt


IDENT = {"id": 1, "name": "Ana"}


@pytest.mark.trio
async def test_sandbox_only_identity_uses_the_world(tmp_path):
    rt = runtime_with(tmp_path, ["sandbox"])
    assert real_inbox_ids(rt.db) == set()
    assert isinstance(email_for(rt, IDENT), SandboxEmail)


@pytest.mark.trio
async def test_real_inbox_gets_the_smtp_driver_even_with_a_world(tmp_path):
    rt = runtime_with(tmp_path, ["imap"])  # `enginy run` always opens a world: the inbox decides
    assert isinstance(email_for(rt, IDENT), SmtpEmail)


@pytest.mark.trio
async def test_mixed_identity_routes_by_inbox(tmp_path):
    rt = runtime_with(tmp_path, ["sandbox", "imap"])
    d = email_for(rt, IDENT)
    assert isinstance(d, _ByInbox) and d.real == {2}
    assert isinstance(d.smtp, SmtpEmail) and isinstance(d.sandbox, SandboxEmail)


@pytest.mark.trio
async def test_real_inbox_without_workspace_is_email_disconnected(tmp_path):
    rt = runtime_with(tmp_path, ["imap"], workspace=False)
    with pytest.raises(EmailDisconnected):
        await email_for(rt, IDENT).send(OutgoingEmail(1, "ana1@example.test", "x@example.test", "s", "t"),
                                        SendKey("k", NOW))
