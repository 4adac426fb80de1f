"""Where a LinkedIn gateway API key is kept: the OS keyring, else a 0600 file.

Never in the database, enginy.toml, logs or exception text. The keyring entry
is per workspace and identity; without a usable keyring backend (a headless
server usually has none) the key goes to `<workspace>/.secrets/linkedin-<id>.key`,
created 0600 inside a 0700 folder before anything is written to it.

(The email channel is building a general secrets store; once it lands this
module should delegate to it — the two functions below are the whole surface.)
"""

from __future__ import annotations

import os
from pathlib import Path

SERVICE = "enginy"


def _user(workspace: Path, identity_id: int) -> str:
    return f"{Path(workspace).resolve()}:linkedin-gateway:{identity_id}"


def _file(workspace: Path, identity_id: int) -> Path:
    return Path(workspace) / ".secrets" / f"linkedin-{identity_id}.key"


def _keyring():
    try:
        import keyring
        from keyring.backends import fail

        if isinstance(keyring.get_keyring(), fail.Keyring):
            return None
        return keyring
    except Exception:  # no backend, broken D-Bus …: use the file
        return None


def save_api_key(workspace: Path, identity_id: int, api_key: str) -> str:
    """Store the key; returns where ("keyring" or "file") for the user's information."""
    if not api_key or "\n" in api_key:
        raise ValueError("an API key is one non-empty line")
    kr = _keyring()
    if kr is not None:
        try:
            kr.set_password(SERVICE, _user(workspace, identity_id), api_key)
            _file(workspace, identity_id).unlink(missing_ok=True)
            return "keyring"
        except Exception:
            pass
    path = _file(workspace, identity_id)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    try:
        os.write(fd, api_key.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    return "file"


def load_api_key(workspace: Path, identity_id: int) -> str | None:
    kr = _keyring()
    if kr is not None:
        try:
            value = kr.get_password(SERVICE, _user(workspace, identity_id))
            if value:
                return value
        except Exception:
            pass
    path = _file(workspace, identity_id)
    try:
        return path.read_text().strip() or None
    except FileNotFoundError:
        return None


def delete_api_key(workspace: Path, identity_id: int) -> None:
    kr = _keyring()
    if kr is not None:
        try:
            kr.delete_password(SERVICE, _user(workspace, identity_id))
        except Exception:
            pass
    _file(workspace, identity_id).unlink(missing_ok=True)
