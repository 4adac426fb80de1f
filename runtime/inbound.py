"""What leads do back: acceptances, replies, bounces, out-of-office, delays — fed to the step function.

Any watcher (the sandbox feed, the IMAP watcher, the LinkedIn poller) ends
here with a `Signal` naming the outbox key of the delivery it
answers. One transaction records the activity (the metric contract of
storage/activity_kinds.py), the side facts (accepted invitation, the inbound
message) and steps the lead; a reply stops the lead even while its campaign
is paused. Jobs the step emits (the message after an acceptance) go to the
identity actor after the commit.

The email channel only records what its watcher fetched (and what the
tracking endpoint sees); its effects are applied here too: `apply_mail`
takes the recorded, unapplied messages one transaction each, and an
unsubscribe or complaint ends in `block_contact` whichever way it came.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from runtime.channels.email.store import effect_of
from runtime.leads import CampaignInfo, QueuedJob, advance
from runtime.reply_tags import rule_tags
from sequences.conversation_tags import INTERESTED, OUT_OF_OFFICE
from storage.conversations import add_received, conversation_id, set_tags
from storage.leads import lead_rows, load_campaign
from sequences.step import Accepted, Blocked, Bounced, Delayed, Event, InvitationWithdrawn, OutOfOffice, Replied
from storage import inbound as inbound_db
from storage import linkedin_invitations
from storage import mail as mail_db
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.blocklist import BlockValueError, add_block
from storage.contacts import get_contact
from storage.db import transaction


@dataclass(frozen=True)
class Signal:
    kind: str  # accepted | replied | bounced | out_of_office | delayed | withdrawn
    key: str  # outbox key of the delivery this answers
    at: datetime
    channel: str = "linkedin"
    positive: bool = False
    hard: bool = True
    text: str = ""
    detail: dict | None = None  # kept in the activity record (an out-of-office's return date)
    subject: str | None = None  # an email's, so a reply by hand can thread under it
    message_id: str | None = None  # with its angle brackets


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
    if sig.kind == "delayed":
        until = (sig.detail or {}).get("until")
        return Delayed(until=datetime.fromisoformat(until) if until else None)
    if sig.kind == "withdrawn":
        return InvitationWithdrawn()
    raise ValueError(f"unknown signal {sig.kind!r}")


def apply(db: sqlite_utils.Database, sig: Signal, now: datetime, *,
          info_for=None) -> tuple[int | None, list[QueuedJob]]:
    """Apply one signal (inside the caller's transaction). Returns (campaign id, new jobs)."""
    delivery = inbound_db.answered_delivery(db, sig.key)
    if delivery is None or delivery.enrollment_id is None:
        return None, []
    enrollment_id, campaign_id, identity_id = delivery.enrollment_id, delivery.campaign_id, delivery.identity_id
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
    if sig.kind != "delayed":  # a delay is no milestone: only the lead's wait (and mail_inbound.effect) shows it
        record(db, kind=_KIND[(sig.kind, sig.channel)], now=now, campaign_id=campaign_id,
               enrollment_id=enrollment_id, contact_id=lead["contact_id"], identity_id=identity_id,
               channel=sig.channel, detail={"key": sig.key, "at": iso(sig.at)} | (sig.detail or {}))
    if sig.kind == "accepted":
        provider = lead["linkedin_id"] or lead["linkedin_url"] or ""
        linkedin_invitations.mark_accepted(db, identity_id, provider, sig.at)
    elif sig.kind in ("replied", "out_of_office"):
        _record_message(db, sig, identity_id=identity_id, lead=lead, campaign_id=campaign_id, now=now)
    _, queued = advance(db, info, lead, _event(sig), now, identity_id=identity_id)
    return campaign_id, queued


def _record_message(db: sqlite_utils.Database, sig: Signal, *, identity_id: int, lead: dict, campaign_id: int,
                    now: datetime) -> None:
    """The lead's message in its conversation, tagged by the rules (an out-of-office notice is
    tagged so too: spec FAQ Q3, visible in the tag breakdown, never a reply). The sandbox
    says itself whether its reply is positive (its text is a placeholder)."""
    conv = conversation_id(db, identity_id=identity_id, contact_id=lead["contact_id"], channel=sig.channel,
                           campaign_id=campaign_id, inbox_id=lead["inbox_id"], now=now)
    add_received(db, conv, kind="reply" if sig.kind == "replied" else sig.kind, at=sig.at, body=sig.text,
                 enrollment_id=lead["id"], subject=sig.subject, message_id=sig.message_id)
    tags = rule_tags(sig.text, sig.subject or "") if sig.kind == "replied" else [OUT_OF_OFFICE]
    if sig.positive and INTERESTED not in tags:
        tags.insert(0, INTERESTED)
    set_tags(db, conv, add=tags, now=now, by="sandbox" if sig.positive else "rules")


def apply_mail(db: sqlite_utils.Database, now: datetime, *,
               info_for=None) -> list[tuple[int | None, list[QueuedJob]]]:
    """Apply every recorded-but-unapplied inbound email, one transaction each.

    The message is marked applied in the transaction that applies its effect,
    so a crash applies it later, never twice. Returns (campaign id, queued jobs)
    per applied signal so the runtime can hand new jobs to its actors."""
    results = []
    for mail in mail_db.unapplied(db):
        with transaction(db):
            if not mail_db.is_unapplied(db, mail.id):
                continue  # another process applied it since it was listed
            effect = effect_of(mail)
            received = datetime.fromisoformat(mail.received_at)
            if effect.signal is not None:
                results.append(apply(db, Signal(effect.signal, mail.outbox_key, received, channel="email",
                                                hard=effect.hard, text=effect.text, detail=effect.detail,
                                                subject=mail.subject or None,
                                                message_id=f"<{mail.message_id}>" if mail.message_id else None),
                                         now, info_for=info_for))
            if effect.block is not None:
                block_contact(db, contact_id=mail.contact_id, address=effect.block,
                              reason=f"email {mail.kind} {iso(received)}", now=now)
            mail_db.mark_applied(db, mail.id, effect=effect.label, now=now)
    return results


def block_contact(db: sqlite_utils.Database, *, contact_id: int | None, address: str, reason: str,
                  now: datetime) -> None:
    """Blocklist the address and the contact, and finish every campaign of the contact as Finished / Blocked.

    The effect of an unsubscribe (email or one-click) and of a spam complaint
    (inside the caller's transaction): every campaign's pre-send check then stops them too."""
    if address:
        try:
            add_block(db, "email", address, now=now, reason=reason)
        except BlockValueError:
            pass  # not an address any contact can have: nothing to match it against
    if contact_id is None:
        return
    add_block(db, "lead", str(contact_id), now=now, reason=reason)
    for place in inbound_db.active_enrollments(db, contact_id):
        campaign = load_campaign(db, place.campaign_id)
        leads = lead_rows(db, [place.enrollment_id])
        if campaign is None or not leads:
            continue
        advance(db, CampaignInfo.of(campaign), leads[0], Blocked(), now, identity_id=place.identity_id)


def record_tracking_event(db: sqlite_utils.Database, token: str, kind: str, now: datetime,
                          link_index: int | None = None) -> tuple[bool, str | None]:
    """An open, click or one-click unsubscribe from the tracking endpoint, applied at once.

    Returns (known token, redirect URL for a click): a click goes only to a
    link stored for that token, never an open redirect. An unsubscribe
    blocklists the contact and stops every campaign for it in the same
    transaction — the same effect as an unsubscribe email."""
    tracked = mail_db.tracked_email(db, token)
    if tracked is None:
        return False, None
    url = None
    if kind == "click":
        if link_index is None or not 0 <= link_index < len(tracked.links):
            return False, None
        url = tracked.links[link_index]
    with transaction(db):
        mail_db.add_tracking_event(db, token, kind, now, link_index)
        detail = {"token": token} | ({"url": url} if url else {})
        if kind in ("open", "click") and tracked.enrollment_id is not None:
            record(db, kind=Kind.EMAIL_OPENED if kind == "open" else Kind.EMAIL_CLICKED, now=now,
                   enrollment_id=tracked.enrollment_id, identity_id=tracked.identity_id, channel="email",
                   detail=detail)
        if kind == "unsubscribe":
            contact = get_contact(db, tracked.contact_id) if tracked.contact_id is not None else None
            block_contact(db, contact_id=tracked.contact_id, address=(contact.email if contact else None) or "",
                          reason=f"one-click unsubscribe {iso(now)}", now=now)
    return True, url
