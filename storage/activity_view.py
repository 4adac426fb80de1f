"""A campaign's activity log as the virtual table pages it: newest first, by keyset on the action id.

As storage/audience_view.py, never OFFSET, and each filter names its index.
Conditions (the checks a sequence makes) are left out, as the spec asks.

Above the log come the actions coming next (the spec: the tab tracks "any
pending actions coming next"): the campaign's jobs on their way in the
outbox (queued, being sent, or whose outcome is being looked up), each shown
"In progress" under the kind it will be recorded as. They are keyed by their
outbox id + COMING, above any action id, so one integer key still orders the
whole list and pages it by keyset across the boundary. They are few (what
the identity's lanes hold) and read through the `outbox_pending` index.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from storage.activity_kinds import CONDITION_KINDS, DONE_KIND
from storage.outbox import PENDING_INDEX_TERM
from storage.reader import Reader
from storage.records import ActivityRow
from storage.search import NAME_LIKE, Hits, like, search_plan

_COLUMNS = ("a.id, a.at, a.kind, a.node_id, a.channel, a.status, a.detail, a.actor, a.contact_id,"
            " c.first_name, c.last_name, c.company, a.enrollment_id")
"""The columns of an ActivityRow, in its field order."""

#: The key of an action coming next: COMING + its outbox id (every action id is far below it).
COMING = 1 << 53
#: The activity kind a job's action will be recorded as (storage.activity_kinds.DONE_KIND).
_COMING_KIND = "CASE o.action " + " ".join(f"WHEN '{a}' THEN '{k.value}'" for a, k in DONE_KIND.items()) + " END"
_COMING_COLUMNS = (f"{COMING} + o.id, o.created_at, {_COMING_KIND}, o.node_id, o.channel, 'in_progress', '{{}}',"
                   " 'system', e.contact_id, c.first_name, c.last_name, c.company, o.enrollment_id")


@dataclass(frozen=True)
class ActivityFilter:
    campaign_id: int
    search: str = ""  # recipient name / company or action kind
    node_id: str | None = None  # stage
    contact_id: int | None = None  # recipient
    since: str | None = None  # ISO time (date range): from
    until: str | None = None  # ISO time: before (a custom range's end)

    def but(self, **changes: Any) -> "ActivityFilter":
        return replace(self, **changes)


class ActivitySource:
    """A campaign's actions, newest first (conditions left out, as the spec asks)."""

    key_name = "id"
    descending = True

    def __init__(self, reader: Reader, flt: ActivityFilter) -> None:
        self.reader = reader
        self.flt = flt
        self._search_match: Any = ...  # not decided yet
        self._kind_hit: Any = ...

    def _where(self) -> tuple[str, list[Any]]:
        f = self.flt
        where = ["a.campaign_id = ?", f"a.kind NOT IN ({','.join('?' * len(CONDITION_KINDS))})"]
        params: list[Any] = [f.campaign_id, *[k.value for k in CONDITION_KINDS]]
        _stage_and_recipient(f, "a.node_id", "a.contact_id", where, params)
        if f.since:
            where.append("a.at >= ?")
            params.append(f.since)
        if f.until:
            where.append("a.at < ?")
            params.append(f.until)
        if f.search:
            pattern = like(f.search)
            if self._by_recipient():
                # no action kind of this campaign matches: the recipient condition alone decides
                hits = self._match()
                assert hits is not None
                where.append(f"a.contact_id IN ({hits[0]})")
                where.append(NAME_LIKE)
                params += [*hits[1], pattern, pattern]
            else:
                where.append(f"({NAME_LIKE} OR a.kind LIKE ? ESCAPE '\\')")
                params += [pattern, pattern, pattern.replace(" ", "\\_")]
        return " AND ".join(where), params

    def _match(self) -> Hits | None:
        """As AudienceSource._match: the hits when they are few, else None (LIKE walk)."""
        if self._search_match is ...:
            self._search_match = (search_plan(self.reader, self.flt.search, self.flt.campaign_id)
                                  if self.flt.search else None)
        return self._search_match

    def _by_recipient(self) -> bool:
        """Start from the matching contacts' actions (index activity_campaign_contact, m042)?

        Only when the search has a hits plan and matches none of the campaign's action
        kinds; a search that names a kind ("invite") matches many rows, so the walk
        in id order is the fast plan for it anyway."""
        if self._kind_hit is ...:
            self._kind_hit = self._match() is None or bool(self.reader.tuples(
                "WITH RECURSIVE k(kind) AS (SELECT min(kind) FROM activity WHERE campaign_id = ?1"
                " UNION ALL SELECT (SELECT min(kind) FROM activity WHERE campaign_id = ?1 AND kind > k.kind)"
                " FROM k WHERE k.kind IS NOT NULL)"  # the distinct kinds: one index seek each
                " SELECT count(*) FROM k WHERE kind LIKE ?2 ESCAPE '\\'",
                [self.flt.campaign_id, like(self.flt.search).replace(" ", "\\_")])[0][0])
        return not self._kind_hit

    def _index(self) -> str:
        if self.flt.search and self._by_recipient():
            return "INDEXED BY activity_campaign_contact"
        return "INDEXED BY activity_campaign_node" if self.flt.node_id else "INDEXED BY activity_campaign"

    def _select(self, extra: str, params: list[Any], order: str, limit: int) -> list[ActivityRow]:
        where, wparams = self._where()
        return _rows(self.reader.tuples(
            f"SELECT {_COLUMNS} FROM activity a {self._index()} LEFT JOIN contacts c ON c.id = a.contact_id"
            f" WHERE {where}{extra} ORDER BY a.id {order} LIMIT ?", wparams + params + [limit]))

    def _coming_where(self) -> tuple[str, list[Any]]:
        """The campaign's jobs on their way, narrowed by the same filters (the date range keeps
        them all: they happen now)."""
        f = self.flt
        where = ["o.identity_id IN (SELECT identity_id FROM campaigns WHERE id = ?)", f"o.{PENDING_INDEX_TERM}",
                 "o.campaign_id = ?"]
        params: list[Any] = [f.campaign_id, f.campaign_id]
        _stage_and_recipient(f, "o.node_id", "e.contact_id", where, params)
        if f.search:
            pattern = like(f.search)
            where.append(f"({NAME_LIKE} OR {_COMING_KIND} LIKE ? ESCAPE '\\')")
            params += [pattern, pattern, pattern.replace(" ", "\\_")]
        return " AND ".join(where), params

    def _coming(self, extra: str, params: list[Any], order: str, limit: int) -> list[ActivityRow]:
        if limit <= 0:
            return []
        where, wparams = self._coming_where()
        return _rows(self.reader.tuples(
            f"SELECT {_COMING_COLUMNS} FROM outbox o INDEXED BY outbox_pending"
            f" JOIN enrollments e ON e.id = o.enrollment_id LEFT JOIN contacts c ON c.id = e.contact_id"
            f" WHERE {where}{extra} ORDER BY o.id {order} LIMIT ?",
            wparams + params + [limit]))

    def coming_count(self) -> int:
        where, params = self._coming_where()
        return self.reader.tuples(f"SELECT count(*) FROM outbox o INDEXED BY outbox_pending JOIN enrollments e"
                                  f" ON e.id = o.enrollment_id LEFT JOIN contacts c ON c.id = e.contact_id"
                                  f" WHERE {where}", params)[0][0]

    # newest first: "after" walks towards older rows — the actions coming next, then the log
    def after(self, key: int | None, limit: int) -> list[ActivityRow]:
        if key is None or key > COMING:
            rows = self._coming(" AND o.id < ?" if key is not None else "",
                                [key - COMING] if key is not None else [], "DESC", limit)
            return rows + self._log_after(None, limit - len(rows)) if len(rows) < limit else rows
        return self._log_after(key, limit)

    def before(self, key: int | None, limit: int) -> list[ActivityRow]:
        """Rows just before `key` (None = the end), nearest first: the log up to its newest
        action, then the actions coming next."""
        if key is not None and key > COMING:
            return self._coming(" AND o.id > ?", [key - COMING], "ASC", limit)
        rows = self._log_before(key, limit)
        return rows + self._coming("", [], "ASC", limit - len(rows)) if len(rows) < limit else rows

    def _log_after(self, key: int | None, limit: int) -> list[ActivityRow]:
        if limit <= 0:
            return []
        return self._select(" AND a.id < ?" if key is not None else "", [key] if key is not None else [], "DESC", limit)

    def _log_before(self, key: int | None, limit: int) -> list[ActivityRow]:
        return self._select(" AND a.id > ?" if key is not None else "", [key] if key is not None else [], "ASC", limit)

    def count(self, budget_ms: int = 30) -> tuple[int, bool]:
        """(rows, exact): exact when counting finishes within `budget_ms`, else the id span (≈).

        The whole log (no filter) is counted on the covering index (campaign_id, kind):
        ~10 ms per 100,000 actions, where walking activity_campaign read every row for
        its kind (~95 ms). Contacts are joined only when the search reads them."""
        f = self.flt
        where, params = self._where()
        index = self._index()
        if not (f.search or f.node_id or f.contact_id is not None or f.since or f.until):
            index = "INDEXED BY activity_campaign_kind"
        join = " LEFT JOIN contacts c ON c.id = a.contact_id" if f.search else ""
        coming = self.coming_count()
        exact = self.reader.within(budget_ms, f"SELECT count(*) FROM activity a {index}{join} WHERE {where}", params)
        if exact is not None:
            return coming + exact, True
        # an estimate: the id span of the campaign's activity
        newest, oldest = self._log_after(None, 1), self._log_before(None, 1)
        if not newest:
            return coming, True
        return coming + newest[0].id - oldest[0].id + 1, False

    def seek(self, fraction: float) -> int | None:
        """The key about `fraction` of the way down, from the id spans of the actions coming next
        and of the log (ids are roughly uniform): the key a far jump starts after."""
        spans = []
        for first, last, base in ((self._coming("", [], "DESC", 1), self._coming("", [], "ASC", 1), COMING),
                                  (self._log_after(None, 1), self._log_before(None, 1), 0)):
            if first:
                spans.append((first[0].id - base, last[0].id - base, base))
        total = sum(hi - lo + 1 for hi, lo, _ in spans)
        if not total:
            return None
        at = min(max(fraction, 0.0), 1.0) * total
        for hi, lo, base in spans:
            if at < hi - lo + 1:
                return base + int(hi - at) + 1
            at -= hi - lo + 1
        hi, lo, base = spans[-1]
        return base + lo + 1  # the very end: its last row


def _stage_and_recipient(f: ActivityFilter, node: str, contact: str, where: list[str], params: list[Any]) -> None:
    """The stage and recipient filters, on the log's columns or on a coming job's."""
    if f.node_id:
        where.append(f"{node} = ?")
        params.append(f.node_id)
    if f.contact_id is not None:
        where.append(f"{contact} = ?")
        params.append(f.contact_id)


def _rows(tuples: list[tuple[Any, ...]]) -> list[ActivityRow]:
    return [ActivityRow(id=r[0], at=r[1], kind=r[2], node_id=r[3], channel=r[4], status=r[5], detail=r[6],
                        actor=r[7], contact_id=r[8], first_name=r[9], last_name=r[10], company=r[11],
                        enrollment_id=r[12]) for r in tuples]
