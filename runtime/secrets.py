"""Where secrets live: the OS keyring, or an explicitly chosen 0600 file.

Every secret of a workspace goes through `SecretStore`: inbox passwords,
LinkedIn gateway API keys, and later OAuth tokens. Never in the database,
enginy.toml, logs or exception text. `enginy.toml` says which backend
(`[secrets] backend = "keyring" | "file"`); the keyring is the default, and on
a headless server without a keyring backend the user is told to choose the
file backend explicitly rather than having secrets land on disk silently. The
file backend keeps one file per secret, created 0600 inside a 0700 folder
(`[secrets] file`, default `<workspace>/.secrets`) before anything is written
to it, replaced atomically.

Names are short and stable, e.g. `inbox-3`, `linkedin-2`; the keyring entry is
scoped by the workspace's resolved path so two workspaces never share a secret.

LinkedIn API keys used to be kept by a module of their own, in their own
places: the keyring user `<workspace>:linkedin-gateway:<id>`, or, without a
keyring, always the file `<workspace>/.secrets/linkedin-<id>.key`. A key
found there is moved into this store on first use (`load`) and removed from
the old place, so existing workspaces keep working without reconnecting.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from storage import secret_purges
from storage.secret_purges import inbox_secret_name, linkedin_secret_name

__all__ = ["SecretStore", "SecretsError", "forget_requested", "inbox_secret_name", "linkedin_secret_name"]

SERVICE = "enginy"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")
_LINKEDIN = re.compile(r"^linkedin-(\d+)$")


class SecretsError(Exception):
    """The secret cannot be stored or read; the message says what to do (never the secret)."""


def _keyring():
    try:
        import keyring
        from keyring.backends import fail

        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
        return keyring
    except Exception:  # no backend, broken D-Bus …
        return None


class SecretStore:
    def __init__(self, workspace: Path, backend: str = "keyring", folder: str = ".secrets") -> None:
        self.workspace = Path(workspace)
        self.backend = backend
        self.folder = (self.workspace / folder) if not Path(folder).is_absolute() else Path(folder)

    @classmethod
    def of(cls, workspace) -> "SecretStore":
        """The store a `storage.workspace.Workspace` is configured for."""
        return cls(workspace.dir, workspace.config.secrets.backend, workspace.config.secrets.file)

    def _user(self, name: str) -> str:
        return f"{self.workspace.resolve()}:{name}"

    def _path(self, name: str) -> Path:
        return self.folder / f"{name}.secret"

    @staticmethod
    def _check(name: str) -> None:
        if not _NAME.match(name):
            raise ValueError(f"bad secret name {name!r}")

    def save(self, name: str, value: str) -> str:
        """Store `value`; returns where ("keyring" or "file")."""
        self._check(name)
        if not value or "\n" in value or "\r" in value:
            raise SecretsError("a secret (password, API key) is one non-empty line")
        if self.backend == "keyring":
            kr = _keyring()
            if kr is None:
                raise SecretsError(
                    "no OS keyring is available on this machine; to keep passwords and API keys in 0600 files "
                    'instead, set  [secrets] backend = "file"  in enginy.toml'
                )
            try:
                kr.set_password(SERVICE, self._user(name), value)
            except Exception as exc:
                raise SecretsError(f"the OS keyring refused to store the secret ({type(exc).__name__})") from None
            where = "keyring"
        else:
            self._write(self._path(name), value)
            where = "file"
        self._forget_legacy(name)
        return where

    def _write(self, path: Path, value: str) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, value.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)

    def load(self, name: str) -> str | None:
        """The secret, or None when none is stored. A secret still in its pre-store
        place is moved here first (SecretsError when this store cannot take it)."""
        self._check(name)
        value = self._load(name)
        if value is None:
            value = self._adopt_legacy(name)
        return value

    def _load(self, name: str) -> str | None:
        if self.backend == "keyring":
            kr = _keyring()
            if kr is None:
                return None
            try:
                return kr.get_password(SERVICE, self._user(name)) or None
            except Exception:
                return None
        try:
            return self._path(name).read_text().strip() or None
        except (FileNotFoundError, PermissionError):
            return None

    def delete(self, name: str) -> None:
        self._check(name)
        self._delete_entry(self._user(name))
        self._path(name).unlink(missing_ok=True)
        self._forget_legacy(name)

    # -- the places secrets were kept before this store ---------------------------

    def _legacy(self, name: str) -> tuple[str, Path] | None:
        """(keyring user, file) where the old LinkedIn module kept this secret, if it is one of its."""
        match = _LINKEDIN.match(name)
        if match is None:
            return None
        identity_id = match.group(1)
        return (f"{self.workspace.resolve()}:linkedin-gateway:{identity_id}",
                self.workspace / ".secrets" / f"linkedin-{identity_id}.key")

    def _adopt_legacy(self, name: str) -> str | None:
        places = self._legacy(name)
        if places is None:
            return None
        user, path = places
        value = None
        kr = _keyring()
        if kr is not None:
            try:
                value = kr.get_password(SERVICE, user) or None
            except Exception:
                value = None
        if value is None:
            try:
                value = path.read_text().strip() or None
            except (FileNotFoundError, PermissionError):
                return None
        if value is None:
            return None
        try:
            self.save(name, value)  # removes the old places once the new one holds it
        except SecretsError as exc:
            raise SecretsError(f"a secret kept where older versions put it ({path.name} or the keyring) cannot be "
                               f"moved to the secrets store: {exc}") from None
        return value

    def _forget_legacy(self, name: str) -> None:
        places = self._legacy(name)
        if places is not None:
            self._delete_entry(places[0])
            places[1].unlink(missing_ok=True)

    @staticmethod
    def _delete_entry(user: str) -> None:
        kr = _keyring()
        if kr is not None:
            try:
                kr.delete_password(SERVICE, user)
            except Exception:
                pass


def forget_requested(db, store: SecretStore) -> list[str]:
    """Forget the secrets the database asks to (storage/secret_purges.py: a disconnect or a deletion,
    maybe made in the app, which cannot reach this store). Returns the names forgotten."""
    names = secret_purges.due(db)
    for name in names:
        store.delete(name)
    secret_purges.done(db, names)
    return names
