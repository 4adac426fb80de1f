"""One secret store for every secret, and LinkedIn keys moved into it from where older versions kept them.

The "today's layout" workspaces below are written exactly as the removed
`runtime/channels/linkedin/secrets.py` wrote them: the keyring entry
(service "enginy", user "<resolved workspace>:linkedin-gateway:<id>"), or,
with no keyring, `<workspace>/.secrets/linkedin-<id>.key`, 0600 in a 0700 folder.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import keyring
import keyring.backend
import pytest
import trio
from keyring.backends import fail

from runtime.channels.linkedin.gateway import GatewayDriver
from runtime.channels.linkedin.protocol import AccountDisconnected
from runtime.drivers import linkedin_for
from runtime.secrets import SERVICE, SecretsError, SecretStore, inbox_secret_name, linkedin_secret_name
from storage.workspace import init_workspace, open_workspace

KEY = "k-live-5f1e2d3c4b5a"


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps entries in a dict (the OS keyrings are not available in tests)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.entries.get((service, username))

    def set_password(self, service, username, password):
        self.entries[(service, username)] = password

    def delete_password(self, service, username):
        if self.entries.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError(username)


@pytest.fixture
def memory_keyring():
    before = keyring.get_keyring()
    ring = MemoryKeyring()
    keyring.set_keyring(ring)
    try:
        yield ring
    finally:
        keyring.set_keyring(before)


@pytest.fixture
def no_keyring():
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        yield
    finally:
        keyring.set_keyring(before)


def workspace(tmp_path: Path, backend: str):
    ws = init_workspace(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text().replace('backend = "keyring"', f'backend = "{backend}"'))
    return open_workspace(ws.dir)


def old_file(ws_dir: Path, identity_id: int) -> Path:
    """What the old module's save_api_key wrote without a keyring."""
    path = ws_dir / ".secrets" / f"linkedin-{identity_id}.key"
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    os.write(fd, KEY.encode())
    os.close(fd)
    return path


def old_keyring_user(ws_dir: Path, identity_id: int) -> str:
    return f"{Path(ws_dir).resolve()}:linkedin-gateway:{identity_id}"


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def gateway_identity(ws, identity_id: int = 1) -> dict:
    return {"id": identity_id, "linkedin_driver": "gateway", "gateway_url": "http://127.0.0.1:9/api/v1",
            "linkedin_account_id": "acc_1"}


class Rt:
    world = None

    def __init__(self, ws) -> None:
        self.workspace = str(ws.dir)

    class clock:
        now = staticmethod(lambda: None)


# -- the old file --------------------------------------------------------------------


def test_old_key_file_moves_into_the_file_store_on_first_use(tmp_path, no_keyring):
    ws = workspace(tmp_path, "file")
    old = old_file(ws.dir, 1)
    driver = linkedin_for(Rt(ws), gateway_identity(ws))  # what `enginy run` does first
    assert isinstance(driver, GatewayDriver)
    new = ws.dir / ".secrets" / "linkedin-1.secret"
    assert not old.exists() and new.read_text() == KEY
    assert mode(new) == 0o600 and mode(new.parent) == 0o700
    assert SecretStore.of(ws).load(linkedin_secret_name(1)) == KEY  # and from now on from its new place


def test_old_key_file_moves_into_the_keyring(tmp_path, memory_keyring):
    ws = workspace(tmp_path, "keyring")
    old = old_file(ws.dir, 2)
    assert SecretStore.of(ws).load(linkedin_secret_name(2)) == KEY
    assert not old.exists()
    assert memory_keyring.entries == {(SERVICE, f"{ws.dir.resolve()}:linkedin-2"): KEY}


def test_old_key_file_without_a_keyring_is_not_silently_kept_in_a_file(tmp_path, no_keyring):
    """The keyring backend with no keyring: the user is told to choose the file backend;
    the key stays where it was (nothing lost) until they do."""
    ws = workspace(tmp_path, "keyring")
    old = old_file(ws.dir, 3)
    with pytest.raises(SecretsError) as info:
        SecretStore.of(ws).load(linkedin_secret_name(3))
    assert 'backend = "file"' in str(info.value) and KEY not in str(info.value)
    assert old.read_text() == KEY and not (ws.dir / ".secrets" / "linkedin-3.secret").exists()
    driver = linkedin_for(Rt(ws), gateway_identity(ws, 3))
    with pytest.raises(AccountDisconnected) as down:  # its leads show "LinkedIn disconnected", with the reason
        trio.run(driver.relations_since, None)
    assert 'backend = "file"' in str(down.value) and KEY not in str(down.value)
    ws.config_path.write_text(ws.config_path.read_text().replace('backend = "keyring"', 'backend = "file"'))
    assert SecretStore.of(open_workspace(ws.dir)).load(linkedin_secret_name(3)) == KEY
    assert not old.exists()


# -- the old keyring entry -----------------------------------------------------------


def test_old_keyring_entry_moves_to_the_store_s_entry(tmp_path, memory_keyring):
    ws = workspace(tmp_path, "keyring")
    memory_keyring.set_password(SERVICE, old_keyring_user(ws.dir, 4), KEY)
    assert isinstance(linkedin_for(Rt(ws), gateway_identity(ws, 4)), GatewayDriver)
    assert memory_keyring.entries == {(SERVICE, f"{ws.dir.resolve()}:linkedin-4"): KEY}


def test_old_keyring_entry_moves_to_the_file_store(tmp_path, memory_keyring):
    ws = workspace(tmp_path, "file")
    memory_keyring.set_password(SERVICE, old_keyring_user(ws.dir, 5), KEY)
    assert SecretStore.of(ws).load(linkedin_secret_name(5)) == KEY
    assert memory_keyring.entries == {}
    assert (ws.dir / ".secrets" / "linkedin-5.secret").read_text() == KEY


def test_saving_or_deleting_a_key_clears_the_old_places(tmp_path, memory_keyring):
    ws = workspace(tmp_path, "file")
    old = old_file(ws.dir, 6)
    memory_keyring.set_password(SERVICE, old_keyring_user(ws.dir, 6), KEY)
    store = SecretStore.of(ws)
    assert store.save(linkedin_secret_name(6), "k-new-key") == "file"  # reconnected: the old key must not linger
    assert not old.exists() and memory_keyring.entries == {}
    assert store.load(linkedin_secret_name(6)) == "k-new-key"
    old_file(ws.dir, 6)
    store.delete(linkedin_secret_name(6))
    assert store.load(linkedin_secret_name(6)) is None and not old.exists()


# -- every secret, one rule -----------------------------------------------------------


@pytest.mark.parametrize("name", [inbox_secret_name(1), linkedin_secret_name(1)])
def test_a_missing_keyring_is_handled_the_same_way_for_every_secret(tmp_path, no_keyring, name):
    ws = workspace(tmp_path, "keyring")
    with pytest.raises(SecretsError) as info:
        SecretStore.of(ws).save(name, KEY)
    assert 'backend = "file"' in str(info.value) and KEY not in str(info.value)
    assert not (ws.dir / ".secrets").exists()  # never a silent file
    assert SecretStore.of(ws).load(name) is None


def test_the_file_folder_setting_is_honoured_for_linkedin_keys(tmp_path, no_keyring):
    ws = workspace(tmp_path, "file")
    ws.config_path.write_text(ws.config_path.read_text().replace('file = ".secrets"', 'file = "vault"'))
    ws = open_workspace(ws.dir)
    old = old_file(ws.dir, 7)
    assert SecretStore.of(ws).load(linkedin_secret_name(7)) == KEY
    new = ws.dir / "vault" / "linkedin-7.secret"
    assert not old.exists() and mode(new) == 0o600 and mode(new.parent) == 0o700
