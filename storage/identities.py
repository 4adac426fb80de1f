"""Sender identities: contact details, working hours, LinkedIn limits, sandbox connection.

Every value is checked here, not in the CLI or the TUI, so both refuse the
same things with the same one-line message (`IdentityError`). Bounds:

* working hours: an IANA time zone (checked with zoneinfo, so DST is right),
  at least one working day, start before end (HH:MM);
* LinkedIn (spec, identities.md "Rate Limits"): connection requests and
  messages per day, and automatic withdrawal after N days, within the caps
  of `sequences/limits.py` — the same bounds enginy.toml's defaults are held to;
* InMail credits >= 0; monthly conversation limit empty (none) or >= 1.

Writes take `now` and the acting user and log an activity row.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlite_utils

from sequences.limits import EMAIL_PER_DAY, EMAIL_PER_HOUR, LINKEDIN_INVITES_PER_DAY, LINKEDIN_MESSAGES_PER_DAY, WITHDRAW_AFTER_DAYS
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.db import transaction

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

LIMITS = {
    "daily_connection_limit": LINKEDIN_INVITES_PER_DAY,
    "daily_message_limit": LINKEDIN_MESSAGES_PER_DAY,
    "withdraw_after_days": WITHDRAW_AFTER_DAYS,
}

TEXT_FIELDS = ("name", "first_name", "last_name", "email", "job_title", "company", "linkedin_url",
               "phone", "meeting_url")
BOOL_FIELDS = ("premium", "sales_navigator", "withdraw_enabled", "likings_opt_out")
#: A campaign row's extra column: its identity's likings opt-out (the runtime skips its post reactions).
LIKINGS_OPT_OUT = ("(SELECT likings_opt_out FROM identities WHERE identities.id = campaigns.identity_id)"
                   " AS likings_opt_out")
EDITABLE = frozenset(TEXT_FIELDS + BOOL_FIELDS + tuple(LIMITS) + (
    "timezone", "working_days", "work_start", "work_end", "inmail_credits", "monthly_conversation_limit"))

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class IdentityError(ValueError):
    """A value the user can fix; the message is one line naming the field."""


def parse_days(text: str | list[str]) -> str:
    """'mon-fri', 'mon,wed,fri', 'mon-wed,sat' or a list → 'mon,tue,…' in week order."""
    parts = text if isinstance(text, list) else re.split(r"[,\s]+", re.sub(r"\s*-\s*", "-", text.strip().lower()))
    days: set[str] = set()
    for part in filter(None, (p.strip().lower() for p in parts)):
        lo, _, hi = part.partition("-")
        if lo not in WEEKDAYS or (hi and hi not in WEEKDAYS):
            raise IdentityError(f"working days: {part!r} is not a day or a range of days "
                                f"(use {', '.join(WEEKDAYS)}, e.g. mon-fri)")
        a, b = WEEKDAYS.index(lo), WEEKDAYS.index(hi or lo)
        if b < a:
            raise IdentityError(f"working days: the range {part!r} runs backwards (write e.g. mon-fri)")
        days.update(WEEKDAYS[a:b + 1])
    if not days:
        raise IdentityError("working days: at least one day is needed")
    return ",".join(d for d in WEEKDAYS if d in days)


_HHMM = re.compile(r"^(\d{1,2}):(\d{2})$")


def _hhmm(value: str, field: str) -> str:
    """'9:05' or '09:05' → '09:05' (stored zero-padded, so times compare as text)."""
    match = _HHMM.match(value.strip())
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise IdentityError(f"{field}: expected a time like 09:00, got {value!r}")
    return f"{int(match[1]):02d}:{match[2]}"


def parse_hours(text: str) -> tuple[str, str]:
    """'09:00-18:00' → ('09:00', '18:00'); the day must end after it starts."""
    start, sep, end = text.partition("-")
    if not sep:
        raise IdentityError(f"working hours: expected START-END like 09:00-18:00, got {text!r}")
    return _hhmm(start, "working hours start"), _hhmm(end, "working hours end")


def check_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise IdentityError(f"unknown time zone {name!r} (use an IANA name such as Europe/Madrid "
                            "or America/New_York)") from None
    return name


def _clean(changes: dict[str, Any]) -> dict[str, Any]:
    """Validate and normalise field values; unknown fields are a programming error."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise IdentityError(f"not an identity setting: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for field, value in changes.items():
        if field in TEXT_FIELDS:
            value = (value or "").strip()
            if field == "name" and not value:
                raise IdentityError("an identity needs a name")
            if field == "email" and value and not _EMAIL.match(value):
                raise IdentityError(f"email: {value!r} is not an email address")
            if field in ("email", "linkedin_url"):
                value = value or None
        elif field in BOOL_FIELDS:
            value = int(bool(value))
        elif field in LIMITS:
            cap = LIMITS[field]
            if not isinstance(value, int) or not cap.allows(value):
                raise IdentityError(f"{field.replace('_', ' ')}: must be between {cap.low} and {cap.high}, got {value}")
        elif field == "inmail_credits":
            if not isinstance(value, int) or value < 0:
                raise IdentityError(f"InMail credits: must be 0 or more, got {value}")
        elif field == "monthly_conversation_limit":
            if value is not None and (not isinstance(value, int) or value < 1):
                raise IdentityError(f"monthly conversation limit: must be 1 or more (or none), got {value}")
        elif field == "timezone":
            value = check_timezone(value)
        elif field == "working_days":
            value = parse_days(value)
        elif field in ("work_start", "work_end"):
            value = _hhmm(value, field.replace("_", " "))
        out[field] = value
    return out


def _check_window(row: dict[str, Any]) -> None:
    if row["work_start"] >= row["work_end"]:
        raise IdentityError(f"working hours: the day must end after it starts "
                            f"({row['work_start']}-{row['work_end']})")


def get_identity(db: sqlite_utils.Database, ref: int | str) -> dict[str, Any]:
    """An identity by id or exact name; IdentityError listing the known ones if none."""
    rows: list[dict] = []
    if isinstance(ref, int) or str(ref).isdigit():
        rows = list(db.query("SELECT * FROM identities WHERE id = ?", [int(ref)]))
    if not rows:
        rows = list(db.query("SELECT * FROM identities WHERE name = ?", [str(ref)]))
    if not rows:
        names = [r["name"] for r in db.query("SELECT name FROM identities ORDER BY id LIMIT 10")]
        known = f" (identities: {', '.join(names)})" if names else " (none yet: `enginy identity add NAME`)"
        raise IdentityError(f"no identity {str(ref)!r}{known}")
    if len(rows) > 1:
        raise IdentityError(f"several identities are named {ref!r}; use the id "
                            f"({', '.join(str(r['id']) for r in rows)})")
    return rows[0]


def list_identities(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """All identities with their inbox count (a workspace has a handful, not thousands)."""
    return list(db.query(
        "SELECT i.*, (SELECT COUNT(*) FROM inboxes b WHERE b.identity_id = i.id AND b.connected) AS inboxes"
        " FROM identities i ORDER BY i.id"))


def create_identity(db: sqlite_utils.Database, name: str, *, now: datetime, actor: str,
                    **fields: Any) -> int:
    """A new identity; omitted fields take the schema's defaults (20 invitations, 100 messages a day)."""
    values = _clean({"name": name, **fields})
    row = {"work_start": "09:00", "work_end": "18:00", **values}
    _check_window(row)
    at = iso(now)
    with transaction(db):
        cols = list(values) + ["created_at", "updated_at"]
        cursor = db.execute(
            f"INSERT INTO identities ({', '.join(cols)}) VALUES ({', '.join('?' for _ in cols)})",
            [*values.values(), at, at],
        )
        identity_id = cursor.lastrowid
        record(db, kind=Kind.IDENTITY_CREATED, now=now, identity_id=identity_id, actor=actor,
               detail={"name": values["name"]})
    return identity_id


def update_identity(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str,
                    **changes: Any) -> dict[str, Any]:
    """Change some settings; the runtime reads limits and hours from the row, so they apply at once."""
    values = _clean(changes)
    with transaction(db):
        current = get_identity(db, ref)
        _check_window({**current, **values})
        if values:
            sets = ", ".join(f"{k} = ?" for k in values)
            db.execute(f"UPDATE identities SET {sets}, updated_at = ? WHERE id = ?",
                       [*values.values(), iso(now), current["id"]])
            record(db, kind=Kind.IDENTITY_EDITED, now=now, identity_id=current["id"], actor=actor,
                   detail={"changed": sorted(values)})
        return get_identity(db, current["id"])


def connect_sandbox(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str,
                    per_day: int = EMAIL_PER_DAY.default, per_hour: int = EMAIL_PER_HOUR.default) -> dict[str, Any]:
    """Connect the identity to the simulated LinkedIn and a simulated inbox.

    Nothing real is ever contacted: the runtime drives the `sandbox` LinkedIn
    driver for this identity and sends its email through the sandbox inbox
    (provider 'sandbox'). The inbox address is the identity's email, or a
    reserved `.invalid` address when it has none. Calling it again is harmless.
    """
    at = iso(now)
    with transaction(db):
        ident = get_identity(db, ref)
        if ident["linkedin_driver"] == "gateway" and ident["linkedin_connected"]:
            raise IdentityError(f"identity {ident['name']!r} is connected to a real LinkedIn gateway; "
                                "create a separate identity for the sandbox")
        db.execute("UPDATE identities SET linkedin_driver = 'sandbox', linkedin_connected = 1, updated_at = ?"
                   " WHERE id = ?", [at, ident["id"]])
        address = ident["email"] or f"identity-{ident['id']}@sandbox.invalid"
        db.execute(
            "INSERT INTO inboxes (identity_id, email, provider, per_day, per_hour, connected, created_at, updated_at)"
            " VALUES (?, ?, 'sandbox', ?, ?, 1, ?, ?) ON CONFLICT (identity_id, email) DO NOTHING",
            [ident["id"], address, per_day, per_hour, at, at],
        )
        record(db, kind=Kind.IDENTITY_CONNECTED, now=now, identity_id=ident["id"], actor=actor,
               detail={"linkedin": "sandbox", "inbox": address})
        return get_identity(db, ident["id"])


def inboxes_of(db: sqlite_utils.Database, identity_id: int) -> list[dict[str, Any]]:
    """The identity's inboxes with what their caps are made of: one warming up carries its ramp's start
    and length (its recent push-back is `storage.inboxes.with_warmup`'s, for the callers that step the ramp)."""
    return list(db.query("SELECT id, email, provider, per_day, per_hour, connected, warmup_start, warmup_days"
                         " FROM inboxes WHERE identity_id = ? ORDER BY id", [identity_id]))


def set_linkedin_manual(db: sqlite_utils.Database, identity_id: int, *, linkedin_url: str | None, now: str) -> None:
    """No LinkedIn connection: the identity keeps profile data only (its URL if given)."""
    db.execute("UPDATE identities SET linkedin_driver = 'manual', linkedin_connected = 0,"
               " linkedin_url = COALESCE(?, linkedin_url), updated_at = ? WHERE id = ?",
               [linkedin_url, now, identity_id])


def set_linkedin_gateway(db: sqlite_utils.Database, identity_id: int, *, account_id: str, gateway_url: str,
                         premium: bool, sales_navigator: bool, first_name: str, last_name: str,
                         linkedin_url: str | None, now: str) -> None:
    """The identity's LinkedIn goes through a gateway account; its queue restarts, and the account's
    names and profile URL fill what the identity left empty."""
    db.execute(
        "UPDATE identities SET linkedin_driver = 'gateway', linkedin_connected = 1, linkedin_account_id = ?,"
        " gateway_url = ?, premium = ?, sales_navigator = ?, linkedin_queue_paused = 0,"
        " first_name = CASE WHEN first_name = '' THEN ? ELSE first_name END,"
        " last_name = CASE WHEN last_name = '' THEN ? ELSE last_name END,"
        " linkedin_url = COALESCE(linkedin_url, ?), updated_at = ? WHERE id = ?",
        [account_id, gateway_url, int(premium), int(sales_navigator), first_name, last_name, linkedin_url, now,
         identity_id],
    )


def connected_inbox_ids(db: sqlite_utils.Database, identity_id: int) -> set[int]:
    return {r[0] for r in db.execute("SELECT id FROM inboxes WHERE identity_id = ? AND connected = 1",
                                     [identity_id]).fetchall()}


def real_inbox_ids(db: sqlite_utils.Database, identity_id: int | None = None) -> set[int]:
    """Connected inboxes that are real mail servers (anything but the sandbox world)."""
    sql = "SELECT id FROM inboxes WHERE connected = 1 AND provider != 'sandbox'"
    args: list = []
    if identity_id is not None:
        sql += " AND identity_id = ?"
        args.append(identity_id)
    return {r[0] for r in db.execute(sql, args).fetchall()}


def identities_by_id(db: sqlite_utils.Database) -> dict[int, dict[str, Any]]:
    """Every identity's row, by id."""
    return {r["id"]: r for r in db.query("SELECT * FROM identities")}


def linkedin_lost(db: sqlite_utils.Database, identity_id: int, *, disconnected: bool, why: str,
                  now: datetime) -> None:
    """The identity's LinkedIn account cannot be used: disconnected, or restricted (its queue paused
    until the user resumes it); the activity log says why. Call inside a transaction."""
    column = "linkedin_connected = 0" if disconnected else "linkedin_queue_paused = 1"
    db.execute(f"UPDATE identities SET {column}, updated_at = ? WHERE id = ?", [iso(now), identity_id])
    record(db, kind=Kind.IDENTITY_EDITED, now=now, identity_id=identity_id, actor="runtime",
           detail={"changed": [column.split()[0]], "why": why})


def identities_running(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Whole rows of the identities with a running campaign."""
    return list(db.query(
        "SELECT * FROM identities WHERE id IN (SELECT identity_id FROM campaigns WHERE status = 'running')"))


def set_linkedin_paused(db: sqlite_utils.Database, identity_id: int, paused: bool, *, now: datetime,
                        actor: str) -> None:
    """Pause or resume the identity's LinkedIn queue (the queue monitor's intent). The runtime sees
    the row change and restarts the identity's actor, which halts its LinkedIn queue while the flag
    is set (the same flag a restricted account sets); email is not touched."""
    with transaction(db):
        db.execute("UPDATE identities SET linkedin_queue_paused = ?, updated_at = ? WHERE id = ?",
                   [int(paused), iso(now), identity_id])
        record(db, kind=Kind.IDENTITY_EDITED, now=now, identity_id=identity_id, actor=actor,
               detail={"changed": ["linkedin_queue_paused"], "paused": paused})
