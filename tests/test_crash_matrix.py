"""The crash matrix, short: `enginy run` killed at each point of a send on both channels, and at
random, against the real mail servers and the gateway contract server — nothing lost, nothing sent
twice, every cut-off send settled. bench/crash_matrix.py runs the long version (200+ kills)."""

from __future__ import annotations

import pytest

from tests.support.crash_matrix import (EMAIL_POINTS, LINKEDIN_POINTS, Tally, check_email, check_linkedin,
                                        email_workspace, finish, linkedin_workspace, run_matrix)
from tests.support.linkedin_fixtures import *  # noqa: F401,F403  (the gateway fixture)

pytestmark = pytest.mark.timeout(600)


def test_email_sends_survive_a_kill_at_every_point_and_at_random(mail_stack, tmp_path):
    ws, recipients = email_workspace(mail_stack, tmp_path / "ws", leads=4)
    tally = Tally()
    run_matrix(ws, EMAIL_POINTS, per_point=1, randoms=3, seed=1, tally=tally)
    finish(ws)
    check_email(mail_stack, ws, recipients, tally)
    assert set(tally.kills) >= set(EMAIL_POINTS)  # every point was reached and killed there
    assert (tally.steps_expected, tally.lost, tally.duplicated) == (8, 0, 0), tally


def test_linkedin_sends_survive_a_kill_at_every_point_and_at_random(gateway, tmp_path):
    ws = linkedin_workspace(gateway, tmp_path / "ws", leads=6)
    tally = Tally()  # two kills a point (at its 1st and 2nd passage): invitations and InMails both cut off
    run_matrix(ws, LINKEDIN_POINTS, per_point=2, randoms=3, seed=2, tally=tally)
    finish(ws)
    check_linkedin(gateway, ws, 6, tally)
    assert set(tally.kills) >= set(LINKEDIN_POINTS)
    assert (tally.steps_expected, tally.lost, tally.duplicated) == (12, 0, 0), tally
