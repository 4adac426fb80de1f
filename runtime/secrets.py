"""Where passwords live: the OS keyring, or an explicitly chosen 0600 file.

Never in the database, enginy.toml, logs or exception text. `enginy.toml`
says which backend (`[secrets] backend = "keyring" | "file"`); the keyring is
the default, and on a headless server without a keyring backend the user is
told to choose the file backend explicitly rather than having secrets land
on disk silently. The file backend keeps one file per secret, created 0600
inside a 0700 folder (`[secrets] file`, default `<workspace>/.secrets`)
before anything is written to it, replaced atomically.

Names are short and stable, e.g. `inbox-3`; the keyring entry is scoped by
the workspace's resolved path so two workspaces never share a password.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

SERVICE = "enginy"
_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,80}$")


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
            raise SecretsError("a password is one non-empty line")
        if self.backend == "keyring":
            kr = _keyring()
            if kr is None:
                raise SecretsError(
                    "no OS keyring is available on this machine; to keep passwords in a 0600 file "
                    'instead, set  [secrets] backend = "file"  in enginy.toml'
                )
            try:
                kr.set_password(SERVICE, self._user(name), value)
            except Exception as exc:
                raise SecretsError(f"the OS keyring refused to store the password ({type(exc).__name__})") from None
            return "keyring"
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(self.folder, 0o700)
        path = self._path(name)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, value.encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        return "file"

    def load(self, name: str) -> str | None:
        self._check(name)
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
        kr = _keyring()
        if kr is not None:
            try:
                kr.delete_password(SERVICE, self._user(name))
            except Exception:
                pass
        self._path(name).unlink(missing_ok=True)


def inbox_secret_name(inbox_id: int) -> str:
    return f"inbox-{int(inbox_id)}"
