"""The app's intents that the runtime or the CLI carry out: secrets to forget after a disconnect
or a deletion, and the bulk withdrawal of pending invitations."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.sandbox.world import SandboxWorld
from runtime.secrets import SecretStore, forget_requested
from runtime.service import Service
from storage import secret_purges
from storage.inboxes import DISCONNECT_WARNING, disconnect_inbox, set_connected
from storage.linkedin_invitations import request_withdrawal, withdrawal_requested
from storage.workspace import init_workspace
from tests.support.seed import sandbox_identity
from tests.test_runtime_actors import MON, QUIET, run_for, workspace
from tests.test_sandbox_withdrawals import invitations, waits_for_acceptance


def store(tmp_path) -> SecretStore:
    return SecretStore(tmp_path, backend="file")


def test_disconnect_forgets_the_password_through_the_purge_list(tmp_path) -> None:
    db = workspace(tmp_path, waits_for_acceptance(), leads=2)
    secrets = store(tmp_path)
    name = secret_purges.inbox_secret_name(1)
    secrets.save(name, "hunter2")
    row = disconnect_inbox(db, 1, now=MON, actor="you")
    assert row["email"] == "ana@sandbox.invalid" and "active_leads" in row
    assert db.execute("SELECT connected FROM inboxes WHERE id = 1").fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM activity WHERE kind = 'inbox_disconnected'").fetchone()[0] == 1
    assert secrets.load(name) == "hunter2"  # nothing touched the store yet: the app cannot
    assert forget_requested(db, secrets) == [name]
    assert secrets.load(name) is None and secret_purges.pending_count(db) == 0
    assert "reconnect the same address" in DISCONNECT_WARNING


def test_a_purge_is_dropped_when_its_owner_is_in_use_again(tmp_path) -> None:
    """Reconnected before the purge ran (a new password saved): the secret stays."""
    db = workspace(tmp_path, waits_for_acceptance(), leads=1)
    secrets = store(tmp_path)
    name = secret_purges.inbox_secret_name(1)
    disconnect_inbox(db, 1, now=MON, actor="you")
    secrets.save(name, "new-password")
    set_connected(db, 1, True, now="2026-03-23T10:00:00+00:00")
    assert forget_requested(db, secrets) == []
    assert secrets.load(name) == "new-password" and secret_purges.pending_count(db) == 0


@pytest.mark.trio
async def test_the_apps_bulk_withdrawal_is_carried_out_by_the_runtime(tmp_path, autojump_clock):
    db = workspace(tmp_path, waits_for_acceptance(), leads=3, tz="UTC")
    db.execute("UPDATE identities SET withdraw_enabled = 0")  # only the user's request withdraws
    world = SandboxWorld(5, profile=QUIET)
    await run_for(db, world, MON, 1)
    sent = invitations(world)
    assert len(sent) == 3 and not world.withdrawn
    before = db.execute("SELECT updated_at FROM identities").fetchone()[0]
    assert request_withdrawal(db, 1, now=MON + timedelta(days=1), actor="you") == 3
    assert request_withdrawal(db, 1, now=MON + timedelta(days=1), actor="you") == 0  # asked once
    assert db.execute("SELECT updated_at FROM identities").fetchone()[0] != before  # the actor restarts
    assert len(withdrawal_requested(db, 1)) == 3
    await run_for(db, world, MON + timedelta(days=1), 1)
    assert set(world.withdrawn) == {d.key for d in sent}
    rows = db.execute("SELECT state, withdrawn_by, withdraw_requested_at FROM linkedin_invitations").fetchall()
    assert rows == [("withdrawn", "manual", None)] * 3
    assert withdrawal_requested(db, 1) == []


def test_the_runtime_service_forgets_what_the_app_asked_to(tmp_path) -> None:
    """`enginy run`'s heartbeat holds the secret store the app cannot reach: a disconnect made in the
    app (a purge request in the database) leaves the store within a beat."""
    ws = init_workspace(tmp_path / "ws")
    toml = ws.config_path
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"'))
    db = ws.open_db()
    sandbox_identity(db, "Ana", now=MON, email="ana@example.com")
    secrets = SecretStore(ws.dir, backend="file")
    secrets.save("inbox-1", "hunter2")
    service = Service(db, workspace=ws.dir)
    service._forget_secrets()
    assert secrets.load("inbox-1") == "hunter2"  # nothing asked yet
    disconnect_inbox(db, 1, now=MON, actor="you")
    service._forget_secrets()
    assert secrets.load("inbox-1") is None and secret_purges.pending_count(db) == 0
