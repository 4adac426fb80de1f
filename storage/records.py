"""Typed records for the tables of the first schema (m001) and what extends them.

Why: rows come out of SQLite as loose dicts of text and integers; code above
storage should see typed values (bools as bools, JSON columns as dicts and
lists) and get a clear error when a row is malformed, instead of finding a
JSON string where it expected a dict three calls later.

`Record.from_row(row)` converts a row (a mapping, e.g. from `db.query`)
leniently — 0/1 becomes a bool, columns added by later migrations are ignored
unless the record knows them — and `to_row()` gives back the column dict
(JSON columns encoded, an unsaved record's `id` left out so SQLite assigns it).
Times stay ISO-8601 UTC text, the database's sortable format.

tests/test_storage_records.py checks that every m001 column has a field and
every field a column, so a typo in a field name fails a test rather than
silently dropping data. Columns added by later migrations of other areas are
allowed to be unknown here (from_row ignores them) until someone needs them.
"""

from __future__ import annotations

from typing import Any, ClassVar, Mapping, Self

import msgspec

from sequences.limits import EMAIL_PER_DAY, EMAIL_PER_HOUR, LINKEDIN_INVITES_PER_DAY, LINKEDIN_MESSAGES_PER_DAY, WITHDRAW_AFTER_DAYS

JsonObj = dict[str, Any]


class Record(msgspec.Struct, kw_only=True):
    """A row of `__table__`; `__json__` names the columns that hold JSON text."""

    __table__: ClassVar[str]
    __json__: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Self:
        data = dict(row)
        for name in cls.__json__:
            value = data.get(name)
            if isinstance(value, (str, bytes)):
                data[name] = msgspec.json.decode(value)
        return msgspec.convert(data, cls, strict=False)

    def to_row(self) -> dict[str, Any]:
        data = msgspec.structs.asdict(self)
        for name in self.__json__:
            data[name] = msgspec.json.encode(data[name]).decode()
        if data.get("id", 0) is None:
            del data["id"]
        return data

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        return tuple(f.name for f in msgspec.structs.fields(cls))


class Identity(Record, kw_only=True):
    __table__ = "identities"
    __json__ = ("settings",)
    id: int | None = None
    name: str
    first_name: str = ""
    last_name: str = ""
    email: str | None = None
    job_title: str = ""
    company: str = ""
    linkedin_url: str | None = None
    timezone: str = "UTC"
    working_days: str = "mon,tue,wed,thu,fri"
    work_start: str = "09:00"
    work_end: str = "18:00"
    linkedin_driver: str | None = None
    linkedin_connected: bool = False
    linkedin_account_id: str | None = None
    gateway_url: str | None = None
    premium: bool = False
    sales_navigator: bool = False
    inmail_credits: int = 0
    daily_connection_limit: int = LINKEDIN_INVITES_PER_DAY.default
    daily_message_limit: int = LINKEDIN_MESSAGES_PER_DAY.default
    monthly_conversation_limit: int | None = None
    withdraw_enabled: bool = True
    withdraw_after_days: int = WITHDRAW_AFTER_DAYS.default
    linkedin_queue_paused: bool = False
    settings: JsonObj = msgspec.field(default_factory=dict)
    phone: str = ""  # m005
    meeting_url: str = ""  # m005
    created_at: str
    updated_at: str


class Inbox(Record, kw_only=True):
    __table__ = "inboxes"
    id: int | None = None
    identity_id: int
    email: str
    provider: str = "imap"
    imap_host: str | None = None
    imap_port: int | None = None
    smtp_host: str | None = None
    smtp_port: int | None = None
    tls_mode: str = "implicit"
    ca_file: str | None = None
    per_day: int = EMAIL_PER_DAY.default
    per_hour: int = EMAIL_PER_HOUR.default
    signature_text: str = ""
    signature_html: str = ""
    connected: bool = True
    created_at: str
    updated_at: str
    list_unsubscribe: bool = True  # m021


class Contact(Record, kw_only=True):
    __table__ = "contacts"
    __json__ = ("custom",)
    id: int | None = None
    first_name: str = ""
    last_name: str = ""
    company: str = ""
    job_title: str = ""
    linkedin_url: str | None = None
    linkedin_id: str | None = None
    email: str | None = None
    phone: str | None = None
    timezone: str | None = None
    custom: dict[str, str] = msgspec.field(default_factory=dict)
    created_at: str
    updated_at: str


class ContactList(Record, kw_only=True):
    __table__ = "lists"
    __json__ = ("tags",)
    id: int | None = None
    name: str
    tags: list[str] = msgspec.field(default_factory=list)
    created_by: str = ""
    created_at: str


class ListMember(Record, kw_only=True):
    __table__ = "list_members"
    list_id: int
    contact_id: int
    added_at: str


class Campaign(Record, kw_only=True):
    __table__ = "campaigns"
    __json__ = ("tags", "settings", "sequence")
    id: int | None = None
    name: str
    identity_id: int
    status: str = "draft"
    priority: str = "medium"
    tags: list[str] = msgspec.field(default_factory=list)
    folder: str = ""
    settings: JsonObj = msgspec.field(default_factory=dict)
    sequence: Any
    created_by: str = ""
    created_at: str
    updated_at: str
    launched_at: str | None = None
    scheduled_at: str | None = None
    archived_at: str | None = None


class Enrollment(Record, kw_only=True):
    __table__ = "enrollments"
    __json__ = ("state",)
    id: int | None = None
    campaign_id: int
    contact_id: int
    status: str = "not_started"
    substatus: str | None = None
    node_id: str | None = None
    due_at: str | None = None
    inbox_id: int | None = None
    message_depth: int = 0
    removed: bool = False
    state: JsonObj = msgspec.field(default_factory=dict)
    milestones: int = 0  # m005
    enrolled_at: str
    wait_cap: str | None = None  # m050: the cap a lane's lead waits for ("invitations 20/day")
    wait_until: str | None = None  # m050: until when it waits (ISO UTC): the refill, the next opening
    started_at: str | None = None
    updated_at: str


class Activity(Record, kw_only=True):
    __table__ = "activity"
    __json__ = ("detail",)
    id: int | None = None
    at: str
    campaign_id: int | None = None
    enrollment_id: int | None = None
    contact_id: int | None = None
    identity_id: int | None = None
    kind: str
    node_id: str | None = None
    channel: str | None = None
    status: str = "completed"
    detail: JsonObj = msgspec.field(default_factory=dict)
    actor: str = "system"


class Conversation(Record, kw_only=True):
    __table__ = "conversations"
    __json__ = ("tags",)
    id: int | None = None
    contact_id: int
    identity_id: int
    channel: str
    inbox_id: int | None = None
    campaign_id: int | None = None
    external_id: str | None = None
    tags: list[str] = msgspec.field(default_factory=list)
    created_at: str
    updated_at: str
    unread: bool = False


class Message(Record, kw_only=True):
    __table__ = "messages"
    id: int | None = None
    conversation_id: int
    direction: str
    kind: str = "message"
    at: str
    subject: str | None = None
    body: str = ""
    message_id: str | None = None
    in_reply_to: str | None = None
    enrollment_id: int | None = None
    positive: bool | None = None


class Task(Record, kw_only=True):
    __table__ = "tasks"
    id: int | None = None
    campaign_id: int | None = None
    enrollment_id: int | None = None
    contact_id: int | None = None
    node_id: str | None = None
    title: str
    notes: str = ""
    kind: str = "todo"
    status: str = "pending"
    created_at: str
    completed_at: str | None = None


class LedgerEntry(Record, kw_only=True):
    __table__ = "action_ledger"
    id: int | None = None
    at: str
    identity_id: int
    inbox_id: int | None = None
    bucket: str
    campaign_id: int | None = None
    enrollment_id: int | None = None
    outbox_id: int | None = None


class OutboxItem(Record, kw_only=True):
    __table__ = "outbox"
    __json__ = ("payload",)
    id: int | None = None
    key: str
    enrollment_id: int | None = None
    campaign_id: int | None = None
    identity_id: int
    inbox_id: int | None = None
    node_id: str | None = None
    channel: str
    action: str
    bucket: str | None = None
    payload: JsonObj = msgspec.field(default_factory=dict)
    state: str = "queued"
    message_id: str | None = None
    external_id: str | None = None
    error: str | None = None
    created_at: str
    updated_at: str
    sent_at: str | None = None


class BlockEntry(Record, kw_only=True):
    __table__ = "blocklist"
    id: int | None = None
    kind: str
    value: str
    reason: str = ""
    created_at: str


class SavedFilter(Record, kw_only=True):
    __table__ = "saved_filters"
    __json__ = ("query",)
    id: int | None = None
    scope: str
    name: str
    query: JsonObj = msgspec.field(default_factory=dict)
    created_at: str


class UserTemplate(Record, kw_only=True):
    __table__ = "user_templates"
    __json__ = ("sequence",)
    id: int | None = None
    name: str
    description: str = ""
    sequence: Any
    created_at: str


class RuntimeLease(Record, kw_only=True):
    __table__ = "runtime_lease"
    id: int = 1
    holder: str
    pid: int
    host: str
    started_at: str
    heartbeat_at: str
    stop_requested: bool = False


# -- what leads send back: the email channel's tables (m020) and inbound look-ups ---
# Not in RECORDS, which walks m001's tables; storage/mail.py and storage/inbound.py use these.


class EnrollmentRef(msgspec.Struct, kw_only=True, frozen=True):
    """Where a lead stands: its enrollment (if any), the campaign and the identity working it."""

    enrollment_id: int | None
    campaign_id: int | None
    identity_id: int


class MailWatch(Record, kw_only=True):
    """How far the IMAP watcher has recorded one folder of one inbox."""

    __table__ = "mail_watch"
    inbox_id: int
    folder: str
    uidvalidity: int
    last_uid: int = 0
    updated_at: str


class MailInbound(Record, kw_only=True):
    """One classified inbound message, matched (or not) to the outbox row it answers."""

    __table__ = "mail_inbound"
    __json__ = ("recipients", "details")
    id: int | None = None
    inbox_id: int
    folder: str
    uidvalidity: int
    uid: int
    fingerprint: str
    message_id: str | None = None
    received_at: str
    kind: str
    hard: bool | None = None
    status: str | None = None
    recipients: list[str] = msgspec.field(default_factory=list)
    in_reply_to: str | None = None
    from_addr: str = ""
    subject: str = ""
    reason: str = ""
    body: str = ""
    outbox_id: int | None = None
    enrollment_id: int | None = None
    contact_id: int | None = None
    matched_by: str | None = None
    applied_at: str | None = None
    effect: str | None = None
    details: dict = msgspec.field(default_factory=dict)  # return_date, challenge_link, auto, signals (m055)


class UnappliedMail(MailInbound, kw_only=True):
    """A recorded message whose effect is still to apply, with the key of the delivery it answers."""

    outbox_key: str | None = None


class SentEmail(msgspec.Struct, kw_only=True, frozen=True):
    """An email we sent, as inbound matching sees it (outbox row, its lead, its subject)."""

    outbox_id: int
    key: str
    enrollment_id: int | None = None
    contact_id: int | None = None
    subject: str = ""


class MailTracking(Record, kw_only=True):
    """The open/click/unsubscribe token one sent email carries, and its links."""

    __table__ = "mail_tracking"
    __json__ = ("links",)
    token: str
    outbox_key: str
    enrollment_id: int | None = None
    contact_id: int | None = None
    links: list[str] = msgspec.field(default_factory=list)
    created_at: str


class TrackedEmail(MailTracking, kw_only=True):
    """A token with the campaign, identity and tracking settings of the email that carries it."""

    campaign_id: int | None = None
    identity_id: int | None = None
    track_opens: bool = False
    track_clicks: bool = False


RECORDS: tuple[type[Record], ...] = (
    Identity, Inbox, Contact, ContactList, ListMember, Campaign, Enrollment, Activity,
    Conversation, Message, Task, LedgerEntry, OutboxItem, BlockEntry, SavedFilter,
    UserTemplate, RuntimeLease,
)
"""One record per table of m001; the columns test walks this."""


# --- the TUI's read model: what the campaign view's lists and side panel show -------------------
# (Not table rows: joins and pages of them. Built positionally from the SELECT's columns, in field
# order, by storage/audience_view.py, storage/activity_view.py and storage/campaign_view.py.)


class AudienceRow(msgspec.Struct, kw_only=True):
    """A lead of the audience list: its enrollment, who it is, its last actions and conversation tags."""

    id: int  # the enrollment: the list's key
    contact_id: int
    status: str
    substatus: str | None
    node_id: str | None
    milestones: int
    updated_at: str
    removed: bool
    first_name: str
    last_name: str
    company: str
    job_title: str
    recent: list[str]  # kinds of the latest actions (at most 4), newest first
    tags: list[str]
    due_at: str | None = None  # when the lead is next due (its step's delay), None while not waiting for time
    wait_cap: str | None = None  # a lane's detail of the wait (sequences.statuses.wait_of reads them)
    wait_until: str | None = None


class TimelineEntry(msgspec.Struct, kw_only=True):
    """An action in a lead's timeline (the side panel)."""

    id: int
    at: str
    kind: str
    node_id: str | None
    channel: str | None
    status: str
    detail: str  # JSON text, as stored
    text: str | None = None  # a received reply's own words, as stored (the side panel folds and escapes them)


class ActivityRow(TimelineEntry, kw_only=True):
    """An action of the activity log (`id` is the list's key), with who did it and its recipient's name
    (None for a campaign-wide action)."""

    actor: str
    contact_id: int | None
    first_name: str | None
    last_name: str | None
    company: str | None
    enrollment_id: int | None = None  # the recipient's lead in this campaign (Enter opens it)


class LeadDetail(msgspec.Struct, kw_only=True):
    """What the contact side panel shows."""

    enrollment: Enrollment
    contact: Contact | None
    timeline: list[TimelineEntry]  # oldest first
    tags: list[str]
    queue_place: int | None = None  # a Queued lead's place in its identity's lane (1: next)
    timezone: str = "UTC"  # its campaign identity's zone: the end of a wait is shown in it
    open_tasks: list[str] = []  # titles of the lead's tasks still pending (a Task step ends a branch: issue 18)
