"""The status vocabulary of the spec: lead statuses and substatuses, campaign statuses, priorities.

Labels and descriptions are the spec's user-facing texts ("Campaign Statuses
and Substatuses Reference"), so every screen and command explains a stuck
lead in the same words.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo

from sequences.limits import days_until


class LeadStatus(str, enum.Enum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    PAUSED = "paused"
    ERROR = "error"
    FINISHED = "finished"
    REPLIED = "replied"

    @property
    def label(self) -> str:
        return _LEAD_STATUS_LABELS[self]

    @property
    def description(self) -> str:
        """The Audience tab's explanation of the status chip (spec "Status Summary")."""
        return _LEAD_STATUS_DESCRIPTIONS[self]


_LEAD_STATUS_DESCRIPTIONS = {
    LeadStatus.NOT_STARTED: "Leads that haven't reached the first step yet.",
    LeadStatus.IN_PROGRESS: "Leads currently moving through the sequence (they're still “running” for this campaign).",
    LeadStatus.PAUSED: "Leads that are paused and won't advance until resumed (paused at lead-level or because the campaign is paused).",
    LeadStatus.ERROR: "Leads blocked by an issue preventing the next step from executing (e.g., message too long).",
    LeadStatus.FINISHED: "Leads that reached the end of the sequence without replying (including cases where an email bounce ends their path).",
    LeadStatus.REPLIED: "Leads who replied to a message. Once a lead replies, the automated sequence stops for that lead.",
}

_LEAD_STATUS_LABELS = {
    LeadStatus.NOT_STARTED: "Not started",
    LeadStatus.IN_PROGRESS: "In progress",
    LeadStatus.PAUSED: "Paused",
    LeadStatus.ERROR: "Error",
    LeadStatus.FINISHED: "Finished",
    LeadStatus.REPLIED: "Replied",
}

#: A lead in one of these never gets another job.
TERMINAL_STATUSES = frozenset({LeadStatus.FINISHED, LeadStatus.REPLIED})


class Substatus(str, enum.Enum):
    """Why a lead is where it is. Value = stable id; `.label`/`.description` = spec text."""

    # in progress
    SCHEDULED = "scheduled"
    IDENTITY_LIMITS = "identity_limits"
    WAITING_TO_CONNECT = "waiting_to_connect"
    MONTHLY_CONVERSATION_LIMIT = "monthly_conversation_limit"
    CONNECTION_WITHDRAWN = "connection_withdrawn"
    OUTSIDE_WORKING_HOURS = "outside_working_hours"
    QUEUED = "queued"  # not in the spec's table: its job waits its turn in the identity's queue
    DELIVERY_DELAYED = "delivery_delayed"  # not in the spec's table: a delay notice for its last email
    GENERATING_AI = "generating_ai"  # not in the spec's table: its step's AI variables are being written
    # error
    MISSING_EMAIL = "missing_email"
    EMAIL_DISCONNECTED = "email_disconnected"
    LINKEDIN_DISCONNECTED = "linkedin_disconnected"
    SYSTEM_ERROR = "system_error"
    INMAIL_CREDITS_LIMIT = "inmail_credits_limit"
    MISSING_SUBJECT = "missing_subject"
    INVALID_IDENTITY_EMAIL = "invalid_identity_email"
    MISSING_CONTACT_EMAIL = "missing_contact_email"
    LEAD_NOT_SCRAPED = "lead_not_scraped"
    IDENTITY_MISCONFIGURATION = "identity_misconfiguration"
    MISSING_EMAIL_SUBJECT = "missing_email_subject"
    MISSING_INMAIL_SUBJECT = "missing_inmail_subject"
    MISSING_INMAIL_MESSAGE = "missing_inmail_message"
    MISSING_LINKEDIN_MESSAGE = "missing_linkedin_message"
    EMPTY_MESSAGE = "empty_message"
    MISSING_CRM_ID = "missing_crm_id"
    MISSING_OWNER_ID = "missing_owner_id"
    MISSING_CAMPAIGN_PROMPT = "missing_campaign_prompt"
    AI_ERROR = "ai_error"  # not in the spec's table: the AI provider failed (after its retries)
    INVALID_LINKEDIN_ID = "invalid_linkedin_id"
    MESSAGE_TOO_LONG = "message_too_long"
    INMAIL_MESSAGE_TOO_LONG = "inmail_message_too_long"
    LINKEDIN_URL_NOT_FOUND = "linkedin_url_not_found"
    # finished
    DELETED = "deleted"
    BLOCKED = "blocked"
    OUT_OF_OFFICE = "out_of_office"
    BOUNCED = "bounced"
    NO_RESPONSE = "no_response"
    NOT_CONNECTED = "not_connected"

    @property
    def label(self) -> str:
        return SUBSTATUS_TEXT[self][1]

    @property
    def description(self) -> str:
        return SUBSTATUS_TEXT[self][2]

    @property
    def status(self) -> LeadStatus:
        return SUBSTATUS_TEXT[self][0]


_IP, _ER, _FI = LeadStatus.IN_PROGRESS, LeadStatus.ERROR, LeadStatus.FINISHED

SUBSTATUS_TEXT: dict[Substatus, tuple[LeadStatus, str, str]] = {
    Substatus.SCHEDULED: (_IP, "Scheduled", "Waiting for the configured time delay between actions to pass."),
    Substatus.IDENTITY_LIMITS: (_IP, "Identity limits", "The identity has reached its daily connection request limits."),
    Substatus.WAITING_TO_CONNECT: (_IP, "Waiting to connect", "Waiting for the lead to accept the connection request."),
    Substatus.MONTHLY_CONVERSATION_LIMIT: (_IP, "Monthly conversation limit", "The monthly conversation limit for this identity has been reached. Resets next month or contact the team to upgrade."),
    Substatus.CONNECTION_WITHDRAWN: (_IP, "Connection withdrawn", "LinkedIn connection request was withdrawn. X days remaining before retry."),
    Substatus.OUTSIDE_WORKING_HOURS: (_IP, "Outside working hours", "The campaign is paused because it is outside configured working hours."),
    Substatus.QUEUED: (_IP, "Queued", "Its next action waits its turn in the identity's queue, behind higher-priority campaigns and earlier actions."),
    Substatus.DELIVERY_DELAYED: (_IP, "Delivery delayed", "The receiving mail server has not accepted the last email yet and keeps retrying. The next step waits until it bounces or the retry period is over."),
    Substatus.GENERATING_AI: (_IP, "Generating with AI", "The AI is writing this lead's message from its data (its AI variables); the step goes on as soon as it is written."),
    Substatus.MISSING_EMAIL: (_ER, "Missing email", "The email account used for this conversation is no longer available."),
    Substatus.EMAIL_DISCONNECTED: (_ER, "Email disconnected", "Email credentials expired. Reconnect email to continue."),
    Substatus.LINKEDIN_DISCONNECTED: (_ER, "LinkedIn disconnected", "The LinkedIn account used for this conversation is disconnected. Reconnect to continue."),
    Substatus.SYSTEM_ERROR: (_ER, "System error", "An error occurred while processing this conversation."),
    Substatus.INMAIL_CREDITS_LIMIT: (_ER, "InMail credits limit", "The identity has run out of InMail credits."),
    Substatus.MISSING_SUBJECT: (_ER, "Missing subject", "A subject is required for InMail messages. Add a subject to continue."),
    Substatus.INVALID_IDENTITY_EMAIL: (_ER, "Invalid identity email", "The email address of the identity is not valid. Connect email to continue."),
    Substatus.MISSING_CONTACT_EMAIL: (_ER, "Missing contact email", "The professional email for the contact has not been set or is invalid. Enrich email to continue."),
    Substatus.LEAD_NOT_SCRAPED: (_ER, "Lead not scraped", "The lead is missing required information. Enrich the contact to continue."),
    Substatus.IDENTITY_MISCONFIGURATION: (_ER, "Identity misconfiguration", "The LinkedIn identity is not configured correctly."),
    Substatus.MISSING_EMAIL_SUBJECT: (_ER, "Missing email subject", "No subject was found for the email. Add a subject to continue."),
    Substatus.MISSING_INMAIL_SUBJECT: (_ER, "Missing InMail subject", "No subject was found for the InMail message. Add a subject to continue."),
    Substatus.MISSING_INMAIL_MESSAGE: (_ER, "Missing InMail message", "There is no message content for the InMail. Add a message to continue."),
    Substatus.MISSING_LINKEDIN_MESSAGE: (_ER, "Missing LinkedIn message", "There is no message content for the LinkedIn message. Add a message to continue."),
    Substatus.EMPTY_MESSAGE: (_ER, "Empty message", "The message content is empty. Add a message to continue."),
    Substatus.MISSING_CRM_ID: (_ER, "Missing CRM ID", "The contact CRM ID is missing. Sync with CRM to get the CRM ID."),
    Substatus.MISSING_OWNER_ID: (_ER, "Missing owner ID", "The owner ID is missing. Sync with CRM to get the CRM ID."),
    Substatus.MISSING_CAMPAIGN_PROMPT: (_ER, "Missing campaign prompt", "No campaign prompt was found. Add a campaign prompt to continue."),
    Substatus.AI_ERROR: (_ER, "AI error", "The AI provider could not write this lead's message (it failed or did not answer, even after retries). Retry the lead to try again; what was already written is kept."),
    Substatus.INVALID_LINKEDIN_ID: (_ER, "Invalid LinkedIn ID", "The LinkedIn profile ID for the lead is not valid. Enrich the contact to continue."),
    Substatus.MESSAGE_TOO_LONG: (_ER, "Message too long", "The connection request message exceeds the 1,900-character limit. Reduce the length."),
    Substatus.INMAIL_MESSAGE_TOO_LONG: (_ER, "InMail message too long", "The InMail message exceeds the 1,900-character limit. Reduce the length."),
    Substatus.LINKEDIN_URL_NOT_FOUND: (_ER, "LinkedIn URL not found", "The LinkedIn profile URL for the lead was not found. Enrich the contact to continue."),
    Substatus.DELETED: (_FI, "Deleted", "Contact has been removed from the campaign."),
    Substatus.BLOCKED: (_FI, "Blocked", "This lead has been blocked."),
    Substatus.OUT_OF_OFFICE: (_FI, "Out of office", "Contact replied with an out-of-office message. Sequence ends."),
    Substatus.BOUNCED: (_FI, "Bounced", "Email to this lead has bounced."),
    Substatus.NO_RESPONSE: (_FI, "No response", "The sequence was completed successfully but the contact has not replied."),
    Substatus.NOT_CONNECTED: (_FI, "Not connected", "The contact did not accept the connection request within the configured time period, or declined."),
}

#: The spec's own substatuses ("Campaign Statuses and Substatuses Reference"); the others are enginy's.
SPEC_SUBSTATUSES = frozenset(Substatus) - {Substatus.QUEUED, Substatus.DELIVERY_DELAYED, Substatus.GENERATING_AI,
                                           Substatus.AI_ERROR}


class Wait(NamedTuple):
    """Why an In-progress lead waits, with its detail: the cap that is spent (Identity limits, in
    words: "invitations 20 per day") and until when (the cap's refill or the next opening as its
    lane wrote them; a step's delay, a deferred retry: the lead's due time)."""

    reason: Substatus
    cap: str | None = None
    until: datetime | None = None


#: The waits that end at the lead's own due time when no lane wrote an end (its step's delay, a retry).
_UNTIL_DUE = frozenset({Substatus.SCHEDULED, Substatus.IDENTITY_LIMITS, Substatus.MONTHLY_CONVERSATION_LIMIT,
                        Substatus.CONNECTION_WITHDRAWN, Substatus.DELIVERY_DELAYED})


def wait_of(status: str, substatus: str | None, cap: str | None, until: str | None,
            due_at: str | None) -> Wait | None:
    """The one reading of a lead's wait from its stored columns (status, substatus, wait_cap,
    wait_until, due_at); None unless it is In progress with an in-progress substatus."""
    if status != LeadStatus.IN_PROGRESS.value or not substatus:
        return None
    try:
        reason = Substatus(substatus)
    except ValueError:
        return None
    if reason.status is not LeadStatus.IN_PROGRESS:
        return None
    end = until or (due_at if reason in _UNTIL_DUE else None)
    return Wait(reason, cap, datetime.fromisoformat(end) if end else None)


def local_time(at: datetime, tz: ZoneInfo) -> str:
    """'Tue 24 Nov 09:00 (Europe/Madrid)': a wait's end in the identity's own time."""
    return f"{at.astimezone(tz).strftime('%a %d %b %H:%M')} ({tz.key})"


#: How each wait names its end.
_UNTIL_WORDS = {Substatus.IDENTITY_LIMITS: "Refills", Substatus.OUTSIDE_WORKING_HOURS: "Next opening",
                Substatus.MONTHLY_CONVERSATION_LIMIT: "Resets", Substatus.CONNECTION_WITHDRAWN: "Retried",
                Substatus.DELIVERY_DELAYED: "Goes on"}


def explain(substatus: Substatus, *, now: datetime | None = None, retry_at: datetime | None = None,
            place: int | None = None, wait: Wait | None = None, tz: ZoneInfo | None = None) -> str:
    """The substatus's description with this lead's own facts in it: Connection withdrawn's
    days remaining before the retry at `retry_at` (the spec's "X"), a queued lead's place in
    its lane, a wait's cap and end (in `tz`, the identity's zone). Pure: the caller gives
    `now`; without the facts, no placeholder is shown."""
    text = substatus.description
    if substatus is Substatus.CONNECTION_WITHDRAWN:
        if now is None or retry_at is None:
            return text.replace(" X days remaining before retry.", " It is retried once LinkedIn's cooldown ends.")
        days = days_until(retry_at, now)
        return text.replace("X days", f"{days} day" if days == 1 else f"{days} days")
    if substatus is Substatus.QUEUED and place is not None:
        return f"{text} Place {place} in line."
    if wait is None or wait.reason is not substatus:
        return text
    if wait.cap:
        text = f"The identity has reached its limit: {wait.cap}."
    if wait.until is not None:
        text += f" {_UNTIL_WORDS.get(substatus, 'Until')} {local_time(wait.until, tz or ZoneInfo('UTC'))}."
    return text


def substatus_label(code: str) -> str:
    """A stored substatus in the spec's words ('missing_contact_email' -> 'Missing contact email');
    a code this vocabulary does not know (a newer version's) still reads as words."""
    try:
        return Substatus(code).label
    except ValueError:
        return code.replace("_", " ")


def status_words(status: str | None, substatus: str | None) -> str:
    """'Error · Missing contact email': a lead's status and substatus as plain words ('-': none)."""
    if not status:
        return "-"
    try:
        words = LeadStatus(status).label
    except ValueError:
        words = status.replace("_", " ")
    return f"{words} · {substatus_label(substatus)}" if substatus else words


#: Paused and Replied have no substatus in the spec ("--").
PAUSED_DESCRIPTION = "The contact was paused manually, or the entire campaign was paused, which paused all leads."
REPLIED_DESCRIPTION = "The contact replied to a message."


class CampaignStatus(str, enum.Enum):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    ARCHIVED = "archived"

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @property
    def description(self) -> str:
        """The dashboard tab's explanation (spec "Campaign Status")."""
        return _CAMPAIGN_STATUS_DESCRIPTIONS[self]

    @property
    def active(self) -> bool:
        """Shown under the dashboard's "Active" tab (see ACTIVE_CAMPAIGN_STATUSES)."""
        return self in ACTIVE_CAMPAIGN_STATUSES


_CAMPAIGN_STATUS_DESCRIPTIONS = {
    CampaignStatus.DRAFT: "Campaign is not launched yet. It’s saved as a draft and won’t run until you launch it.",
    CampaignStatus.SCHEDULED: "Campaign is set to start at a specific date/time and will remain idle until then.",
    CampaignStatus.RUNNING: "Campaign is currently executing actions (e.g., sending messages) and progressing through its steps.",
    CampaignStatus.PAUSED: "Campaign is temporarily stopped. No new actions will be executed until it’s resumed.",
    CampaignStatus.ARCHIVED: "Campaign is inactive and stored for reference. It won’t run anymore and cannot be reactivated.",
}

#: The dashboard's "Active" tab is not a stored status but a view: "enabled and
#: can execute actions when its conditions/rules allow it". That is a launched,
#: un-paused campaign: Running, and Scheduled (launched, waits for its start).
#: Paused is left out: the spec gives it its own tab, says a paused campaign
#: executes no new actions, and lists "active, paused, or draft" as distinct
#: states for duplication. Draft and Archived never run.
ACTIVE_CAMPAIGN_STATUSES = frozenset({CampaignStatus.RUNNING, CampaignStatus.SCHEDULED})

#: The dashboard's status tabs and what each shows: the one definition the app's tabs
#: and `enginy campaigns list --status` both read (so "Active 4" means the same there).
CAMPAIGN_TABS: dict[str, tuple[str, frozenset[CampaignStatus]]] = {
    "active": ("Active", ACTIVE_CAMPAIGN_STATUSES),
    **{s.value: (s.label, frozenset({s})) for s in (CampaignStatus.DRAFT, CampaignStatus.RUNNING,
                                                  CampaignStatus.PAUSED, CampaignStatus.SCHEDULED,
                                                  CampaignStatus.ARCHIVED)},
}


#: Statuses a campaign may move to from each status (archived is final: "cannot be reactivated").
CAMPAIGN_TRANSITIONS: dict[CampaignStatus, frozenset[CampaignStatus]] = {
    CampaignStatus.DRAFT: frozenset({CampaignStatus.SCHEDULED, CampaignStatus.RUNNING, CampaignStatus.ARCHIVED}),
    CampaignStatus.SCHEDULED: frozenset({CampaignStatus.RUNNING, CampaignStatus.PAUSED, CampaignStatus.ARCHIVED}),
    CampaignStatus.RUNNING: frozenset({CampaignStatus.PAUSED, CampaignStatus.ARCHIVED}),
    CampaignStatus.PAUSED: frozenset({CampaignStatus.RUNNING, CampaignStatus.ARCHIVED}),
    CampaignStatus.ARCHIVED: frozenset(),
}


class Priority(str, enum.Enum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"

    @property
    def rank(self) -> int:
        """0 runs first (High > Medium > Low)."""
        return {"high": 0, "medium": 1, "low": 2}[self.value]

    @property
    def label(self) -> str:
        return self.value.capitalize()

    @classmethod
    def ordered(cls) -> list["Priority"]:
        """The priorities in the order they run: High, Medium, Low (use `.rank` as a sort key)."""
        return sorted(cls, key=lambda p: p.rank)
