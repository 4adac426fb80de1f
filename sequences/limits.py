"""Every limit of the spec, written once: content lengths, and the caps actions are counted against.

Validation (the editor, `campaigns create`), the step function (after
personalisation), the drivers (just before a send), the configuration
checks and the runtime's token buckets all read these, so a campaign that
passes validation cannot fail at send time for a limit it was never told
about, and a cap's default and maximum cannot drift between the places
that offer, check and enforce it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

# --- content (spec: "Message too long" 1,900 characters; LinkedIn refuses a
# connection note over 300 and an InMail subject over 200)
NOTE_MAX_CHARS = 300
MESSAGE_MAX_CHARS = 1900
INMAIL_MAX_CHARS = 1900
INMAIL_SUBJECT_MAX_CHARS = 200


# --- sequence bounds: what a step may ask for at all, so every date the step function
# computes stays a date (a delay of 10^12 days overflows datetime and used to stop the runtime)
#: The longest wait before one step (days and hours together): a year.
MAX_DELAY_DAYS = 365
MAX_DELAY_HOURS = MAX_DELAY_DAYS * 24
#: Steps in one sequence; with the longest delays a path still ends within ~200 years of now.
MAX_STEPS = 200
#: Chunks of one LinkedIn message (each sent as its own message, like a real chat).
MAX_CHUNKS = 10
#: "Accepted within" and "contacted within": a year at most (LinkedIn drops invitations after ~6 months).
MAX_WITHIN_DAYS = 365
#: One-line texts (step ids, email subjects, task titles, field names, values): RFC 5322's line length.
LINE_MAX_CHARS = 998
#: Long texts (an email's body or HTML, a task's notes): far above any real email, far below memory trouble.
TEXT_MAX_CHARS = 100_000


# --- what the command line and enginy.toml accept: each bound keeps a value inside what the
# code can compute with (an id SQLite can store, a date datetime can hold, a port that exists)
#: Row ids, paging keys and seeds: SQLite's largest integer.
ID_MAX = SEED_MAX = 2**63 - 1
#: Workspace seconds per real second (`--speed`, `[demo] speed`): a million is 11.6 days a second.
SPEED_MAX = 1_000_000.0
#: Days a simulation or a forecast runs, and the widest "older than" a command takes: ten years.
RUN_DAYS_MAX = 3650
#: How long `enginy stop --wait` waits, in seconds.
WAIT_MAX_S = 3600.0
#: TCP ports.
PORT_MAX = 65535
#: Contacts `enginy demo` seeds.
DEMO_CONTACTS_MAX = 100_000


def speed_problem(speed: float) -> str | None:
    """Why a clock speed cannot be used (not a number, not positive, over SPEED_MAX), None when it can."""
    if not math.isfinite(speed) or not 0 < speed <= SPEED_MAX:
        return f"must be a number above 0 and at most {SPEED_MAX:,.0f}, not {speed}"
    return None


def delay_problem(days: int, hours: int) -> str | None:
    """Why a delay cannot be used (negative, or longer than `MAX_DELAY_DAYS`), None when it can."""
    if days < 0 or hours < 0:
        return "a delay cannot be negative"
    if days * 24 + hours > MAX_DELAY_HOURS:
        return f"a delay can be at most {MAX_DELAY_DAYS} days ({MAX_DELAY_HOURS:,} hours)"
    return None


@dataclass(frozen=True)
class Cap:
    """A cap a user may set, with the spec's default and the range enginy accepts."""

    default: int
    low: int
    high: int

    def allows(self, value: int) -> bool:
        return self.low <= value <= self.high

    def clamp(self, value: int) -> int:
        """The value the runtime enforces: never above the maximum, whatever was stored."""
        return max(self.low, min(int(value), self.high))


# --- email, per connected inbox (spec: per day default 30, max 80; per hour default 5, max 10)
EMAIL_PER_DAY = Cap(30, 1, 80)
EMAIL_PER_HOUR = Cap(5, 1, 10)

# --- LinkedIn, per identity. enginy caps connection requests at 100 and
# messages at 150 a day: the spec's "technically possible" Premium range
# tops out at 100 invitations, and 150 is its highest daily LinkedIn figure.
LINKEDIN_INVITES_PER_DAY = Cap(20, 1, 100)
LINKEDIN_MESSAGES_PER_DAY = Cap(100, 1, 150)
#: Automatic withdrawal of invitations pending this many days (LinkedIn drops them after about six months).
WITHDRAW_AFTER_DAYS = Cap(21, 1, 180)

#: LinkedIn refuses a new invitation to a person within 3 weeks of a withdrawal (the spec:
#: "LinkedIn blocks new invites to that contact for 3 weeks"); Enginy re-invites after it.
INVITATION_COOLDOWN = timedelta(weeks=3)
#: A share link is valid for 24 hours and can be used once (identities.md, "Option C: Share").
SHARE_LINK_HOURS = 24


def days_until(until: datetime, now: datetime) -> int:
    """Whole days left before `until`, rounded up ("X days remaining"); 0 once it has passed."""
    return max(0, math.ceil((until - now).total_seconds() / 86400))


def cooldown_days_left(withdrawn_at: datetime, now: datetime) -> int:
    """Days before a person whose invitation was withdrawn at `withdrawn_at` may be invited again."""
    return days_until(withdrawn_at + INVITATION_COOLDOWN, now)

#: Profile visits a day (spec: 50, 150 with Premium), at most one every 4 minutes.
PROFILE_VISITS_PER_DAY = 50
PROFILE_VISITS_PER_DAY_PREMIUM = 150
VISIT_SPACING_SECONDS = 240
#: Post reactions: at most one every 5 minutes.
REACTION_SPACING_SECONDS = 300
#: Connection evaluations (acceptance checks): 5 per 30 minutes.
EVALUATIONS_PER_WINDOW = 5
EVALUATION_WINDOW_SECONDS = 1800


def profile_visits_per_day(premium: bool) -> int:
    return PROFILE_VISITS_PER_DAY_PREMIUM if premium else PROFILE_VISITS_PER_DAY
