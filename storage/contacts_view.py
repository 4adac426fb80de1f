"""The Contacts screen's read model: every contact (or a list's), searched on any field, paged by id.

A `RowSource` for tui/widgets/virtual_table.py (key `id`, after/before/count/
seek), so the table pages a million contacts one indexed page at a time: the
rowid order needs no index, a list is walked through list_members' primary
key (list_id, contact_id). The search is a LIKE on one field or on all of
them (and on "first last"); where it starts is storage/search.hits_plan's
choice: a rare search starts from the word indexes' hits (m041 names and
company, m048 email, title, LinkedIn URL, phone: words starting with the typed
words, re-checked with the LIKE; ~460 ms → a few ms a page at a million
contacts, bench/contacts_screen.py), a common one walks in id order, where a
page fills within the first rows. Counting with a search is exact when it
finishes within a small budget, else estimated from a sample (shown with "≈");
a walk over more than EXACT_WALK rows is estimated at once. Shared by the Contacts screen
and any picker of contacts (the campaign wizard's audience step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from storage.reader import Reader
from storage.search import DETAIL_HITS, FTS_HITS, SAMPLE as DENSITY_SAMPLE, Hits, hits_plan, like

SEARCHABLE = ("first_name", "last_name", "email", "company", "job_title", "linkedin_url", "phone")
"""The fields a search can be limited to ("" = any of them)."""

SAMPLE = 5_000
#: Above this many rows a search that walks is not counted exactly: the count would LIKE-check each of
#: them and give up at its budget anyway ("sales" at a million: 30 ms lost before every first page).
EXACT_WALK = 20_000
NAME_FIELDS = frozenset({"first_name", "last_name", "company"})  # m041's word index, m045's marks
DETAIL_FIELDS = frozenset({"email", "job_title", "linkedin_url", "phone"})  # m048's word index
_UNPLANNED = object()


class ContactRow(msgspec.Struct, frozen=True):
    id: int
    first_name: str
    last_name: str
    email: str | None
    company: str
    job_title: str
    linkedin_url: str | None


@dataclass(frozen=True)
class ContactFilter:
    search: str = ""
    field: str = ""  # one of SEARCHABLE, or "" for any
    list_id: int | None = None
    campaign_ids: tuple[int, ...] = ()  # only the audience of these campaigns ("View in list" on campaigns)
    contact_ids: tuple[int, ...] = ()  # only these contacts ("View in list" on marked leads)


_COLUMNS = "c.id, c.first_name, c.last_name, c.email, c.company, c.job_title, c.linkedin_url"


class ContactsSource:
    """Contacts in id order with the filter applied."""

    key_name = "id"

    def __init__(self, reader: Reader, flt: ContactFilter) -> None:
        if flt.field and flt.field not in SEARCHABLE:
            raise ValueError(f"cannot search field {flt.field!r}")
        self.reader = reader
        self.flt = flt
        self._plan: Any = _UNPLANNED

    def _like(self) -> tuple[str, list[Any]]:
        """The exact condition: the typed text inside the field searched, or any field or "first last"."""
        values = [f"coalesce(c.{f}, '')" for f in ([self.flt.field] if self.flt.field else SEARCHABLE)]
        if not self.flt.field:
            values.append("(c.first_name || ' ' || c.last_name)")
        return "(" + " OR ".join(f"{v} LIKE ? ESCAPE '\\'" for v in values) + ")", [like(self.flt.search)] * len(values)

    def _hits(self) -> Hits | None:
        """Where the search starts (hits_plan), decided once per source on the worker thread's first read."""
        if self._plan is _UNPLANNED:
            fields = {self.flt.field} if self.flt.field else set(SEARCHABLE)
            words = tuple(sql for sql, covers in ((FTS_HITS, NAME_FIELDS), (DETAIL_HITS, DETAIL_FIELDS))
                          if fields & covers)
            cond, params = self._like()
            cols = ", ".join(f"c.{f}" for f in SEARCHABLE)
            if self.flt.list_id is not None:
                first = (f"SELECT {cols} FROM list_members m JOIN contacts c ON c.id = m.contact_id"
                         " WHERE m.list_id = ? ORDER BY m.contact_id LIMIT ?", [self.flt.list_id, DENSITY_SAMPLE])
            else:
                first = (f"SELECT {cols} FROM contacts c ORDER BY c.id LIMIT ?", [DENSITY_SAMPLE])
            sample = (f"SELECT count(*) FROM ({first[0]}) AS c WHERE {cond}", [*first[1], *params])
            self._plan = hits_plan(self.reader, self.flt.search, sample, words=words, marks=fields <= NAME_FIELDS)
        return self._plan

    def _where(self) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if self.flt.list_id is not None:
            where.append("c.id IN (SELECT contact_id FROM list_members WHERE list_id = ?)")
            params.append(self.flt.list_id)
        if self.flt.campaign_ids:
            where.append(f"c.id IN (SELECT contact_id FROM enrollments WHERE campaign_id IN"
                         f" ({','.join('?' * len(self.flt.campaign_ids))}))")
            params += list(self.flt.campaign_ids)
        if self.flt.contact_ids:
            where.append(f"c.id IN ({','.join('?' * len(self.flt.contact_ids))})")
            params += list(self.flt.contact_ids)
        if self.flt.search:
            hits = self._hits()
            if hits is not None:
                where.append(f"c.id IN ({hits[0]})")
                params += hits[1]
            cond, like_params = self._like()
            where.append(cond)
            params += like_params
        return where, params

    def _select(self, extra: str, params: list[Any], order: str, limit: int) -> list[ContactRow]:
        where, wparams = self._where()
        if extra:
            where.append(extra)
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        rows = self.reader.tuples(f"SELECT {_COLUMNS} FROM contacts c{clause} ORDER BY c.id {order} LIMIT ?",
                                  wparams + params + [limit])
        return [ContactRow(*r) for r in rows]

    def after(self, key: int | None, limit: int) -> list[ContactRow]:
        return self._select("c.id > ?" if key is not None else "", [key] if key is not None else [], "ASC", limit)

    def before(self, key: int | None, limit: int) -> list[ContactRow]:
        """Rows just before `key` (None = the end), nearest first."""
        return self._select("c.id < ?" if key is not None else "", [key] if key is not None else [], "DESC", limit)

    def count(self, budget_ms: int = 30) -> tuple[int, bool]:
        """(rows, exact): exact for a list or all contacts; with a search, exact within `budget_ms`
        or estimated from the first SAMPLE contacts — at once for a walk over more than EXACT_WALK."""
        where, params = self._where()
        if not where:
            # max(rowid) - min(rowid) would be instant but wrong after deletes; count(*) walks the
            # smallest index (~20 ms at a million rows)
            return self.reader.tuples("SELECT count(*) FROM contacts")[0][0], True
        clause = " AND ".join(where)
        base: int | None = None
        if self.flt.search and self._hits() is None:  # the walk: counting LIKE-checks every row, ~1 µs each
            base = self._base()
        if base is None or base <= EXACT_WALK:
            exact = self.reader.within(budget_ms, f"SELECT count(*) FROM contacts c WHERE {clause}", params)
            if exact is not None:
                return exact, True
        base = self._base() if base is None else base
        hits = self.reader.tuples(
            f"SELECT count(*) FROM (SELECT c.id FROM contacts c WHERE {clause} AND c.id <= "
            f"(SELECT max(id) FROM (SELECT id FROM contacts ORDER BY id LIMIT ?)))", params + [SAMPLE])[0][0]
        return round(base * hits / min(SAMPLE, max(base, 1))), False

    def _base(self) -> int:
        """The rows before the search: the list's or every contact (~10 ms at a million)."""
        if self.flt.list_id is not None:
            return self.reader.tuples("SELECT count(*) FROM list_members WHERE list_id = ?", [self.flt.list_id])[0][0]
        return self.reader.tuples("SELECT count(*) FROM contacts")[0][0]

    def seek(self, fraction: float) -> int | None:
        """An id about `fraction` of the way through (ids are roughly uniform): the key a far jump starts after."""
        first = self.after(None, 1)
        last = self.before(None, 1)
        if not first or not last:
            return None
        lo, hi = first[0].id, last[0].id
        return int(lo + (hi - lo) * min(max(fraction, 0.0), 1.0)) - 1
