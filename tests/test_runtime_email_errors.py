"""How the identity actor maps an email driver's two outcome-bearing errors:
a recipient refused at RCPT ends the lead as Finished/Bounced (no retries of a
dead address), and a send whose fate is unknown becomes an `unknown` outbox
row that is settled by the look-up path (the driver is called again with
resumed=True and may reconcile) instead of a blind re-send."""

from __future__ import annotations

from datetime import timedelta

import pytest

from runtime.actors.email_jobs import EmailJobs
from runtime.actors.identity import UNKNOWN_ROUNDS
from runtime.actors.outcomes import Bounced, InboxLost, Requeue, Unknown
from runtime.channels.email.protocol import (EmailDisconnected, EmailOutcomeUnknown, EmailRejected, EmailSent,
                                             EmailTransient)
from runtime.engine import Runtime
from sequences.model import Email, Sequence
from tests.test_runtime_actors import MON, workspace


class ScriptedEmail:
    """Lead 1's address is refused; lead 2's first send loses its answer after DATA."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, bool]] = []

    async def send(self, email, key):
        self.calls.append((email.to, key.resumed))
        if email.to == "l1@example.com":
            raise EmailRejected("550 5.1.1 no such user", status="5.1.1")
        if email.to == "l2@example.com" and not key.resumed:
            raise EmailOutcomeUnknown("connection lost after DATA")
        return EmailSent(message_id=email.message_id, reconciled=key.resumed)

    async def aclose(self) -> None:
        pass


def test_email_outcome_mapping():
    now = MON + timedelta(hours=9)
    jobs = EmailJobs(driver=None, inboxes={}, thread_of=lambda _: None, now=lambda: now)
    assert isinstance(jobs._failed(EmailRejected("550")), Bounced)
    assert jobs._failed(EmailOutcomeUnknown("lost")) == Unknown("lost", timedelta(seconds=60))
    assert isinstance(jobs._failed(EmailDisconnected("auth")), InboxLost)
    assert jobs._failed(EmailTransient("421", retry_after=120)) == Requeue("421", now + timedelta(seconds=120))


async def one_email_to_each(tmp_path, driver, *, leads: int, days: float):
    """A one-email campaign to `leads` leads, sent through `driver` for `days` from Monday 09:00 UTC."""
    db = workspace(tmp_path, Sequence(start="m", nodes=[Email(id="m", subject="Hi", body="hello")]),
                   leads=leads, tz="UTC", per_day=50)
    start = MON + timedelta(hours=9)
    rt = Runtime(db, poll_interval=600.0, email_factory=lambda ident: driver)
    await rt.run(epoch=start, until=start + timedelta(days=days))
    return db


@pytest.mark.trio
async def test_rejected_recipient_bounces_and_unknown_send_is_settled_by_look_up(tmp_path, autojump_clock):
    driver = ScriptedEmail()
    db = await one_email_to_each(tmp_path, driver, leads=3, days=1)

    lead = {r["contact_id"]: r for r in db.query("SELECT * FROM enrollments")}
    assert (lead[1]["status"], lead[1]["substatus"]) == ("finished", "bounced")
    assert db.execute("SELECT state FROM outbox WHERE enrollment_id = ?", [lead[1]["id"]]).fetchone()[0] == "failed"
    assert driver.calls.count(("l1@example.com", False)) == 1  # never tried again
    assert not any(to == "l1@example.com" and resumed for to, resumed in driver.calls)

    # lead 2: one plain attempt, then exactly one resumed attempt (the look-up), then sent as reconciled
    assert [c for c in driver.calls if c[0] == "l2@example.com"] == [("l2@example.com", False), ("l2@example.com", True)]
    row = db.execute("SELECT state FROM outbox WHERE enrollment_id = ?", [lead[2]["id"]]).fetchone()
    assert row[0] == "sent"
    assert lead[2]["status"] == "finished" and lead[3]["status"] == "finished"
    # the unknown attempt kept its ledger entry: one entry for lead 2, not two
    assert db.execute("SELECT COUNT(*) FROM action_ledger a JOIN outbox o ON o.id = a.outbox_id"
                      " WHERE o.enrollment_id = ?", [lead[2]["id"]]).fetchone()[0] == 1


class NeverAnswers:
    """The server takes DATA and never says whether it sent it, every time (look-ups included)."""

    def __init__(self) -> None:
        self.calls = 0

    async def send(self, email, key):
        self.calls += 1
        raise EmailOutcomeUnknown("connection lost after DATA")

    async def aclose(self) -> None:
        pass


@pytest.mark.trio
async def test_an_outcome_that_stays_unknown_ends_in_error_not_a_loop(tmp_path, autojump_clock):
    driver = NeverAnswers()
    db = await one_email_to_each(tmp_path, driver, leads=1, days=3)

    assert driver.calls == UNKNOWN_ROUNDS + 1  # the first try, then a look-up per round, then give up
    lead = next(iter(db.query("SELECT status, substatus FROM enrollments")))
    assert (lead["status"], lead["substatus"]) == ("error", "system_error")
    assert db.execute("SELECT state FROM outbox").fetchone()[0] == "failed"
