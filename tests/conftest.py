"""Fixtures every test module shares: the session's one real mail stack and a fresh workspace.

The mail stack (Dovecot + Postfix on loopback, tests/support/mailstack.py) takes
seconds to start, so the whole pytest session shares one: it starts the first
time a test asks for `mail_stack` (a run without such a test never starts it)
and stops when the session ends; if the run is killed instead, the watchdog of
tests/support/orphans.py stops it. Tests stay independent of each other by
making their own mailbox users (`mail_stack.new_user()`), never sharing one.

Every Trio test on the real clock runs under a deadline (`trio.fail_after`): a
test that waits for something that never comes fails with a Trio traceback at
the await that hung, well before the process-wide pytest-timeout. Tests on a
MockClock get none: many of them talk to a real server, and a real wait lets an
autojump clock leap to the next deadline, which would then be this one.
"""

from __future__ import annotations

import functools
from inspect import iscoroutinefunction
from pathlib import Path

import pytest
import trio
import trio.testing

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


TRIO_REAL_LIMIT_S = 120.0


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put every Trio test body under a deadline (see the module docstring)."""
    for item in items:
        if (isinstance(item, pytest.Function) and item.get_closest_marker("trio") is not None
                and iscoroutinefunction(item.obj) and not hasattr(item.obj, "hypothesis")):
            item.obj = _under_deadline(item.obj)


def _under_deadline(test):
    @functools.wraps(test)
    async def bounded(**kwargs):
        if isinstance(trio.lowlevel.current_clock(), trio.testing.MockClock):
            return await test(**kwargs)
        with trio.fail_after(TRIO_REAL_LIMIT_S):
            return await test(**kwargs)
    return bounded
