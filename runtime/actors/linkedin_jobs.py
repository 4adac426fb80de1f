"""Performing one LinkedIn job through the identity's driver, and what its errors mean.

The driver does the network call and says, with each error's `disposition`,
what kind of failure it was; this adapter turns that into an `Outcome` the
identity actor applies (see outcomes.py): a cooldown defers only the lead,
a gateway still down after the driver's retries re-issues the lead's step
later, LinkedIn's own cap waits for the next working day, a lost answer is
settled by look-up, and a disconnected or restricted account stops the queue.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

from runtime.actors.outcomes import DeferLead, Done, FailLead, LinkedInLost, Outcome, Requeue, Unknown
from runtime.channels.base import SendKey
from runtime.channels.linkedin.protocol import (Attachment, Disposition, GatewayUnavailable, InvitationCooldown,
                                                LeadRef, LimitReached, LinkedInDriver, LinkedInError)
from sequences.working_hours import WorkingHours
from sequences.model import MOST_REACTED, Reaction
from sequences.statuses import Substatus

GATEWAY_RETRY = timedelta(minutes=30)  # gateway down after the driver's retries: the lead tries again then
COOLDOWN_RETRY = timedelta(days=7)  # LinkedIn refused a re-invite (cooldown): ask again a week later
UNKNOWN_FIRST_WAIT = timedelta(minutes=5)  # the gateway keeps losing answers: look up again after this


def lead_ref(row) -> LeadRef:
    """How the driver finds the lead of an outbox row (a claim record or a loaded row)."""
    url = row["linkedin_url"] if isinstance(row, dict) else row.linkedin_url
    pid = row["linkedin_id"] if isinstance(row, dict) else row.linkedin_id
    slug = url.rstrip("/").rsplit("/", 1)[-1] if url else None
    return LeadRef(provider_id=pid or None, public_id=slug or None)


def _attachment(path: str) -> Attachment:
    p = Path(path) if path else None
    data = p.read_bytes() if p is not None and p.is_file() else b""
    return Attachment(filename=p.name if p else "attachment", content=data)


class LinkedInJobs:
    def __init__(self, driver: LinkedInDriver, hours: WorkingHours, now: Callable[[], datetime]) -> None:
        self.driver = driver
        self.hours = hours
        self.now = now

    async def perform(self, job) -> Outcome:
        try:
            return await self._call(job)
        except LinkedInError as exc:
            return self._failed(exc)

    async def _call(self, job) -> Done:
        """The one network call."""
        p = job.payload
        lead = lead_ref(job)
        key = SendKey(job.key, job.first_attempt_at, job.resumed)
        d = self.driver
        if job.action == "visit_profile":
            prof = await d.visit_profile(lead)
            return Done(prof.provider_id, member=prof.provider_id)
        if job.action == "react_to_post":
            r = p.get("reaction") or "like"
            res = await d.react_to_last_post(lead, None if r == MOST_REACTED else Reaction(r))
            return Done(res.post_id)
        if job.action == "connection_request":
            inv = await d.send_invitation(lead, p.get("note") or None, key)
            return Done(inv.invitation_id, inv.reconciled, member=inv.provider_id)
        if job.action == "linkedin_message":
            sent = await d.send_message(lead, list(p.get("chunks") or ()), key)
        elif job.action == "inmail":
            sent = await d.send_inmail(lead, p.get("subject", ""), p.get("text", ""), key)
        elif job.action == "linkedin_attachment":
            sent = await d.send_attachment(lead, p.get("text") or None, _attachment(p.get("file", "")), key)
        elif job.action == "voice_message":
            sent = await d.send_voice_message(lead, _attachment(p.get("file", "")), key)
        else:
            raise ValueError(f"not a channel action: {job.action}")
        return Done(sent.chat_id, sent.reconciled, member=sent.provider_id)

    def _failed(self, exc: LinkedInError) -> Outcome:
        now = self.now()
        error = str(exc)
        d = exc.disposition
        if d is Disposition.RETRY_LATER:
            if isinstance(exc, InvitationCooldown):
                # this person cannot be invited yet: only this lead waits, the lane goes on
                return DeferLead(error, now + COOLDOWN_RETRY, Substatus.CONNECTION_WITHDRAWN)
            if isinstance(exc, GatewayUnavailable):
                # the driver's own retries are spent: the lead retries later (its attempts are
                # budgeted by the step function, then Error "System error"); the lane goes on
                return FailLead(error, exc.substatus, retry_at=now + max(timedelta(seconds=exc.retry_after or 0),
                                                                          GATEWAY_RETRY))
            if isinstance(exc, LimitReached):
                return Requeue(error, self.hours.next_day_start(now), cap="LinkedIn's own limit for this account")
            return Requeue(error, now + timedelta(seconds=exc.retry_after or 60))
        if d is Disposition.OUTCOME_UNKNOWN:
            # The gateway keeps failing (5xx, lost answers) after the driver's retries.
            return Unknown(error, UNKNOWN_FIRST_WAIT)
        if d is Disposition.LEAD_ERROR:
            return FailLead(error, exc.substatus)
        # the account is disconnected or restricted: the whole LinkedIn queue stops
        return LinkedInLost(error, disconnected=d is Disposition.IDENTITY_DISCONNECTED, substatus=exc.substatus)
