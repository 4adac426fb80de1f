"""`enginy linkedin …` and connect-linkedin, run as a real process against the contract gateway."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from runtime.clock import wall_now
from storage.db import open_db
from storage.identities import create_identity
from storage.workspace import init_workspace, open_workspace
from tests.support.linkedin_fixtures import *  # noqa: F401,F403
from tests.support.linkedin_fixtures import ACCOUNT, API_KEY, world

ROOT = Path(__file__).resolve().parent.parent


def enginy(ws: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                          input=stdin, capture_output=True, text=True, cwd=ROOT, timeout=60)


@pytest.fixture
def ws(ws):
    """The common empty workspace with one identity, Ida, not connected to LinkedIn yet; headless: no
    keyring, the 0600 file backend chosen explicitly."""
    workspace = open_workspace(ws)
    toml = workspace.config_path
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"'))
    db = workspace.open_db()
    create_identity(db, "Ida", now=wall_now(), actor="you")
    db.conn.close()
    return ws


def connect(ws, gateway, *extra, key=API_KEY):
    return enginy(ws, "linkedin", "connect", "Ida", "--gateway", gateway.url, "--account-id", ACCOUNT,
                  "--api-key-stdin", "--json", *extra, stdin=key + "\n")


def test_connect_existing_account_keeps_the_key_out_of_the_database(ws, gateway):
    r = connect(ws, gateway, "--sales-navigator")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["provider_id"] == "ACoME" and out["premium"] is True and out["sales_navigator"] is True
    db = open_db(ws / "enginy.db")
    row = next(db.query("SELECT * FROM identities WHERE id = 1"))
    assert row["linkedin_driver"] == "gateway" and row["linkedin_connected"] == 1
    assert row["linkedin_account_id"] == ACCOUNT and row["gateway_url"].endswith("/api/v1")
    for f in ws.iterdir():
        if f.is_file():
            assert API_KEY.encode() not in f.read_bytes(), f
    assert API_KEY not in r.stdout + r.stderr
    key_file = ws / ".secrets" / "linkedin-1.secret"  # the workspace's secret store, file backend
    assert key_file.stat().st_mode & 0o777 == 0o600 and key_file.parent.stat().st_mode & 0o777 == 0o700
    assert out["api_key_stored_in"] == "file"
    assert [r["path"] for r in gateway.requests()] == ["/api/v1/users/me"]


def test_connect_without_a_keyring_asks_for_the_file_backend(tmp_path, gateway, monkeypatch):
    """The same rule as inbox passwords: no silent file; nothing is marked connected."""
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    db = init_workspace(tmp_path).open_db()  # the default keyring backend
    create_identity(db, "Ida", now=wall_now(), actor="you")
    r = connect(tmp_path, gateway)
    assert r.returncode == 2 and 'backend = "file"' in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert API_KEY not in r.stdout + r.stderr and not (tmp_path / ".secrets").exists()
    assert next(db.query("SELECT linkedin_connected FROM identities"))["linkedin_connected"] == 0


@pytest.mark.parametrize("args,key,message", [
    ((), "wrong-key-7777", "rejected the API key"),
    (("--account-id", "acc_nope"), API_KEY, "has no account"),
])
def test_connect_failures_are_explained_in_one_line(ws, gateway, args, key, message):
    base = ["linkedin", "connect", "Ida", "--gateway", gateway.url, "--api-key-stdin"]
    r = enginy(ws, *base, *(args or ("--account-id", ACCOUNT)), stdin=key + "\n")
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    assert key not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_connect_disconnected_account_and_unreachable_gateway(ws, gateway):
    gateway.control("account", {"account_id": ACCOUNT, "status": "DISCONNECTED"})
    r = connect(ws, gateway)
    assert r.returncode == 2 and "disconnected" in r.stderr
    r = enginy(ws, "linkedin", "connect", "Ida", "--gateway", "http://127.0.0.1:9", "--account-id", ACCOUNT,
               "--api-key-stdin", stdin=API_KEY + "\n")
    assert r.returncode == 2 and "cannot" in r.stderr and "Traceback" not in r.stderr


def test_connect_user_mistakes(ws, gateway):
    assert "--api-key-stdin" in enginy(ws, "linkedin", "connect", "Ida", "--gateway", gateway.url,
                                       "--account-id", ACCOUNT).stderr
    r = enginy(ws, "linkedin", "connect", "Nobody", "--gateway", gateway.url, "--account-id", ACCOUNT,
               "--api-key-stdin", stdin="k\n")
    assert r.returncode == 2 and "no identity 'Nobody'" in r.stderr and "Ida" in r.stderr
    r = enginy(ws, "linkedin", "connect", "Ida", "--gateway", "ftp://x", "--account-id", ACCOUNT,
               "--api-key-stdin", stdin="k\n")
    assert r.returncode == 2 and "http://" in r.stderr


def test_connect_with_credentials_and_two_step_code(ws, gateway):
    spec = world()
    spec["logins"] = [{"username": "ida@example.com", "password": "s3cret pass", "api_key": API_KEY,
                       "account_id": ACCOUNT, "code": "123456"}]
    gateway.reset(**spec)
    base = ["linkedin", "connect", "Ida", "--gateway", gateway.url, "--username", "ida@example.com",
            "--api-key-stdin", "--password-stdin", "--json"]
    bad = enginy(ws, *base, stdin=f"{API_KEY}\ns3cret pass\n000000\n")
    assert bad.returncode == 2 and "code was not accepted" in bad.stderr
    wrong = enginy(ws, *base, stdin=f"{API_KEY}\nnope\n")
    assert wrong.returncode == 2 and "username or password" in wrong.stderr and "nope" not in wrong.stderr
    ok = enginy(ws, *base, stdin=f"{API_KEY}\ns3cret pass\n123456\n")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["account_id"] == ACCOUNT
    posted = [r["body"] for r in gateway.requests("POST")]
    assert all("password" not in b for b in posted)  # the server does not even record it
    assert posted[-1] == {"provider": "LINKEDIN", "account_id": ACCOUNT, "code": "123456"}


def test_manual_identity(ws, gateway):
    r = enginy(ws, "linkedin", "connect", "Ida", "--manual", "--linkedin-url", "https://www.linkedin.com/in/ida")
    assert r.returncode == 0, r.stderr
    db = open_db(ws / "enginy.db")
    row = next(db.query("SELECT linkedin_driver, linkedin_url FROM identities"))
    assert row == {"linkedin_driver": "manual", "linkedin_url": "https://www.linkedin.com/in/ida"}
    r = enginy(ws, "linkedin", "withdraw", "Ida", "--yes")
    assert r.returncode == 2 and "no LinkedIn gateway connected" in r.stderr


def test_withdraw_older_than_with_confirmation_and_history(ws, gateway):
    assert connect(ws, gateway).returncode == 0
    today = datetime.now(timezone.utc)
    import httpx

    with httpx.Client(base_url=gateway.url + "/api/v1", headers={"X-API-KEY": API_KEY}) as c:
        for pid, age in (("ACoM1", 20), ("ACoM2", 10), ("ACoM3", 1)):
            c.post("/users/invite", json={"provider_id": pid, "account_id": ACCOUNT},
                   headers={"X-Contract-Now": (today - timedelta(days=age)).isoformat()}).raise_for_status()
    r = enginy(ws, "linkedin", "withdraw", "Ida", "--older-than", "7")
    assert r.returncode == 2 and "add --yes" in r.stderr
    assert gateway.requests("DELETE") == []
    r = enginy(ws, "linkedin", "withdraw", "Ida", "--older-than", "7", "--yes", "--json")
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["withdrawn"]) == 2
    assert len(gateway.requests("DELETE")) == 2
    h = json.loads(enginy(ws, "linkedin", "invitations", "Ida", "--json").stdout)["invitations"]
    states = {x["provider_id"]: (x["state"], x["withdrawn_by"]) for x in h}
    assert states == {"ACoM1": ("withdrawn", "manual"), "ACoM2": ("withdrawn", "manual"), "ACoM3": ("pending", None)}
    text = enginy(ws, "linkedin", "invitations", "Ida").stdout
    assert "re-invite after" in text
    r = enginy(ws, "linkedin", "invitations", "Ida", "--state", "bogus")
    assert r.returncode == 2
