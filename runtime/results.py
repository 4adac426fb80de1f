"""What a finished (or failed) job writes: side records, activity, and the lead's next step.

Called by the identity actor inside the same transaction that settles the
outbox row, so "sent", "recorded" and "the lead moved on" are one commit.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from runtime.actors.linkedin_jobs import lead_ref
from runtime.leads import CampaignInfo, QueuedJob, advance, projected_due
from sequences.statuses import Substatus
from sequences.step import ActionDone, ActionFailed, Event
from storage import linkedin_invitations
from storage.activity import record
from storage.activity_kinds import DONE_KIND
from storage.conversations import add_sent, conversation_id
from storage.activity_kinds import Kind
from storage.leads import lead_rows
from storage.outbox import Claimed
from storage.replies import is_manual

LINKEDIN_MESSAGES = frozenset({"linkedin_message", "inmail", "linkedin_attachment", "voice_message"})


def record_side(db: sqlite_utils.Database, job: Claimed, *, identity_id: int, now: datetime,
                external_id: str | None, member: str | None = None) -> None:
    """The invitation history, conversation and message rows a delivered action implies.

    An invitation is recorded under the member's provider id — the contact's, else the one the
    gateway answered with (`member`) — and its profile URL's slug, never under the URL alone:
    the pending list names members by id, and an unmatched invitation is never withdrawn."""
    if job.action == "connection_request":
        linkedin_invitations.record_sent(
            db, identity_id=identity_id, provider_id=job.linkedin_id or member or job.linkedin_url or "",
            public_id=lead_ref(job).public_id, sent_at=now,
            invitation_id=external_id, note=job.payload.get("note") or None, contact_id=job.contact_id,
            campaign_id=job.campaign_id, enrollment_id=job.enrollment_id, outbox_key=job.key)
        return
    if job.action in LINKEDIN_MESSAGES or job.action == "email":
        channel = "email" if job.action == "email" else "linkedin"
        conv = conversation_id(db, identity_id=identity_id, contact_id=job.contact_id, channel=channel,
                               campaign_id=job.campaign_id, inbox_id=job.inbox_id, now=now)
        body = job.payload.get("text") or "\n".join(job.payload.get("chunks") or ())
        add_sent(db, conv, kind="reply" if is_manual(job.payload) else job.action, at=now,
                 subject=job.payload.get("subject") or None, body=body,
                 message_id=job.message_id or f"<{job.key}@linkedin.enginy>", enrollment_id=job.enrollment_id,
                 in_reply_to=job.payload.get("in_reply_to"))


def settle(db: sqlite_utils.Database, info: CampaignInfo, job: Claimed, event: Event, now: datetime, *,
           identity_id: int, detail: dict | None = None) -> tuple[list[QueuedJob], str | None]:
    """Record the outcome and step the lead (inside the caller's transaction).

    Returns the jobs the step queued and when the lead is next due (`projected_due`,
    None if it does not wait for time), so the caller can tell its campaign actor."""
    if is_manual(job.payload):
        # a reply by hand: the lead's sequence has stopped, so it is logged and steps nothing
        if isinstance(event, ActionDone):
            record(db, kind=Kind.EMAIL_REPLY_SENT if job.channel == "email" else Kind.LINKEDIN_REPLY_SENT, now=now,
                   campaign_id=job.campaign_id, enrollment_id=job.enrollment_id, contact_id=job.contact_id,
                   identity_id=identity_id, channel=job.channel, detail={"key": job.key} | (detail or {}))
        return [], None
    rows = lead_rows(db, [job.enrollment_id])
    if not rows:
        return [], None
    if isinstance(event, ActionDone):
        record(db, kind=DONE_KIND[job.action], now=now, campaign_id=job.campaign_id,
               enrollment_id=job.enrollment_id, contact_id=job.contact_id, identity_id=identity_id,
               node_id=job.node, detail=detail or {}, known=(rows[0]["milestones"], rows[0]["started"]))
    state, queued = advance(db, info, rows[0], event, now, identity_id=identity_id)
    return queued, projected_due(state)


def failed(node: str, substatus: Substatus | None) -> ActionFailed:
    """A failed job as the step function's event; a failure that names no substatus is a System error."""
    return ActionFailed(node=node, substatus=substatus or Substatus.SYSTEM_ERROR)
