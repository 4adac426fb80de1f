"""Open/click tracking and one-click unsubscribe, the channel's side: the token and the pixel.

Each tracked email carries a random token, committed with the message before
it is sent (`tracking_for`), and the links a click may go to
(`save_links`). What comes back through `enginy tracking serve` is applied by
`runtime.inbound.record_tracking_event`, where an unsubscribe has the same
effect as an unsubscribe email.
"""

from __future__ import annotations

import secrets as _random
from datetime import datetime

import sqlite_utils

from runtime.channels.email.compose import Tracking
from storage import mail as mail_db

# The smallest transparent GIF.
PIXEL = (b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00"
         b",\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")


def tracking_for(db: sqlite_utils.Database, outbox_key: str, *, base_url: str, now: datetime) -> Tracking | None:
    """The tracking of the email with this outbox key; None without a public (or local test) base URL."""
    if not base_url.startswith("https://") and not base_url.startswith("http://127.0.0.1"):
        return None
    tracked = mail_db.tracking_for_send(db, outbox_key, new_token=_random.token_urlsafe(18), now=now)
    if tracked is None:
        return None
    return Tracking(base_url.rstrip("/"), tracked.token, opens=tracked.track_opens, clicks=tracked.track_clicks)


def save_links(db: sqlite_utils.Database, tracking: Tracking, links: list[str]) -> None:
    """The composed email's links, the only places its click redirects may go."""
    mail_db.set_tracked_links(db, tracking.token, links)
