"""Performing one email job through the identity's email driver, and what its errors mean.

An email goes out from the inbox its lead is on, threaded under the last
email of the lead's sequence when the step continues a thread. The driver's
errors become outcomes (see outcomes.py):

* refused at RCPT (EmailRejected): nothing was sent and nothing ever will be,
  so the lead ends as Bounced now instead of retrying an address that does
  not exist;
* DATA went out but no answer came (EmailOutcomeUnknown): settle by look-up
  in Sent before any new attempt — a blind re-send could mail the lead twice;
* the inbox cannot be used (EmailDisconnected): the inbox is disconnected;
* anything else is transient: the job waits for the server's back-off.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from runtime.actors.outcomes import Bounced, Done, InboxLost, Outcome, Requeue, Unknown
from runtime.channels.base import SendKey
from runtime.channels.email.protocol import (EmailDisconnected, EmailError, EmailOutcomeUnknown, EmailRejected,
                                             OutgoingEmail)

DEFAULT_RETRY_S = 60


class EmailJobs:
    def __init__(self, driver, inboxes: dict[int, dict], thread_of: Callable[[int], str | None],
                 now: Callable[[], datetime]) -> None:
        self.driver = driver
        self.inboxes = inboxes  # the identity's connected inboxes, by id
        self.thread_of = thread_of  # an enrollment's last sent Message-ID
        self.now = now

    async def perform(self, job) -> Outcome:
        try:
            inbox = self.inboxes.get(job.inbox_id)
            if inbox is None:
                raise EmailDisconnected("the inbox that started this conversation is not connected")
            p = job.payload
            if p.get("manual"):  # a reply by hand threads under the lead's message it answers
                thread = p.get("in_reply_to")
            else:
                thread = self.thread_of(job.enrollment_id) if p.get("thread") else None
            sent = await self.driver.send(OutgoingEmail(
                inbox_id=inbox["id"], sender=inbox["email"], to=job.email or "", subject=p.get("subject", ""),
                text=p.get("text", ""), html=p.get("html", ""), message_id=job.message_id or "",
                in_reply_to=thread, references=tuple(p.get("references") or ()) if p.get("manual") else ()), SendKey(job.key, job.first_attempt_at, job.resumed, job.accepted))
        except EmailError as exc:
            return self._failed(exc)
        return Done(sent.message_id, sent.reconciled)

    def _failed(self, exc: EmailError) -> Outcome:
        retry = timedelta(seconds=exc.retry_after or DEFAULT_RETRY_S)
        if isinstance(exc, EmailRejected):
            return Bounced(str(exc))
        if isinstance(exc, EmailOutcomeUnknown):
            return Unknown(str(exc), retry)
        if isinstance(exc, EmailDisconnected):
            return InboxLost(str(exc))
        return Requeue(str(exc), self.now() + retry)
