"""The Contacts screen's read model: every contact (or a list's), searched on any field, paged by id.

A `RowSource` for tui/widgets/virtual_table.py (key `id`, after/before/count/
seek), so the table pages a million contacts one indexed page at a time: the
rowid order needs no index, a list is walked through list_members' primary
key (list_id, contact_id). The search is a LIKE on one field or on all of
them; in id order a page of a common match fills within the first rows, a
rare one walks further (it is not FTS-backed: the word index of m041 covers
names and company only, and this search covers emails and URLs too).
Counting with a search is exact when it finishes within a small budget,
else estimated from a sample (shown with "≈"). Shared by the Contacts screen
and any picker of contacts (the campaign wizard's audience step).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import msgspec

from storage.reader import Reader
from storage.search import like

SEARCHABLE = ("first_name", "last_name", "email", "company", "job_title", "linkedin_url", "phone")
"""The fields a search can be limited to ("" = any of them)."""

SAMPLE = 5_000


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


_COLUMNS = "c.id, c.first_name, c.last_name, c.email, c.company, c.job_title, c.linkedin_url"


class ContactsSource:
    """Contacts in id order with the filter applied."""

    key_name = "id"

    def __init__(self, reader: Reader, flt: ContactFilter) -> None:
        if flt.field and flt.field not in SEARCHABLE:
            raise ValueError(f"cannot search field {flt.field!r}")
        self.reader = reader
        self.flt = flt

    def _where(self) -> tuple[list[str], list[Any]]:
        where: list[str] = []
        params: list[Any] = []
        if self.flt.list_id is not None:
            where.append("c.id IN (SELECT contact_id FROM list_members WHERE list_id = ?)")
            params.append(self.flt.list_id)
        if self.flt.search:
            fields = [self.flt.field] if self.flt.field else SEARCHABLE
            where.append("(" + " OR ".join(f"coalesce(c.{f}, '') LIKE ? ESCAPE '\\'" for f in fields) + ")")
            params += [like(self.flt.search)] * len(fields)
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
        or estimated from the first SAMPLE contacts."""
        where, params = self._where()
        if not where:
            # max(rowid) - min(rowid) would be instant but wrong after deletes; count(*) walks the
            # smallest index (~20 ms at a million rows)
            return self.reader.tuples("SELECT count(*) FROM contacts")[0][0], True
        clause = " AND ".join(where)
        exact = self.reader.within(budget_ms, f"SELECT count(*) FROM contacts c WHERE {clause}", params)
        if exact is not None:
            return exact, True
        base = (self.reader.tuples("SELECT count(*) FROM list_members WHERE list_id = ?", [self.flt.list_id])[0][0]
                if self.flt.list_id is not None else self.reader.tuples("SELECT count(*) FROM contacts")[0][0])
        hits = self.reader.tuples(
            f"SELECT count(*) FROM (SELECT c.id FROM contacts c WHERE {clause} AND c.id <= "
            f"(SELECT max(id) FROM (SELECT id FROM contacts ORDER BY id LIMIT ?)))", params + [SAMPLE])[0][0]
        return round(base * hits / min(SAMPLE, max(base, 1))), False

    def seek(self, fraction: float) -> int | None:
        """An id about `fraction` of the way through (ids are roughly uniform): the key a far jump starts after."""
        first = self.after(None, 1)
        last = self.before(None, 1)
        if not first or not last:
            return None
        lo, hi = first[0].id, last[0].id
        return int(lo + (hi - lo) * min(max(fraction, 0.0), 1.0)) - 1
