"""Fixtures every test module shares: the session's one real mail stack and a fresh workspace.

The mail stack (Dovecot + Postfix on loopback, tests/support/mailstack.py) takes
seconds to start, so the whole pytest session shares one: it starts the first
time a test asks for `mail_stack` (a run without such a test never starts it)
and stops when the session ends; if the run is killed instead, the watchdog of
tests/support/orphans.py stops it. Tests stay independent of each other by
making their own mailbox users (`mail_stack.new_user()`), never sharing one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from storage.workspace import init_workspace
from tests.support.mailstack import destroy_stack, missing_reason, start_stack


@pytest.fixture(scope="session")
def mail_stack():
    """The session's real mail stack (skips the test where it cannot run)."""
    reason = missing_reason()
    if reason:
        pytest.skip(reason)
    stack = start_stack()
    try:
        yield stack
    finally:
        destroy_stack(stack)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """A new, empty workspace folder of this test's own. A module whose tests need
    more in it (an identity, contacts) overrides `ws` with a fixture that takes
    this one and adds what it needs."""
    return init_workspace(tmp_path / "ws").dir
