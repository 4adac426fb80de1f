"""The campaign view's single reads: its header row and a lead's side panel.

Both are primary-key look-ups (well under a millisecond), read through the
TUI's `Reader` (the header on the UI thread as the view opens, the panel on
a worker thread). The lists are storage/audience_view.py and
storage/activity_view.py; the figures storage/metrics.py.
"""

from __future__ import annotations

import msgspec

from storage.activity_kinds import Kind
from storage.campaigns import Settings, settings_of
from storage.reader import Reader
from storage.records import Contact, Enrollment, LeadDetail, TimelineEntry


class CampaignView(msgspec.Struct, kw_only=True):
    """A campaign as its view's header and actions read it, with its identity's name and time zone."""

    id: int
    name: str
    identity_id: int
    status: str
    priority: str
    tags: list[str]
    folder: str
    settings: Settings
    sequence: str  # JSON text, as stored (the view parses it leniently: tui/widgets/status.sequence_of)
    launched_at: str | None
    scheduled_at: str | None
    identity_name: str
    identity_timezone: str


def campaign_view(reader: Reader, campaign_id: int) -> CampaignView | None:
    row = reader.one(
        "SELECT c.id, c.name, c.identity_id, c.status, c.priority, c.tags, c.folder, c.settings, c.sequence,"
        " c.launched_at, c.scheduled_at, i.name AS identity_name, i.timezone AS identity_timezone FROM campaigns c"
        " JOIN identities i ON i.id = c.identity_id WHERE c.id = ?", [campaign_id])
    if row is None:
        return None
    return CampaignView(**{**row, "tags": msgspec.json.decode(row["tags"], type=list[str]), "settings": settings_of(row)})


_RECEIVED = frozenset({Kind.LINKEDIN_REPLY_RECEIVED.value, Kind.EMAIL_REPLY_RECEIVED.value,
                       Kind.EMAIL_AUTO_REPLY_RECEIVED.value})


def _reply_texts(reader: Reader, timeline: list[TimelineEntry], identity_id: int | None, contact_id: int) -> None:
    """Give each received reply of the timeline its text: the lead's message of the same instant in its
    conversations with the identity (the activity's detail keeps the signal's time, the message its `at`)."""
    wanted = [e for e in timeline if e.kind in _RECEIVED]
    if not wanted:
        return
    bodies = {str(r[0]): str(r[1]) for r in reader.tuples(
        "SELECT m.at, m.body FROM conversations cv JOIN messages m ON m.conversation_id = cv.id"
        " WHERE cv.identity_id = ? AND cv.contact_id = ? AND m.direction = 'in'", [identity_id, contact_id])}
    for e in wanted:
        try:
            detail = msgspec.json.decode(e.detail or "{}")
        except msgspec.DecodeError:
            continue
        at = detail.get("at") if isinstance(detail, dict) else None
        e.text = bodies.get(at) if isinstance(at, str) else None


def lead_detail(reader: Reader, enrollment_id: int, identity_id: int | None, limit: int = 60) -> LeadDetail | None:
    """A lead's enrollment, contact, last `limit` actions (oldest first), its conversation tags with
    `identity_id`, and the time zone of its campaign's identity (a wait's end is shown in it)."""
    enrollment = reader.one("SELECT * FROM enrollments WHERE id = ?", [enrollment_id])
    if enrollment is None:
        return None
    contact = reader.one("SELECT * FROM contacts WHERE id = ?", [enrollment["contact_id"]])
    timeline = [TimelineEntry(id=r[0], at=r[1], kind=r[2], node_id=r[3], channel=r[4], status=r[5], detail=r[6])
                for r in reader.tuples(
                    "SELECT id, at, kind, node_id, channel, status, detail FROM activity WHERE enrollment_id = ?"
                    " ORDER BY id DESC LIMIT ?", [enrollment_id, limit])]
    tags = [str(r[0]) for r in reader.tuples(
        "SELECT DISTINCT t.value AS tag FROM conversations cv, json_each(cv.tags) t"
        " WHERE cv.identity_id = ? AND cv.contact_id = ?", [identity_id, enrollment["contact_id"]])]
    _reply_texts(reader, timeline, identity_id, enrollment["contact_id"])
    zone = reader.one("SELECT i.timezone FROM campaigns k JOIN identities i ON i.id = k.identity_id WHERE k.id = ?",
                      [enrollment["campaign_id"]])
    open_tasks = [str(r[0]) for r in reader.tuples(
        "SELECT title FROM tasks INDEXED BY tasks_campaign WHERE campaign_id = ? AND status = 'pending'"
        " AND enrollment_id = ? ORDER BY id", [enrollment["campaign_id"], enrollment_id])]
    return LeadDetail(enrollment=Enrollment.from_row(enrollment), open_tasks=open_tasks,
                      contact=Contact.from_row(contact) if contact else None, timeline=timeline[::-1], tags=tags,
                      queue_place=queue_place(reader, enrollment_id) if enrollment["substatus"] == "queued" else None,
                      timezone=zone["timezone"] if zone else "UTC")


def queue_place(reader: Reader, enrollment_id: int) -> int | None:
    """Where the lead's queued job stands in its lane (identity, bucket, inbox): 1 + the queued
    jobs ahead of it in execution order (the `outbox_queue` index); None when none is queued."""
    job = reader.one("SELECT identity_id, bucket, inbox_id, sort_key FROM outbox WHERE enrollment_id = ?"
                     " AND state = 'queued' ORDER BY id DESC LIMIT 1", [enrollment_id])
    if job is None:
        return None
    inbox_sql = "inbox_id = ?" if job["inbox_id"] is not None else "inbox_id IS NULL"
    args = [job["identity_id"], job["bucket"]] + ([job["inbox_id"]] if job["inbox_id"] is not None else [])
    ahead = reader.tuples(f"SELECT COUNT(*) FROM outbox WHERE identity_id = ? AND bucket = ? AND {inbox_sql}"
                          " AND state = 'queued' AND sort_key < ?", [*args, job["sort_key"]])
    return 1 + ahead[0][0]
