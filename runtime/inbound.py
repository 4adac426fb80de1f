"""What leads do back: acceptances, replies, bounces, out-of-office — fed to the step function.

Any watcher (the sandbox feed, the IMAP watcher, the LinkedIn poller or
webhook) ends here with a `Signal` naming the outbox key of the delivery it
answers. One transaction records the activity (the metric contract of
storage/activity_kinds.py), the side facts (accepted invitation, the inbound
message) and steps the lead; a reply stops the lead even while its campaign
is paused. Jobs the step emits (the message after an acceptance) go to the
identity actor after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from runtime.leads import CampaignInfo, QueuedJob, advance, lead_rows, load_campaign
from runtime.results import conversation_id
from sequences.step import Accepted, Bounced, Event, InvitationWithdrawn, OutOfOffice, Replied
from storage import linkedin_invitations
from storage.activity import iso, record, set_positive
from storage.activity_kinds import Kind


@dataclass(frozen=True)
class Signal:
    kind: str  # accepted | replied | bounced | out_of_office | withdrawn
    key: str  # outbox key of the delivery this answers
    at: datetime
    channel: str = "linkedin"
    positive: bool = False
    hard: bool = True
    text: str = ""


_KIND = {
    ("accepted", "linkedin"): Kind.LINKEDIN_INVITE_ACCEPTED,
    ("replied", "linkedin"): Kind.LINKEDIN_REPLY_RECEIVED,
    ("replied", "email"): Kind.EMAIL_REPLY_RECEIVED,
    ("bounced", "email"): Kind.EMAIL_BOUNCED,
    ("out_of_office", "email"): Kind.EMAIL_AUTO_REPLY_RECEIVED,
    ("withdrawn", "linkedin"): Kind.LINKEDIN_INVITE_WITHDRAWN,
}


def _event(sig: Signal) -> Event:
    if sig.kind == "accepted":
        return Accepted(at=sig.at)
    if sig.kind == "replied":
        return Replied()
    if sig.kind == "bounced":
        return Bounced(hard=sig.hard)
    if sig.kind == "out_of_office":
        return OutOfOffice()
    if sig.kind == "withdrawn":
        return InvitationWithdrawn()
    raise ValueError(f"unknown signal {sig.kind!r}")


def apply(db: sqlite_utils.Database, sig: Signal, now: datetime, *,
          info_for=None) -> tuple[int | None, list[QueuedJob]]:
    """Apply one signal (inside the caller's transaction). Returns (campaign id, new jobs)."""
    row = db.execute("SELECT enrollment_id, campaign_id, identity_id FROM outbox WHERE key = ?", [sig.key]).fetchone()
    if row is None or row[0] is None:
        return None, []
    enrollment_id, campaign_id, identity_id = row
    leads = lead_rows(db, [enrollment_id])
    if not leads:
        return None, []
    lead = leads[0]
    info: CampaignInfo | None = info_for(campaign_id) if info_for else None
    if info is None:
        campaign = load_campaign(db, campaign_id)
        if campaign is None:
            return None, []
        info = CampaignInfo.of(campaign)
    kind = _KIND[(sig.kind, sig.channel)]
    record(db, kind=kind, now=now, campaign_id=campaign_id, enrollment_id=enrollment_id,
           contact_id=lead["contact_id"], identity_id=identity_id, channel=sig.channel,
           detail={"key": sig.key, "at": iso(sig.at)})
    if sig.kind == "accepted":
        provider = lead["linkedin_id"] or lead["linkedin_url"] or ""
        linkedin_invitations.mark_accepted(db, identity_id, provider, sig.at)
    elif sig.kind == "replied":
        conv = conversation_id(db, identity_id=identity_id, contact_id=lead["contact_id"], channel=sig.channel,
                               campaign_id=campaign_id, inbox_id=lead["inbox_id"], now=now)
        db.execute("INSERT INTO messages (conversation_id, direction, kind, at, body, enrollment_id, positive)"
                   " VALUES (?, 'in', 'reply', ?, ?, ?, ?)",
                   [conv, iso(sig.at), sig.text, enrollment_id, int(sig.positive)])
        if sig.positive:
            set_positive(db, enrollment_id=enrollment_id, channel=sig.channel, positive=True, now=now,
                         detail={"by": "sandbox"})
    _, queued = advance(db, info, lead, _event(sig), now, identity_id=identity_id)
    return campaign_id, queued
