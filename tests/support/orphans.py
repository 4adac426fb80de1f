"""Servers the tests start stop with the test process, however it ends.

pytest stops its servers in fixture finalizers, which never run when the run
is killed (CI's timeout, a SIGTERM, a SIGKILL): Dovecot, Postfix and the
contract gateway were then left listening. `spawn_guarded` starts a server
under a small watchdog that holds a pipe from the test process: when that
process is gone, however it died, the pipe reads EOF and the watchdog stops
the server. (Linux's parent-death signal is not enough: Postfix's master
changes its credentials at start, which clears it.) A SIGTERM to the
watchdog is passed on, so stopping it stops the server as before.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

_WATCHDOG = """
import signal, subprocess, sys, threading
server = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL)
def stop(*_):
    if server.poll() is None:
        server.terminate()
signal.signal(signal.SIGTERM, stop)
threading.Thread(target=lambda: (sys.stdin.buffer.read(), stop()), daemon=True).start()
sys.exit(server.wait())
"""


def spawn_guarded(argv: list[str], **popen) -> subprocess.Popen:
    """`subprocess.Popen(argv, **popen)`, but stopped when this process ends (see the module docstring).
    The Popen returned is the watchdog's; the server is its only child."""
    return subprocess.Popen([sys.executable, "-c", _WATCHDOG, *argv], stdin=subprocess.PIPE, **popen)


def server_pids(proc: subprocess.Popen) -> list[int]:
    """The server's pid (the watchdog's children; none once it has ended)."""
    try:
        with open(f"/proc/{proc.pid}/task/{proc.pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return []


def kill_guarded(proc: subprocess.Popen) -> None:
    """SIGKILL the server and its watchdog (a server that ignored SIGTERM)."""
    for pid in server_pids(proc):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.kill()
    proc.wait(timeout=5)
