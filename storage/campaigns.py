"""Campaign lifecycle: create, edit, launch, pause/resume, archive, delete, duplicate, save as template.

Each operation is one transaction that changes the `campaigns` row and logs
who did it in the activity log. The runtime reads these rows and acts on
them (it never gets a call from here):

* `running` — the supervisor runs the campaign's actor; `scheduled` — it does
  so from `scheduled_at` on, flipping the row to `running` and setting
  `launched_at` when that time comes;
* `paused` — no new action for any lead; lead rows are left as they are (the
  audience chips show them as paused, see storage/metrics.py), so pausing and
  resuming a million-lead campaign costs one row;
* `archived` — never runs again and cannot be reactivated; its queued outbox
  rows are cancelled here;
* a changed `sequence` (only delays and texts once launched; see
  sequences/lock.py) is picked up by the runtime for steps it has not
  scheduled yet; `updated_at` moves with every change.

Sequences are stored as the JSON of `sequences.model.Sequence`; settings as
the JSON of `Settings`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec
import sqlite_utils

from sequences.lock import lock_message, locked_changes
from sequences.model import Sequence, from_json, to_json
from sequences.statuses import CampaignStatus, Priority
from sequences.templates import BUILTIN_TEMPLATES, Template, TemplateError, find_template
from sequences.templates import save_as_template as _as_template
from sequences.validate import validate
from storage.activity import iso, record
from storage.activity_kinds import Kind
from storage.db import transaction
from storage.identities import LIKINGS_OPT_OUT, IdentityError, get_identity

Sync = Literal["no", "yes", "on_reply"]


class CampaignError(ValueError):
    """A request the campaign's state or content refuses; one line the user can act on."""


class Settings(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """Step 4 of the wizard (and the AI agent's reply mode of step 3).

    `inboxes` empty = every connected inbox of the identity; `shuffle`
    rotates new leads across them (a lead keeps the inbox that started its
    conversation). CRM sync is out of scope; its choices are kept so a
    campaign round-trips.
    """

    skip_prior_conversations: bool = False
    inboxes: list[int] = msgspec.field(default_factory=list)
    shuffle_inboxes: bool = True
    track_opens: bool = False
    track_clicks: bool = False
    reply_handling: Literal["manual", "copilot", "auto"] = "manual"
    ai_prompt: str = ""
    #: the campaign's AI variables: name (as `sequences.render.ai_name` spells it) -> its prompt
    ai_variables: dict[str, str] = msgspec.field(default_factory=dict)
    crm_contacts_sync: Sync = "no"
    crm_conversations_sync: Sync = "no"


# --- reading ------------------------------------------------------------------


def get_campaign(db: sqlite_utils.Database, ref: int | str) -> dict[str, Any]:
    """A campaign row by id or exact name; CampaignError if there is none (or the name is ambiguous)."""
    rows: list[dict] = []
    if isinstance(ref, int) or str(ref).isdigit():
        rows = list(db.query("SELECT * FROM campaigns WHERE id = ?", [int(ref)]))
    if not rows:
        rows = list(db.query("SELECT * FROM campaigns WHERE name = ?", [str(ref)]))
    if not rows:
        raise CampaignError(f"no campaign {str(ref)!r} (see `enginy campaigns list`)")
    if len(rows) > 1:
        raise CampaignError(f"several campaigns are named {ref!r}; use the id ({', '.join(str(r['id']) for r in rows)})")
    return rows[0]


def campaign_names(db: sqlite_utils.Database) -> list[str]:
    """The names "Add to another campaign" can target, alphabetically: every
    campaign not archived (the runtime looks the target up by name, skipping archived ones)."""
    return [r[0] for r in db.execute(
        "SELECT DISTINCT name FROM campaigns WHERE status != 'archived' ORDER BY name COLLATE NOCASE")]


def sequence_of(row: dict[str, Any]) -> Sequence:
    return from_json(row["sequence"])


def settings_of(row: dict[str, Any]) -> Settings:
    return msgspec.json.decode(row["settings"], type=Settings)


def user_templates(db: sqlite_utils.Database) -> tuple[Template, ...]:
    return tuple(_as_template(r["name"], from_json(r["sequence"]), r["description"])
                 for r in db.query("SELECT name, description, sequence FROM user_templates ORDER BY name"))


def parse_sequence(data: bytes | str, *, source: str = "the sequence") -> Sequence:
    """Decode sequence JSON and validate it; CampaignError naming the step (or JSON path) otherwise."""
    try:
        seq = from_json(data)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise CampaignError(f"{source} is not a valid sequence: {exc}") from None
    _check_valid(seq, source)
    return seq


def _check_valid(seq: Sequence, source: str) -> None:
    errors = validate(seq)
    if errors:
        more = f" (and {len(errors) - 1} more problem{'s' * (len(errors) > 2)})" if len(errors) > 1 else ""
        raise CampaignError(f"{source}: {errors[0].message}{more}")


# --- creating -----------------------------------------------------------------


def _choices(value: str, allowed: type, what: str) -> str:
    try:
        return allowed(value.lower()).value
    except ValueError:
        raise CampaignError(f"{what} must be one of {', '.join(m.value for m in allowed)}, not {value!r}") from None


def create_campaign(
    db: sqlite_utils.Database,
    *,
    identity: int | str,
    now: datetime,
    actor: str,
    template: str | None = None,
    sequence: Sequence | None = None,
    name: str | None = None,
    priority: str = "medium",
    tags: list[str] | tuple[str, ...] = (),
    folder: str = "",
    settings: Settings | None = None,
) -> int:
    """A Draft campaign from a template (built-in or saved, by name) or a sequence.

    The identity is mandatory; the name defaults to "[Identity name]'s Campaign".
    A sequence without steps is a campaign started "from scratch" (the wizard
    saves it at once so nothing is lost; the launch refuses it until it has steps).
    """
    if (template is None) == (sequence is None):
        raise CampaignError("give either a template or a sequence")
    priority = _choices(priority, Priority, "priority")
    with transaction(db):
        try:
            ident = get_identity(db, identity)
        except IdentityError as exc:
            raise CampaignError(str(exc)) from None
        if template is not None:
            found = find_template(template, user_templates(db))
            if found is None:
                names = [t.name for t in (*BUILTIN_TEMPLATES, *user_templates(db))]
                raise CampaignError(f"no template {template!r} (templates: {', '.join(names)})")
            sequence = found.sequence
            _check_valid(sequence, f"template {found.name!r}")
        elif sequence.nodes:  # type: ignore[union-attr]
            _check_valid(sequence, "the sequence")  # type: ignore[arg-type]
        name = (name or "").strip() or f"{ident['name']}'s Campaign"
        at = iso(now)
        cursor = db.execute(
            "INSERT INTO campaigns (name, identity_id, status, priority, tags, folder, settings, sequence,"
            " created_by, created_at, updated_at) VALUES (?, ?, 'draft', ?, ?, ?, ?, ?, ?, ?, ?)",
            [name, ident["id"], priority, _tags_json(tags), folder.strip(),
             msgspec.json.encode(settings or Settings()).decode(), to_json(sequence).decode(),  # type: ignore[arg-type]
             actor, at, at],
        )
        campaign_id = cursor.lastrowid
        record(db, kind=Kind.CAMPAIGN_CREATED, now=now, campaign_id=campaign_id, identity_id=ident["id"],
               actor=actor, detail={"name": name, "template": template})
    return campaign_id


def _tags_json(tags: list[str] | tuple[str, ...]) -> str:
    clean = sorted({t.strip() for t in tags if t.strip()})
    return msgspec.json.encode(clean).decode()


# --- editing ------------------------------------------------------------------


def _require_not_archived(row: dict[str, Any], doing: str) -> None:
    if row["status"] == CampaignStatus.ARCHIVED.value:
        raise CampaignError(f"campaign {row['name']!r} is archived: it cannot be {doing}")


def update_campaign(
    db: sqlite_utils.Database,
    ref: int | str,
    *,
    now: datetime,
    actor: str,
    name: str | None = None,
    priority: str | None = None,
    tags: list[str] | None = None,
    folder: str | None = None,
    settings: Settings | None = None,
    identity: int | str | None = None,
) -> dict[str, Any]:
    """Change the campaign's name, priority, tags, folder or settings (allowed while it runs),
    or its identity (only while a Draft: a launched campaign's leads are that identity's)."""
    changes: dict[str, Any] = {}
    if name is not None:
        if not name.strip():
            raise CampaignError("a campaign name cannot be empty")
        changes["name"] = name.strip()
    if priority is not None:
        changes["priority"] = _choices(priority, Priority, "priority")
    if tags is not None:
        changes["tags"] = _tags_json(tags)
    if folder is not None:
        changes["folder"] = folder.strip()
    if settings is not None:
        changes["settings"] = msgspec.json.encode(settings).decode()
    with transaction(db):
        row = get_campaign(db, ref)
        _require_not_archived(row, "edited")
        if identity is not None:
            try:
                new_identity = get_identity(db, identity)["id"]
            except IdentityError as exc:
                raise CampaignError(str(exc)) from None
            if new_identity != row["identity_id"]:
                if row["status"] != CampaignStatus.DRAFT.value:
                    raise CampaignError(f"campaign {row['name']!r} is {row['status']}: only a Draft can change identity")
                changes["identity_id"] = new_identity
        if changes:
            _write(db, row["id"], now, **changes)
            record(db, kind=Kind.CAMPAIGN_EDITED, now=now, campaign_id=row["id"], actor=actor,
                   detail={"changed": sorted(changes)})
        return get_campaign(db, row["id"])


def edit_sequence(db: sqlite_utils.Database, ref: int | str, new: Sequence, *, now: datetime,
                  actor: str) -> dict[str, Any]:
    """Replace the sequence. A Draft takes any valid sequence; once launched only
    delays and message texts may change (see sequences/lock.py)."""
    with transaction(db):
        row = get_campaign(db, ref)
        _require_not_archived(row, "edited")
        if row["status"] != CampaignStatus.DRAFT.value:
            problems = locked_changes(sequence_of(row), new)
            if problems:
                raise CampaignError(lock_message(problems))
        _check_valid(new, "the new sequence")
        _write(db, row["id"], now, sequence=to_json(new).decode())
        record(db, kind=Kind.CAMPAIGN_EDITED, now=now, campaign_id=row["id"], actor=actor,
               detail={"changed": ["sequence"]})
        return get_campaign(db, row["id"])


def save_edited_sequence(db: sqlite_utils.Database, ref: int | str, new: Sequence, *, now: datetime,
                         actor: str) -> dict[str, Any]:
    """The tree editor's save after each command (the app's and `campaigns edit --command`).

    A Draft is saved as it is being built: its steps may still be incomplete (an
    email without its subject yet, even no step at all), the launch checks them; it
    must only be a tree (ids, pointers, each step reached once). A launched campaign
    goes through `edit_sequence`: delays and texts only, and valid."""
    with transaction(db):
        row = get_campaign(db, ref)
        if row["status"] != CampaignStatus.DRAFT.value:
            return edit_sequence(db, row["id"], new, now=now, actor=actor)
        broken = validate(new, content=False)
        if broken:
            raise CampaignError(f"the new sequence: {broken[0].message}")
        _write(db, row["id"], now, sequence=to_json(new).decode())
        record(db, kind=Kind.CAMPAIGN_EDITED, now=now, campaign_id=row["id"], actor=actor,
               detail={"changed": ["sequence"]})
        return get_campaign(db, row["id"])


def _write(db: sqlite_utils.Database, campaign_id: int, now: datetime, **values: Any) -> None:
    sets = ", ".join(f"{k} = ?" for k in values)
    db.execute(f"UPDATE campaigns SET {sets}, updated_at = ? WHERE id = ?", [*values.values(), iso(now), campaign_id])


# --- status changes -------------------------------------------------------------


def launch_campaign(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str,
                    at: datetime | None = None) -> dict[str, Any]:
    """Draft (or Scheduled) → Running now, or → Scheduled for `at` (a future time).

    The sequence is validated first: a campaign that would fail lead after
    lead is refused once, up front, naming the step.
    """
    with transaction(db):
        row = get_campaign(db, ref)
        status = row["status"]
        if status == CampaignStatus.ARCHIVED.value:
            raise CampaignError(f"campaign {row['name']!r} is archived and cannot be reactivated; duplicate it instead")
        if status in (CampaignStatus.RUNNING.value, CampaignStatus.PAUSED.value):
            raise CampaignError(f"campaign {row['name']!r} is already launched ({status})"
                                + ("; resume it instead" if status == "paused" else ""))
        _check_valid(sequence_of(row), f"campaign {row['name']!r}")
        if at is not None and at > now:
            _write(db, row["id"], now, status=CampaignStatus.SCHEDULED.value, scheduled_at=iso(at))
            record(db, kind=Kind.CAMPAIGN_SCHEDULED, now=now, campaign_id=row["id"], actor=actor,
                   detail={"at": iso(at)})
        elif at is not None:
            raise CampaignError(f"the launch time {iso(at)} is in the past; leave --at out to launch now")
        else:
            _write(db, row["id"], now, status=CampaignStatus.RUNNING.value, launched_at=iso(now))
            record(db, kind=Kind.CAMPAIGN_LAUNCHED, now=now, campaign_id=row["id"], actor=actor)
        return get_campaign(db, row["id"])


def pause_campaign(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str) -> dict[str, Any]:
    """Running or Scheduled → Paused: no new action for any lead until resumed."""
    with transaction(db):
        row = get_campaign(db, ref)
        if row["status"] not in (CampaignStatus.RUNNING.value, CampaignStatus.SCHEDULED.value):
            raise CampaignError(f"campaign {row['name']!r} is {row['status']}; only a running or scheduled "
                                "campaign can be paused")
        _write(db, row["id"], now, status=CampaignStatus.PAUSED.value)
        record(db, kind=Kind.CAMPAIGN_PAUSED, now=now, campaign_id=row["id"], actor=actor)
        return get_campaign(db, row["id"])


def resume_campaign(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str) -> dict[str, Any]:
    """Paused → Running (or back to Scheduled when it was paused before its start time)."""
    with transaction(db):
        row = get_campaign(db, ref)
        if row["status"] != CampaignStatus.PAUSED.value:
            raise CampaignError(f"campaign {row['name']!r} is {row['status']}, not paused")
        if row["launched_at"] is None and row["scheduled_at"] and row["scheduled_at"] > iso(now):
            _write(db, row["id"], now, status=CampaignStatus.SCHEDULED.value)
        else:
            _write(db, row["id"], now, status=CampaignStatus.RUNNING.value,
                   launched_at=row["launched_at"] or iso(now))
        record(db, kind=Kind.CAMPAIGN_RESUMED, now=now, campaign_id=row["id"], actor=actor)
        return get_campaign(db, row["id"])


def archive_campaign(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str) -> dict[str, Any]:
    """Any status → Archived, for good: it never runs again and cannot be reactivated."""
    with transaction(db):
        row = get_campaign(db, ref)
        if row["status"] == CampaignStatus.ARCHIVED.value:
            raise CampaignError(f"campaign {row['name']!r} is already archived")
        _write(db, row["id"], now, status=CampaignStatus.ARCHIVED.value, archived_at=iso(now))
        db.execute("UPDATE outbox SET state = 'cancelled', updated_at = ? WHERE campaign_id = ?"
                   " AND state IN ('queued', 'claimed')", [iso(now), row["id"]])
        record(db, kind=Kind.CAMPAIGN_ARCHIVED, now=now, campaign_id=row["id"], actor=actor)
        return get_campaign(db, row["id"])


def delete_campaign(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str) -> dict[str, Any]:
    """Remove the campaign with its audience, log and queued actions, permanently.

    Conversations and messages stay (they belong to the contact); they just
    lose their link to the campaign. The deletion itself is logged without a
    campaign id, so the log still tells who deleted what.
    """
    with transaction(db):
        row = get_campaign(db, ref)
        db.execute("DELETE FROM campaigns WHERE id = ?", [row["id"]])
        record(db, kind=Kind.CAMPAIGN_DELETED, now=now, identity_id=row["identity_id"], actor=actor,
               detail={"campaign_id": row["id"], "name": row["name"]})
        return row


def duplicate_campaign(db: sqlite_utils.Database, ref: int | str, *, now: datetime, actor: str,
                       name: str | None = None, with_audience: bool = False) -> int:
    """A Draft copy with the same identity, sequence, settings, priority, tags and folder.

    The audience is copied only when asked (`with_audience`), as fresh Not
    started leads; leads removed from the original stay out.
    """
    with transaction(db):
        row = get_campaign(db, ref)
        at = iso(now)
        new_name = (name or "").strip() or f"{row['name']} (copy)"
        cursor = db.execute(
            "INSERT INTO campaigns (name, identity_id, status, priority, tags, folder, settings, sequence,"
            " created_by, created_at, updated_at) SELECT ?, identity_id, 'draft', priority, tags, folder,"
            " settings, sequence, ?, ?, ? FROM campaigns WHERE id = ?",
            [new_name, actor, at, at, row["id"]],
        )
        new_id = cursor.lastrowid
        copied = 0
        if with_audience:
            copied = db.execute(
                "INSERT INTO enrollments (campaign_id, contact_id, due_at, enrolled_at, updated_at)"
                " SELECT ?, contact_id, ?, ?, ? FROM enrollments WHERE campaign_id = ? AND removed = 0",
                [new_id, at, at, at, row["id"]],
            ).rowcount
        record(db, kind=Kind.CAMPAIGN_DUPLICATED, now=now, campaign_id=new_id, identity_id=row["identity_id"],
               actor=actor, detail={"from": row["id"], "contacts": copied})
    return new_id


def save_as_template(db: sqlite_utils.Database, ref: int | str, name: str, *, now: datetime, actor: str,
                     description: str = "") -> int:
    """Store the campaign's sequence as a user template, offered next to the built-in ones.

    The name must be free (built-in and saved names alike) and the sequence
    valid: a template is something to launch from.
    """
    with transaction(db):
        row = get_campaign(db, ref)
        try:
            template = _as_template(name, sequence_of(row), description, existing=user_templates(db))
        except TemplateError as exc:
            raise CampaignError(str(exc)) from None
        cursor = db.execute("INSERT INTO user_templates (name, description, sequence, created_at) VALUES (?, ?, ?, ?)",
                            [template.name, description, row["sequence"], iso(now)])
        record(db, kind=Kind.CAMPAIGN_SAVED_AS_TEMPLATE, now=now, campaign_id=row["id"], actor=actor,
               detail={"template": template.name})
        return cursor.lastrowid


def start_scheduled(db: sqlite_utils.Database, now: datetime) -> None:
    """Scheduled campaigns whose time has come are running (call inside a transaction)."""
    at = iso(now)
    db.execute("UPDATE campaigns SET status = 'running', launched_at = COALESCE(launched_at, ?),"
               " updated_at = ? WHERE status = 'scheduled' AND scheduled_at <= ?", [at, at, at])


def scheduled_due(db: sqlite_utils.Database, now: datetime) -> bool:
    """Is a scheduled campaign due to start?"""
    return db.execute("SELECT 1 FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= ? LIMIT 1",
                      [iso(now)]).fetchone() is not None


def running_campaigns(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Running campaigns, each with its identity's likings opt-out (the runtime's CampaignInfo reads it)."""
    return list(db.query(f"SELECT *, {LIKINGS_OPT_OUT} FROM campaigns WHERE status = 'running'"))
