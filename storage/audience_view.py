"""A campaign's audience as the virtual table pages it: by keyset on the enrollment id, filtered.

Each source answers four questions the table asks — rows after a key, rows
before a key, how many rows (exact or an estimate), and roughly which key sits
at a fraction of the list — and never uses OFFSET, so row 999,000 costs what
row 0 costs. Each filter picks its index by name (INDEXED BY): the planner's
own pick was measured slower at a million leads (bench/tui_audience.py).
Queries run on the TUI's worker threads, through a `Reader`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import msgspec
import sqlite_utils

from storage.activity_kinds import CONDITION_KINDS, Milestone
from storage.metrics import shown_statuses
from storage.reader import Reader
from storage.records import AudienceRow
from storage.search import NAME_LIKE, SAMPLE, Hits, like, search_plan

#: A filter that tests each lead (LIKE, tag, engagement, same company) is counted exactly over at
#: most this many leads (~10–20 ms); over more it is estimated from the first SAMPLE leads.
EXACT_COUNT_ROWS = 25_000

#: Engagement filter options of the spec: label -> SQL condition on e/c.
ENGAGEMENT: dict[str, str] = {
    "LinkedIn connection sent": f"(e.milestones & {int(Milestone.LI_INVITED)})",
    "LinkedIn connection accepted": f"(e.milestones & {int(Milestone.LI_ACCEPTED)})",
    "LinkedIn connection sent but not by platform":
        f"(NOT (e.milestones & {int(Milestone.LI_INVITED)}) AND EXISTS (SELECT 1 FROM linkedin_invitations li"
        " WHERE li.contact_id = e.contact_id AND li.source = 'external'))",
    "Sent at least one message": f"(e.milestones & {int(Milestone.LI_CONTACTED | Milestone.EM_SENT)})",
    "Bounced message": f"(e.milestones & {int(Milestone.EM_BOUNCED)})",
    "Seen message": f"(e.milestones & {int(Milestone.EM_OPENED)})",
    "Clicked link": f"(e.milestones & {int(Milestone.EM_CLICKED)})",
}

#: The columns of an AudienceRow, in its field order, but the decorations (recent, tags).
_COLUMNS = ("e.id, e.contact_id, e.status, e.substatus, e.node_id, e.milestones, e.updated_at, e.removed,"
            " c.first_name, c.last_name, c.company, c.job_title, e.due_at, e.wait_cap, e.wait_until")


@dataclass(frozen=True)
class AudienceFilter:
    """Everything that narrows the audience table; a new value = a new query."""

    campaign_id: int
    identity_id: int | None = None
    status: str | None = None  # a chip; None = Total
    search: str = ""  # name or company
    node_id: str | None = None  # stage
    tag: str | None = None  # conversation tag
    engagement: str | None = None  # a key of ENGAGEMENT
    same_company: bool = False
    campaign_paused: bool = False

    @property
    def indexed_only(self) -> bool:
        """True when only the chip narrows the list, so its count is the chip's figure."""
        return not (self.search or self.node_id or self.tag or self.engagement or self.same_company)

    @property
    def statuses(self) -> tuple[str, ...] | None:
        """The stored statuses the chip lists (storage.metrics.shown_statuses); None = every lead."""
        return shown_statuses(self.status, self.campaign_paused) if self.status else None

    def but(self, **changes: Any) -> "AudienceFilter":
        return replace(self, **changes)


class AudienceSource:
    """A campaign's leads (enrollment id order) with the chip and the filters applied."""

    key_name = "id"
    page_cost_hint = "keyset on enrollments(campaign_id[, status|node_id], id)"

    def __init__(self, reader: Reader, flt: AudienceFilter) -> None:
        self.reader = reader
        self.flt = flt
        self._search_match: Any = ...  # not decided yet

    def _where(self) -> tuple[str, list[Any]]:
        f = self.flt
        # removed leads stay listed (Finished · Deleted), as the chips count them (storage/metrics.py)
        where = ["e.campaign_id = ?"]
        params: list[Any] = [f.campaign_id]
        statuses = f.statuses
        if statuses is not None:
            where.append("0" if not statuses else "e.status = ?" if len(statuses) == 1
                         else f"e.status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        if f.node_id:
            where.append("e.node_id = ?")
            params.append(f.node_id)
        if f.search:
            hits = self._match()
            if hits is not None:
                where.append(f"e.contact_id IN ({hits[0]})")
                params += hits[1]
            # on the hits, the exact re-check: prefix words are a superset of the phrase typed
            where.append(NAME_LIKE)
            params += [like(f.search)] * 2
        if f.engagement:
            where.append(ENGAGEMENT[f.engagement])
        if f.tag:
            where.append("EXISTS (SELECT 1 FROM conversations cv, json_each(cv.tags) t WHERE cv.contact_id = e.contact_id"
                         " AND cv.identity_id = ? AND t.value = ?)")
            params += [f.identity_id, f.tag]
        if f.same_company:
            # correlated: per row one probe of contacts(company) + enrollments(campaign_id, contact_id)
            where.append("c.company != '' AND EXISTS (SELECT 1 FROM contacts c2 JOIN enrollments e2"
                         " ON e2.contact_id = c2.id AND e2.campaign_id = e.campaign_id AND e2.removed = 0"
                         " WHERE c2.company = c.company AND c2.id != c.id)")
        return " AND ".join(where), params

    def _contacts_join(self) -> str:
        """Counting needs the contacts only when the filter reads them (search, same company)."""
        return " JOIN contacts c ON c.id = e.contact_id" if self.flt.search or self.flt.same_company else ""

    def _match(self) -> Hits | None:
        """The search's hits to start from (search_plan), decided once per source (on the worker
        thread that first asks)."""
        if self._search_match is ...:
            self._search_match = (search_plan(self.reader, self.flt.search, self.flt.campaign_id)
                                  if self.flt.search else None)
        return self._search_match

    def _index(self) -> str:
        f = self.flt
        if f.search and self._match() is not None:
            # start from the (few) matching contacts; the other conditions filter them
            return "INDEXED BY enrollments_contact"
        if f.statuses is not None and len(f.statuses) < 2:
            return "INDEXED BY enrollments_chip"
        if f.node_id:
            return "INDEXED BY enrollments_campaign_node"
        return "INDEXED BY enrollments_campaign"

    def _select(self, extra: str, params: list[Any], order: str, limit: int) -> list[AudienceRow]:
        where, wparams = self._where()
        rows = self.reader.tuples(
            f"SELECT {_COLUMNS} FROM enrollments e {self._index()} JOIN contacts c ON c.id = e.contact_id"
            f" WHERE {where}{extra} ORDER BY e.id {order} LIMIT ?", wparams + params + [limit])
        return self._decorate(rows)

    def _decorate(self, rows: list[tuple[Any, ...]]) -> list[AudienceRow]:
        """Add the latest actions (icons) and conversation tags of a page: two indexed look-ups per page."""
        if not rows:
            return []
        ids = [r[0] for r in rows]
        marks = ",".join("?" * len(ids))
        recent: dict[int, list[str]] = {i: [] for i in ids}
        for enrollment_id, kind in self.reader.tuples(
            f"SELECT enrollment_id, kind FROM activity WHERE enrollment_id IN ({marks})"
            f" AND kind NOT IN ({','.join('?' * len(CONDITION_KINDS))}) ORDER BY enrollment_id, id DESC",
            ids + [k.value for k in CONDITION_KINDS],
        ):
            kinds = recent[enrollment_id]
            if len(kinds) < 4:
                kinds.append(kind)
        tags: dict[int, list[str]] = {}
        if self.flt.identity_id is not None:
            contacts = [r[1] for r in rows]
            for contact_id, tag in self.reader.tuples(
                f"SELECT cv.contact_id, t.value AS tag FROM conversations cv, json_each(cv.tags) t"
                f" WHERE cv.identity_id = ? AND cv.contact_id IN ({','.join('?' * len(contacts))})",
                [self.flt.identity_id] + contacts,
            ):
                tags.setdefault(contact_id, []).append(str(tag))
        return [AudienceRow(id=r[0], contact_id=r[1], status=r[2], substatus=r[3], node_id=r[4], milestones=r[5],
                            updated_at=r[6], removed=bool(r[7]), first_name=r[8], last_name=r[9], company=r[10],
                            job_title=r[11], recent=recent[r[0]], tags=tags.get(r[1], []), due_at=r[12],
                            wait_cap=r[13], wait_until=r[14])
                for r in rows]

    def after(self, key: int | None, limit: int) -> list[AudienceRow]:
        return self._select(" AND e.id > ?" if key is not None else "", [key] if key is not None else [], "ASC", limit)

    def before(self, key: int | None, limit: int) -> list[AudienceRow]:
        """Rows just before `key` (None = the end), nearest first."""
        return self._select(" AND e.id < ?" if key is not None else "", [key] if key is not None else [], "DESC", limit)

    def base_count(self) -> int:
        """Exact leads of the chip × stage alone, from the trigger-kept totals (m043): a few rows, at any size."""
        f = self.flt
        where, params = ["campaign_id = ?", "n > 0"], [f.campaign_id]
        statuses = f.statuses
        if statuses is not None:
            if not statuses:
                return 0
            where.append(f"status IN ({', '.join('?' * len(statuses))})")
            params += statuses
        if f.node_id:
            where.append("node_id = ?")
            params.append(f.node_id)
        return self.reader.tuples(
            f"SELECT coalesce(sum(n), 0) FROM enrollment_counts WHERE {' AND '.join(where)}", params)[0][0]

    def count(self, budget_ms: int = 30) -> tuple[int, bool]:
        """(rows, exact). A chip and a stage are counted exactly from the kept totals; a filter
        that reads rows (search, tag, engagement, same company) is counted exactly when its
        rows are few — FTS hits, or at most EXACT_COUNT_ROWS leads to test — and that count
        finishes within `budget_ms`, else estimated from a sample (shown with ≈)."""
        f = self.flt
        base = self.base_count()
        if not (f.search or f.tag or f.engagement or f.same_company) or base == 0:
            return base, True
        where, params = self._where()
        if base <= EXACT_COUNT_ROWS or (f.search and self._match() is not None):
            exact = self.reader.within(
                budget_ms, f"SELECT count(*) FROM enrollments e {self._index()}{self._contacts_join()} WHERE {where}",
                params)
            if exact is not None:
                return exact, True
        # the sample is the chip × stage list's first SAMPLE leads, whose count is `base`
        unfiltered = AudienceSource(self.reader, AudienceFilter(f.campaign_id, f.identity_id, status=f.status,
                                                                node_id=f.node_id, campaign_paused=f.campaign_paused))
        uw, up = unfiltered._where()
        sampled, last = self.reader.tuples(
            f"SELECT count(*), max(id) FROM (SELECT e.id FROM enrollments e {unfiltered._index()}"
            f" WHERE {uw} ORDER BY e.id LIMIT ?)", up + [SAMPLE])[0]
        if not last:
            return 0, True
        hits = self.reader.tuples(
            f"SELECT count(*) FROM enrollments e {self._index()}{self._contacts_join()}"
            f" WHERE {where} AND e.id <= ?", params + [last])[0][0]
        return max(hits, round(base * hits / max(sampled, 1))), False

    def seek(self, fraction: float) -> int | None:
        """An id about `fraction` of the way through (ids are roughly uniform): the key a far jump starts after."""
        first = self.after(None, 1)
        last = self.before(None, 1)
        if not first or not last:
            return None
        lo, hi = first[0].id, last[0].id
        return int(lo + (hi - lo) * min(max(fraction, 0.0), 1.0)) - 1


class LeadBrief(msgspec.Struct, frozen=True):
    """A lead named in a bulk action's confirmation: who, and whether the action can apply."""

    enrollment_id: int
    contact_id: int
    name: str
    company: str
    status: str
    removed: bool
    linkedin_url: str
    node_id: str | None  # the step it is at


_BRIEF = ("SELECT e.id, e.contact_id, trim(coalesce(c.first_name, '') || ' ' || coalesce(c.last_name, '')),"
          " coalesce(c.company, ''), e.status, e.removed, coalesce(c.linkedin_url, ''), e.node_id"
          " FROM enrollments e {hint} JOIN contacts c ON c.id = e.contact_id")


def lead_briefs(db: sqlite_utils.Database, enrollment_ids: list[int]) -> list[LeadBrief]:
    """The leads a bulk action on these enrollments (the marked rows, or the highlighted one) names."""
    found: list[LeadBrief] = []
    for start in range(0, len(enrollment_ids), 500):  # well under SQLite's bound-parameter limit
        chunk = enrollment_ids[start:start + 500]
        found += [LeadBrief(*r[:5], bool(r[5]), *r[6:]) for r in db.execute(
            f"{_BRIEF.format(hint='')} WHERE e.id IN ({','.join('?' * len(chunk))}) ORDER BY e.id", chunk)]
    return found


def leads_in_status(db: sqlite_utils.Database, campaign_id: int, status: str, limit: int) -> list[LeadBrief]:
    """The first `limit` leads of a campaign in `status` (a campaign-wide action names a few of them)."""
    return [LeadBrief(*r[:5], bool(r[5]), *r[6:]) for r in db.execute(
        f"{_BRIEF.format(hint='INDEXED BY enrollments_chip')} WHERE e.campaign_id = ? AND e.status = ? AND e.intent IS NULL ORDER BY e.id LIMIT ?",
        [campaign_id, status, limit])]


def lead_lists(db: sqlite_utils.Database, contact_id: int) -> list[tuple[int, str]]:
    """(id, name) of the contact lists this lead's contact is in ("View in list")."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT l.id, l.name FROM list_members m JOIN lists l ON l.id = m.list_id WHERE m.contact_id = ?"
        " ORDER BY l.name COLLATE NOCASE", [contact_id])]


def lead_path(db: sqlite_utils.Database, enrollment_id: int) -> tuple[list[str], str | None]:
    """The steps a lead has been through (first visit order) and the step it is at: its path in the sequence."""
    visited = [r[0] for r in db.execute(
        "SELECT node_id FROM activity INDEXED BY activity_enrollment WHERE enrollment_id = ? AND node_id IS NOT NULL"
        " GROUP BY node_id ORDER BY min(id)", [enrollment_id])]
    current = db.execute("SELECT node_id FROM enrollments WHERE id = ?", [enrollment_id]).fetchone()
    return visited, current[0] if current else None
