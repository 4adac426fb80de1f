"""The Identities dashboard's read model: per identity its four statistics over local dates, and its status.

Spec (identities.md, "Performance Statistics"), each over the chosen period:

* connections — LinkedIn invitations accepted vs sent;
* messages sent vs allowed — LinkedIn messages (message, InMail, attachment,
  voice) and emails sent, against the identity's daily LinkedIn message limit
  plus each connected inbox's emails per day, times the days of the period;
* replied — leads that answered, by email or on LinkedIn (an out-of-office
  auto-reply is not a reply);
* bounce rate — emails bounced / emails sent, in percent.

All counted from the activity log (one row per thing done or received,
index activity_identity_kind, m047). The period is whole days in the
identity's own time zone: "today" is its today, whatever the viewer's is.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import msgspec
import sqlite_utils

from sequences.working_hours import WorkingHours
from storage.activity import iso
from storage.activity_kinds import Kind

LINKEDIN_MESSAGES = (Kind.LINKEDIN_MESSAGE_SENT, Kind.LINKEDIN_INMAIL_SENT, Kind.LINKEDIN_ATTACHMENT_SENT,
                     Kind.LINKEDIN_VOICE_SENT)
REPLIES = (Kind.LINKEDIN_REPLY_RECEIVED, Kind.EMAIL_REPLY_RECEIVED)
COUNTED = (Kind.LINKEDIN_INVITE_SENT, Kind.LINKEDIN_INVITE_ACCEPTED, Kind.EMAIL_SENT, Kind.EMAIL_BOUNCED,
           *LINKEDIN_MESSAGES, *REPLIES)


class IdentityStats(msgspec.Struct):
    id: int
    name: str
    timezone: str
    date_from: str  # local dates, inclusive
    date_to: str
    connections_sent: int
    connections_accepted: int
    linkedin_messages_sent: int
    emails_sent: int
    messages_sent: int
    messages_allowed: int
    replied: int
    emails_bounced: int
    bounce_rate: float | None  # percent; None when no email was sent


def today_of(identity: dict, now: datetime) -> date:
    """The identity's local date at `now`."""
    return WorkingHours.of_identity(identity).local_day(now)


def period(identity: dict, date_from: date, date_to: date) -> tuple[str, str]:
    """[local midnight of date_from, local midnight after date_to) as stored UTC texts."""
    wh = WorkingHours.of_identity(identity)
    start = datetime.combine(date_from, datetime.min.time(), tzinfo=wh.tz)
    end = datetime.combine(date_to + timedelta(days=1), datetime.min.time(), tzinfo=wh.tz)
    return iso(wh.day_start(start)), iso(wh.day_start(end))


def identity_stats(db: sqlite_utils.Database, identity: dict, date_from: date, date_to: date) -> IdentityStats:
    """One identity's statistics over local dates date_from..date_to (inclusive)."""
    if date_to < date_from:
        raise ValueError(f"the period ends ({date_to}) before it starts ({date_from})")
    since, until = period(identity, date_from, date_to)
    kinds = [k.value for k in COUNTED]
    counts: dict[str, tuple[int, int]] = {
        kind: (n, leads) for kind, n, leads in db.execute(
            "SELECT kind, COUNT(*), COUNT(DISTINCT enrollment_id) FROM activity INDEXED BY activity_identity_kind"
            f" WHERE identity_id = ? AND kind IN ({', '.join('?' * len(kinds))}) AND at >= ? AND at < ?"
            " GROUP BY kind", [identity["id"], *kinds, since, until])}

    def n(*of: Kind) -> int:
        return sum(counts.get(k.value, (0, 0))[0] for k in of)

    replied = db.execute(
        "SELECT COUNT(DISTINCT enrollment_id) FROM activity INDEXED BY activity_identity_kind"
        " WHERE identity_id = ? AND kind IN (?, ?) AND at >= ? AND at < ?",
        [identity["id"], *(k.value for k in REPLIES), since, until]).fetchone()[0]
    per_day_email = db.execute("SELECT COALESCE(SUM(per_day), 0) FROM inboxes WHERE identity_id = ? AND connected = 1",
                               [identity["id"]]).fetchone()[0]
    days = (date_to - date_from).days + 1
    linkedin_allowed = identity["daily_message_limit"] if identity["linkedin_connected"] else 0
    emails, bounced = n(Kind.EMAIL_SENT), n(Kind.EMAIL_BOUNCED)
    linkedin = n(*LINKEDIN_MESSAGES)
    return IdentityStats(
        id=identity["id"], name=identity["name"], timezone=identity["timezone"],
        date_from=date_from.isoformat(), date_to=date_to.isoformat(),
        connections_sent=n(Kind.LINKEDIN_INVITE_SENT), connections_accepted=n(Kind.LINKEDIN_INVITE_ACCEPTED),
        linkedin_messages_sent=linkedin, emails_sent=emails, messages_sent=linkedin + emails,
        messages_allowed=(linkedin_allowed + per_day_email) * days, replied=replied, emails_bounced=bounced,
        bounce_rate=round(100 * bounced / emails, 1) if emails else None)


def stats_of_identities(db: sqlite_utils.Database, identities: list[dict], now: datetime,
                        date_from: date | None = None, date_to: date | None = None) -> list[IdentityStats]:
    """Statistics of each identity; a missing date is the identity's own today."""
    out = []
    for ident in identities:
        today = today_of(ident, now)
        out.append(identity_stats(db, ident, date_from or today, date_to or today))
    return out


class IdentityRow(msgspec.Struct):
    """One line of the Identities screen."""

    stats: IdentityStats
    linkedin: str  # "connected", "restricted", "paused", "not connected"
    inboxes_connected: int
    inboxes: int


def linkedin_status(db: sqlite_utils.Database, identity: dict) -> str:
    """Connected, or why not: a paused queue is "restricted" when the runtime paused it because
    LinkedIn restricted the account (storage.identities.linkedin_lost logs why), else "paused"."""
    if not identity["linkedin_connected"]:
        return "not connected"
    if not identity["linkedin_queue_paused"]:
        return "connected"
    last = db.execute(
        "SELECT detail FROM activity INDEXED BY activity_identity_kind WHERE identity_id = ? AND kind = ?"
        " AND detail LIKE '%linkedin_queue_paused%' ORDER BY at DESC, id DESC LIMIT 1",
        [identity["id"], Kind.IDENTITY_EDITED.value]).fetchone()
    return "restricted" if last and '"why"' in last[0] else "paused"


def identity_rows(db: sqlite_utils.Database, now: datetime, date_from: date | None = None,
                  date_to: date | None = None, search: str = "") -> list[IdentityRow]:
    """Every identity whose name contains `search` (any case), with its statistics and status."""
    needle = search.casefold().strip()
    idents = [i for i in db.query("SELECT * FROM identities ORDER BY name COLLATE NOCASE, id")
              if needle in i["name"].casefold()]
    boxes = {r[0]: (r[1], r[2]) for r in db.execute(
        "SELECT identity_id, SUM(connected), COUNT(*) FROM inboxes GROUP BY identity_id")}
    return [IdentityRow(s, linkedin_status(db, i), *boxes.get(i["id"], (0, 0)))
            for i, s in zip(idents, stats_of_identities(db, idents, now, date_from, date_to))]
