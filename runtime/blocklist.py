"""Blocking leads by hand (`enginy blocklist add`; the side panel's "Add to blocklist").

The entry goes on the blocklist (storage.blocklist) and, in the same
transaction, every live lead it matches is stepped with `Blocked`, so it shows
Finished · Blocked (campaigns.md) at once, in every campaign. Nothing else is
needed for the runtime to honour it: enrolment skips blocklisted contacts, and
a runtime already running finds the lead finished (and the entry itself) in its
pre-send check (runtime/outbox.py), so a job it had queued is cancelled, not sent.
Removing an entry lets the contact be enrolled again; finished leads stay finished.
"""

from __future__ import annotations

from datetime import datetime

import msgspec
import sqlite_utils

from runtime.leads import CampaignInfo, advance
from storage.leads import lead_rows, load_campaign
from sequences.step import Blocked
from storage.blocklist import add_block, blocked_enrollments
from storage.db import transaction
from storage.records import BlockEntry


class Blocking(msgspec.Struct, kw_only=True):
    entry: BlockEntry
    added: bool  # False: it was on the blocklist already
    finished: int  # live leads finished as Blocked now


def block(db: sqlite_utils.Database, kind: str, value: str, *, now: datetime, reason: str = "") -> Blocking:
    """Blocklist `value` (BlockValueError when it cannot be one of `kind`) and finish the leads it matches."""
    with transaction(db):
        entry, added = add_block(db, kind, value, now=now, reason=reason)
        infos: dict[int, CampaignInfo] = {}
        finished = 0
        for enrollment_id, campaign_id, identity_id in blocked_enrollments(db, kind):
            if campaign_id not in infos:
                infos[campaign_id] = CampaignInfo.of(load_campaign(db, campaign_id))
            rows = lead_rows(db, [enrollment_id])
            advance(db, infos[campaign_id], rows[0], Blocked(), now, identity_id=identity_id)
            finished += 1
    return Blocking(entry=entry, added=added, finished=finished)
