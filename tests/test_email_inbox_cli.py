"""`enginy inbox connect|list|disconnect|reconnect` against the real loopback mail stack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
pytestmark = pytest.mark.timeout(120)


def enginy(ws: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", "from cli.main import run; run()", "--workspace", str(ws), *args],
                          input=stdin, capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.fixture
def ws(ws):
    """The common empty workspace keeping secrets in files (no keyring here) and one identity, Ana."""
    toml = ws / "enginy.toml"
    toml.write_text(toml.read_text().replace('backend = "keyring"', 'backend = "file"'))
    assert enginy(ws, "identity", "add", "Ana").returncode == 0, "identity add"
    return ws


def connect_args(stack, user, *extra, tls="starttls"):
    return ["inbox", "connect", "Ana", "--email", user.address, "--imap-host", stack.host,
            "--imap-port", str(stack.imap_port), "--smtp-host", stack.host, "--smtp-port", str(stack.smtp_port),
            "--tls", tls, "--ca-file", str(stack.ca_file), "--password-stdin", "--json", *extra]


def test_connect_list_disconnect_reconnect(mail_stack, ws):
    ana = mail_stack.new_user("ana")
    proc = enginy(ws, *connect_args(mail_stack, ana, "--per-day", "40"), stdin=ana.password + "\n")
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["connected"] and out["per_day"] == 40 and out["per_hour"] == 5
    assert out["password_stored_in"] == "file"
    # the password is nowhere but the 0600 secrets file
    for path in [ws / "enginy.toml", ws / "enginy.db", ws / "enginy.db-wal"]:
        if path.exists():
            assert ana.password.encode() not in path.read_bytes(), path
    assert ana.password not in proc.stdout + proc.stderr
    secret = ws / ".secrets" / f"inbox-{out['inbox']}.secret"
    assert oct(os.stat(secret).st_mode & 0o777) == "0o600"

    listed = json.loads(enginy(ws, "inbox", "list", "--json").stdout)
    assert [r["email"] for r in listed] == [ana.address]

    gone = enginy(ws, "inbox", "disconnect", str(out["inbox"]), "--json")
    assert json.loads(gone.stdout)["connected"] is False and not secret.exists()
    again = enginy(ws, "inbox", "reconnect", ana.address, "--password-stdin", "--json", stdin=ana.password)
    assert again.returncode == 0, again.stderr
    assert json.loads(enginy(ws, "inbox", "list", "--json").stdout)[0]["connected"] is True


@pytest.mark.parametrize("mutate,needle", [
    (lambda a: a + ["--per-day", "81"], "--per-day must be between 1 and 80"),
    (lambda a: a + ["--per-hour", "11"], "--per-hour must be between 1 and 10"),
    (lambda a: [x if x != "starttls" else "bogus" for x in a], "--tls must be one of"),
    (lambda a: [x if not x.endswith(".pem") else "/nonexistent/ca.pem" for x in a],
     "--ca-file /nonexistent/ca.pem: no such file"),
])
def test_out_of_range_and_bad_options_are_clear_errors(mail_stack, ws, mutate, needle):
    ana = mail_stack.new_user("ana")
    proc = enginy(ws, *mutate(connect_args(mail_stack, ana)), stdin=ana.password)
    assert proc.returncode == 2 and needle in proc.stderr and "Traceback" not in proc.stderr


def test_failures_are_explained_in_the_spec_terms(mail_stack, ws):
    ana = mail_stack.new_user("ana")
    wrong = enginy(ws, *connect_args(mail_stack, ana), stdin="not-the-password")
    assert wrong.returncode == 2 and "Authentication failed" in wrong.stderr and "not-the-password" not in wrong.stderr
    args = connect_args(mail_stack, ana)
    args[args.index("--imap-port") + 1] = "1"  # nothing listens there
    refused = enginy(ws, *args, stdin=ana.password)
    assert refused.returncode == 2 and "Cannot connect" in refused.stderr
    no_ca = [a for a in connect_args(mail_stack, ana, tls="starttls") if a != str(mail_stack.ca_file) and a != "--ca-file"]
    untrusted = enginy(ws, *no_ca, stdin=ana.password)
    assert untrusted.returncode == 2 and "certificate" in untrusted.stderr
    smtp_bad = connect_args(mail_stack, ana)
    smtp_bad[smtp_bad.index("--smtp-port") + 1] = "1"
    blocked = enginy(ws, *smtp_bad, stdin=ana.password)
    assert blocked.returncode == 2 and "IMAP connects, but sending fails" in blocked.stderr
    plain_remote = connect_args(mail_stack, ana, tls="none")
    plain_remote[plain_remote.index("--smtp-host") + 1] = "smtp.example.com"
    refused_plain = enginy(ws, *plain_remote, stdin=ana.password)
    assert refused_plain.returncode == 2 and "loopback" in refused_plain.stderr
    missing = enginy(ws, *[a for a in connect_args(mail_stack, ana) if a != "--password-stdin"])
    assert missing.returncode == 2 and "--password-stdin" in missing.stderr
    assert json.loads(enginy(ws, "inbox", "list", "--json").stdout) == []
