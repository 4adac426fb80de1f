"""The activity-log vocabulary and the metric contract, in one place.

Every row of the `activity` table has a `kind` from `Kind`. Some kinds also
mark a *milestone* of the lead in its campaign (`Milestone`, a bit set stored
in `enrollments.milestones`); the campaign metrics (storage/metrics.py) are
counts of leads having each bit, so **how a writer records an event decides
the numbers the user sees**. The contract for the runtime and the channel
code:

* Record through `storage.activity.record(db, kind=…, enrollment_id=…, …)`,
  inside the same transaction as the state change it belongs to. It inserts
  the activity row and ORs in `KIND_MILESTONES[kind]` (and sets
  `enrollments.started_at` on the first step). Never write `milestones` by hand.
* One row per thing that happened: an email sent = one `EMAIL_SENT` (the
  email "Sent" and "Bounced" figures count rows, all other figures count leads).
* A sequence step the lead went through is recorded even when it is not a
  channel action: a condition evaluated is `CONDITION_EVALUATED` (this is what
  makes the lead "Started"; the Activity tab hides conditions).
* A reply is `LINKEDIN_REPLY_RECEIVED` / `EMAIL_REPLY_RECEIVED`; an
  out-of-office auto-reply is `EMAIL_AUTO_REPLY_RECEIVED` and does *not* count
  as replied (spec FAQ Q3: reply rate excludes out-of-office).
* Positive tagging (AI or manual) goes through `storage.activity.set_positive`,
  which can also clear the bit again when the tag is removed.

User actions (launch, pause, remove a lead …) are recorded with `actor` = the
workspace user's name (enginy.toml `user`, default "you"); the runtime records
with actor "system".
"""

from __future__ import annotations

import enum


class Milestone(enum.IntFlag):
    """What has ever happened to a lead in a campaign (bits of `enrollments.milestones`)."""

    STARTED = 1 << 0  # at least one sequence step executed (action or condition)
    LI_ENGAGED = 1 << 1  # any LinkedIn interaction: visit, reaction, invitation, message …
    LI_INVITED = 1 << 2  # a connection request was sent by this campaign
    LI_ACCEPTED = 1 << 3  # the lead accepted it
    LI_CONTACTED = 1 << 4  # at least one LinkedIn message (message, InMail, attachment, voice)
    LI_REPLIED = 1 << 5
    LI_POSITIVE = 1 << 6
    EM_SENT = 1 << 7  # at least one email was sent to the lead
    EM_OPENED = 1 << 8
    EM_CLICKED = 1 << 9
    EM_REPLIED = 1 << 10
    EM_POSITIVE = 1 << 11
    EM_BOUNCED = 1 << 12
    OUT_OF_OFFICE = 1 << 13  # an auto-reply came back (not a reply)
    TASK_CREATED = 1 << 14


CONTACTED = Milestone.LI_CONTACTED | Milestone.EM_SENT
REPLIED = Milestone.LI_REPLIED | Milestone.EM_REPLIED
POSITIVE = Milestone.LI_POSITIVE | Milestone.EM_POSITIVE


class Kind(enum.StrEnum):
    """Kinds of activity rows."""

    # sequence steps executed by the runtime (actor "system")
    LINKEDIN_PROFILE_VISITED = "linkedin_profile_visited"
    LINKEDIN_POST_REACTED = "linkedin_post_reacted"
    LINKEDIN_INVITE_SENT = "linkedin_invite_sent"
    LINKEDIN_MESSAGE_SENT = "linkedin_message_sent"
    LINKEDIN_INMAIL_SENT = "linkedin_inmail_sent"
    LINKEDIN_ATTACHMENT_SENT = "linkedin_attachment_sent"
    LINKEDIN_VOICE_SENT = "linkedin_voice_sent"
    EMAIL_SENT = "email_sent"
    TASK_CREATED = "task_created"
    ADDED_TO_CAMPAIGN = "added_to_campaign"  # the "Add to another campaign" action
    CONDITION_EVALUATED = "condition_evaluated"
    STEP_FAILED = "step_failed"  # the lead went to Error; detail has the substatus
    SEQUENCE_FINISHED = "sequence_finished"

    # what the lead (or the world) did, detected by pollers and watchers
    LINKEDIN_INVITE_ACCEPTED = "linkedin_invite_accepted"
    LINKEDIN_INVITE_WITHDRAWN = "linkedin_invite_withdrawn"
    LINKEDIN_REPLY_RECEIVED = "linkedin_reply_received"
    EMAIL_OPENED = "email_opened"
    EMAIL_CLICKED = "email_clicked"
    EMAIL_REPLY_RECEIVED = "email_reply_received"
    EMAIL_AUTO_REPLY_RECEIVED = "email_auto_reply_received"
    EMAIL_BOUNCED = "email_bounced"
    # a reply by hand in a conversation (storage/replies.py): no sequence step, no milestone
    LINKEDIN_REPLY_SENT = "linkedin_reply_sent"
    EMAIL_REPLY_SENT = "email_reply_sent"
    TASK_COMPLETED = "task_completed"
    TASK_REOPENED = "task_reopened"
    REPLY_TAGGED_POSITIVE = "reply_tagged_positive"
    REPLY_UNTAGGED_POSITIVE = "reply_untagged_positive"

    # user intents (actor = the workspace user)
    CAMPAIGN_CREATED = "campaign_created"
    CAMPAIGN_EDITED = "campaign_edited"
    CAMPAIGN_LAUNCHED = "campaign_launched"
    CAMPAIGN_SCHEDULED = "campaign_scheduled"
    CAMPAIGN_PAUSED = "campaign_paused"
    CAMPAIGN_RESUMED = "campaign_resumed"
    CAMPAIGN_ARCHIVED = "campaign_archived"
    CAMPAIGN_DELETED = "campaign_deleted"  # kept with campaign_id NULL: the campaign is gone
    CAMPAIGN_DUPLICATED = "campaign_duplicated"
    CAMPAIGN_SAVED_AS_TEMPLATE = "campaign_saved_as_template"
    CONTACTS_ADDED = "contacts_added"
    LEAD_PAUSED = "lead_paused"
    LEAD_RESUMED = "lead_resumed"
    LEAD_REMOVED = "lead_removed"
    LEAD_RETRIED = "lead_retried"
    IDENTITY_CREATED = "identity_created"
    IDENTITY_EDITED = "identity_edited"
    IDENTITY_CONNECTED = "identity_connected"
    IDENTITY_DELETED = "identity_deleted"  # kept with identity_id NULL: the identity is gone
    INBOX_DISCONNECTED = "inbox_disconnected"


_S, _E = Milestone.STARTED, Milestone.LI_ENGAGED

KIND_MILESTONES: dict[Kind, Milestone] = {
    Kind.LINKEDIN_PROFILE_VISITED: _S | _E,
    Kind.LINKEDIN_POST_REACTED: _S | _E,
    Kind.LINKEDIN_INVITE_SENT: _S | _E | Milestone.LI_INVITED,
    Kind.LINKEDIN_MESSAGE_SENT: _S | _E | Milestone.LI_CONTACTED,
    Kind.LINKEDIN_INMAIL_SENT: _S | _E | Milestone.LI_CONTACTED,
    Kind.LINKEDIN_ATTACHMENT_SENT: _S | _E | Milestone.LI_CONTACTED,
    Kind.LINKEDIN_VOICE_SENT: _S | _E | Milestone.LI_CONTACTED,
    Kind.EMAIL_SENT: _S | Milestone.EM_SENT,
    Kind.TASK_CREATED: _S | Milestone.TASK_CREATED,
    Kind.ADDED_TO_CAMPAIGN: _S,
    Kind.CONDITION_EVALUATED: _S,
    Kind.LINKEDIN_INVITE_ACCEPTED: Milestone.LI_ACCEPTED,
    Kind.LINKEDIN_REPLY_RECEIVED: Milestone.LI_REPLIED,
    Kind.EMAIL_OPENED: Milestone.EM_OPENED,
    Kind.EMAIL_CLICKED: Milestone.EM_CLICKED,
    Kind.EMAIL_REPLY_RECEIVED: Milestone.EM_REPLIED,
    Kind.EMAIL_AUTO_REPLY_RECEIVED: Milestone.OUT_OF_OFFICE,
    Kind.EMAIL_BOUNCED: Milestone.EM_BOUNCED,
}
"""Bits a kind sets on the lead's enrollment. Kinds not listed set none."""

CHANNEL_OF: dict[Kind, str] = {
    **{k: "linkedin" for k in Kind if k.value.startswith("linkedin_")},
    **{k: "email" for k in Kind if k.value.startswith("email_")},
    Kind.TASK_CREATED: "task",
    Kind.TASK_COMPLETED: "task",
    Kind.TASK_REOPENED: "task",
}
"""The channel a kind belongs to (the Activity tab's icon); others have none."""

POSITIVE_BIT = {"linkedin": Milestone.LI_POSITIVE, "email": Milestone.EM_POSITIVE}
"""Which bit a positive tag sets, by the channel of the reply."""

CONDITION_KINDS = frozenset({Kind.CONDITION_EVALUATED})
"""Kinds the Activity tab leaves out (spec: "excluding conditions")."""


#: The activity kind recorded when a sequence action's job is done (by the outbox `action`): the
#: runtime records it; the Activity tab names a job still on its way by it ("In progress").
DONE_KIND = {
    "visit_profile": Kind.LINKEDIN_PROFILE_VISITED,
    "react_to_post": Kind.LINKEDIN_POST_REACTED,
    "connection_request": Kind.LINKEDIN_INVITE_SENT,
    "linkedin_message": Kind.LINKEDIN_MESSAGE_SENT,
    "inmail": Kind.LINKEDIN_INMAIL_SENT,
    "linkedin_attachment": Kind.LINKEDIN_ATTACHMENT_SENT,
    "voice_message": Kind.LINKEDIN_VOICE_SENT,
    "email": Kind.EMAIL_SENT,
    "task": Kind.TASK_CREATED,
    "add_to_campaign": Kind.ADDED_TO_CAMPAIGN,
}
