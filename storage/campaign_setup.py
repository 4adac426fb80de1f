"""What the Create Campaign wizard reads: lists to pick with the spec's filters, contacts
to mark (paged by keyset), the workspace's tags and folders, the audience's size.

The wizard writes through storage/campaigns.py (create, update), storage/audience.py
(enrolment) and storage/launch.py (the launch checks and the launch); this module only reads.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import sqlite_utils

from storage.search import like

ListSort = Literal["recent", "alpha"]
LIST_LIMIT = 200  # a workspace holds tens of lists; the picker shows at most this many matches


class ListFilter(msgspec.Struct, frozen=True, kw_only=True):
    """The spec's list filters: search, most recent / alphabetical, created by, date, tags."""

    search: str = ""
    sort: ListSort = "recent"
    created_by: str = ""
    since: str = ""  # an ISO date or time: lists created on or after it
    until: str = ""  # an ISO date: lists created on or before that day
    tag: str = ""


def pick_lists(db: sqlite_utils.Database, flt: ListFilter, *, limit: int | None = LIST_LIMIT) -> list[dict[str, Any]]:
    """Lists matching `flt` with their member counts, newest first or by name (the wizard's
    picker, the Lists screen and `enginy lists list`; `limit=None`: all of them)."""
    where, params = [], []
    if flt.search:
        where.append("l.name LIKE ? ESCAPE '\\'")
        params.append(like(flt.search))
    if flt.created_by:
        where.append("l.created_by = ?")
        params.append(flt.created_by)
    if flt.since:
        where.append("l.created_at >= ?")
        params.append(flt.since)
    if flt.until:
        where.append("l.created_at < ?")
        params.append(flt.until[:10] + "U")  # after every time of that day ("T…" < "U")
    if flt.tag:
        where.append("EXISTS (SELECT 1 FROM json_each(l.tags) t WHERE t.value = ?)")
        params.append(flt.tag)
    order = "l.name COLLATE NOCASE, l.id" if flt.sort == "alpha" else "l.created_at DESC, l.id DESC"
    sql = ("SELECT l.id, l.name, l.tags, l.created_by, l.created_at,"
           " (SELECT count(*) FROM list_members m WHERE m.list_id = l.id) AS members FROM lists l"
           + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY {order} LIMIT ?")
    rows = list(db.query(sql, [*params, -1 if limit is None else limit]))
    for row in rows:
        row["tags"] = msgspec.json.decode(row["tags"])
    return rows


def list_facets(db: sqlite_utils.Database) -> tuple[list[str], list[str]]:
    """(creators, tags) of the workspace's lists: the choices of the "created by" and "tags" filters."""
    creators = [r[0] for r in db.execute("SELECT DISTINCT created_by FROM lists WHERE created_by != ''"
                                         " ORDER BY 1 COLLATE NOCASE")]
    tags = [r[0] for r in db.execute("SELECT DISTINCT t.value FROM lists, json_each(lists.tags) t ORDER BY 1")]
    return creators, tags


def campaign_facets(db: sqlite_utils.Database) -> tuple[list[str], list[str]]:
    """(tags, folders) already used by campaigns: what the settings step completes from."""
    tags = [r[0] for r in db.execute("SELECT DISTINCT t.value FROM campaigns, json_each(campaigns.tags) t"
                                     " ORDER BY 1 COLLATE NOCASE")]
    folders = [r[0] for r in db.execute("SELECT DISTINCT folder FROM campaigns WHERE folder != ''"
                                        " ORDER BY 1 COLLATE NOCASE")]
    return tags, folders


def audience_size(db: sqlite_utils.Database, campaign_id: int) -> int:
    """Contacts in the campaign, not removed."""
    return db.execute("SELECT count(*) FROM enrollments WHERE campaign_id = ? AND removed = 0",
                      [campaign_id]).fetchone()[0]
