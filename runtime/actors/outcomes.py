"""What became of one job's network call, as the identity actor applies it.

The channel adapters (`linkedin_jobs.py`, `email_jobs.py`) turn a driver's
result or error into one of these; the identity actor applies it the same
way whatever the channel (storage writes, the lane's ledger times, waking the
campaign). So the policy of a channel — which error means "retry later",
which "this lead is in Error", which "the account is gone" — is read in one
place per channel, and the writes in one place for all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sequences.statuses import Substatus


@dataclass(frozen=True)
class Done:
    """The action happened (now, or found already done by a look-up: `reconciled`). `member`: the
    LinkedIn provider id the gateway answered with (a contact known only by its profile URL is
    matched under it later: the pending invitations list names members by provider id)."""

    external_id: str | None
    reconciled: bool = False
    member: str | None = None


@dataclass(frozen=True)
class Requeue:
    """Nothing happened; the job goes back to its lane, which waits until `until`. `cap`: the
    provider said a cap of its own is spent (LinkedIn's weekly invitations): the lane's leads
    then wait for Identity limits naming it, not for an opening."""

    error: str
    until: datetime
    cap: str | None = None


@dataclass(frozen=True)
class DeferLead:
    """Only this lead waits until `until` with `substatus`; the lane goes on (the job is cancelled,
    the lead's step revives it then)."""

    error: str
    until: datetime
    substatus: Substatus


@dataclass(frozen=True)
class FailLead:
    """The lead's step failed: Error with `substatus`, or, with `retry_at`, re-issued then by the
    step function (whose retry budget ends in Error)."""

    error: str
    substatus: Substatus | None
    retry_at: datetime | None = None


@dataclass(frozen=True)
class Unknown:
    """The action may have happened: settle by look-up before any new attempt; waits double from `first_wait`."""

    error: str
    first_wait: timedelta


@dataclass(frozen=True)
class Bounced:
    """The recipient was refused before anything went out: the lead ends as Bounced."""

    error: str


@dataclass(frozen=True)
class LinkedInLost:
    """The identity's LinkedIn account cannot be used: its whole queue stops. Disconnected: the lead
    errors with `substatus` and the account is marked disconnected; restricted: the job waits for
    the user to resume the queue."""

    error: str
    disconnected: bool
    substatus: Substatus | None = None


@dataclass(frozen=True)
class InboxLost:
    """The inbox's credentials no longer work: it is disconnected and its lane stops."""

    error: str


Outcome = Done | Requeue | DeferLead | FailLead | Unknown | Bounced | LinkedInLost | InboxLost
