"""The servers tests start (Dovecot, Postfix, the contract gateway) stop when the test process is killed.

A killed pytest never runs its fixtures' finalizers; these servers then kept
listening on loopback after a CI timeout. Each test starts the servers from a
separate Python process, kills that process with SIGKILL, and waits for every
server process to be gone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.mailstack import missing_reason

ROOT = Path(__file__).resolve().parents[1]


def alive(pid: int) -> bool:
    """Running (a zombie waiting for its new parent to reap it counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def start_then_kill(script: str) -> tuple[list[str], list[int]]:
    """Run `script` (it prints one line: words, then server pids) and SIGKILL it once they are up."""
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    words = proc.stdout.readline().split()
    pids = [int(w) for w in words if w.isdigit()]
    assert pids and all(alive(p) for p in pids), words
    proc.kill()
    proc.wait()
    proc.stdout.close()
    deadline = time.monotonic() + 20
    while any(alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    return [w for w in words if not w.isdigit()], [p for p in pids if alive(p)]


def test_the_mail_servers_stop_when_the_test_process_is_killed():
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    words, left = start_then_kill(
        "import time\nfrom tests.support.mailstack import start_stack\n"
        "from tests.support.orphans import server_pids\n"
        "s = start_stack()\nprint(s.root, *[q for p in s._procs for q in server_pids(p)], flush=True)\ntime.sleep(600)")
    shutil.rmtree(words[0], ignore_errors=True)
    for pid in left:  # do not leave them behind even when the test fails
        os.kill(pid, 9)
    assert left == []


def test_the_contract_gateway_stops_when_the_test_process_is_killed():
    _, left = start_then_kill(
        "import time\nfrom tests.support.gateway_server import start_gateway\n"
        "from tests.support.orphans import server_pids\n"
        "g = start_gateway()\nprint(*server_pids(g.proc), flush=True)\ntime.sleep(600)")
    for pid in left:
        os.kill(pid, 9)
    assert left == []
