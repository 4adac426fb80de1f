"""What the screens read, as row sources the virtual tables page through by keyset.

Why here and not in the widgets: every query the TUI runs is in this module
(or in storage/), so its cost can be read in one place and measured by
`bench/tui_audience.py`. Each source answers four questions the virtual table
asks — rows after a key, rows before a key, how many rows (exact or an
estimate), and roughly which key sits at a fraction of the list — and never
uses OFFSET, so row 999,000 costs what row 0 costs.

Queries run on worker threads; `Reader` gives each thread its own read-only
connection (sqlite3 connections are not shareable across threads).
"""

from __future__ import annotations

import re
import sqlite3
import threading

import sqlite_utils
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterable

from storage.activity_kinds import CONDITION_KINDS, Milestone

Row = dict[str, Any]


class Reader:
    """Per-thread read connections to one workspace database (WAL readers never block the runtime)."""

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._local = threading.local()
        self._all: list[tuple[threading.Thread, sqlite3.Connection]] = []  # with the thread that made it
        self._lock = threading.Lock()

    def conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                                   check_same_thread=False, timeout=5.0)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout = 5000")
            conn.execute("PRAGMA query_only = ON")
            self._local.conn = conn
            with self._lock:
                self._all.append((threading.current_thread(), conn))
        return conn

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        return [dict(r) for r in self.conn().execute(sql, list(params))]

    def db(self) -> sqlite_utils.Database:
        """This thread's connection as a sqlite_utils Database, for storage/ query functions."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = sqlite_utils.Database(self.conn())
        return db

    def one(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        row = self.conn().execute(sql, list(params)).fetchone()
        return dict(row) if row else None

    def close(self) -> None:
        """Close this thread's connection; let go of the worker threads' ones.

        A worker may still be inside a query when the app exits, and closing a sqlite3
        connection another thread is executing on crashes the process (segfault; the
        likely cause of one seen at exit after a failed Pilot test). Each of those closes
        when its thread ends and the thread-local lets go of it, which is never mid-query."""
        me = threading.current_thread()
        with self._lock:
            mine = [conn for owner, conn in self._all if owner is me]
            self._all.clear()
        self._local.__dict__.clear()  # this thread opens a fresh one if it reads again
        for conn in mine:
            conn.close()


# --- name / company search ------------------------------------------------------------

#: Above this many matching contacts a search walks the list in id order (hits are dense,
#: a page fills quickly) instead of starting from the hits (few: read them all, sort by id).
RARE_SEARCH = 5_000
#: A filter that tests each lead (LIKE, tag, engagement, same company) is counted exactly over at
#: most this many leads (~10–20 ms); over more it is estimated from the first SAMPLE leads.
EXACT_COUNT_ROWS = 25_000
#: The density sample: this many of the campaign's first leads; at least DENSE_IN_SAMPLE of
#: them matching (1 %) means the LIKE walk reads at most ~25,000 rows for a 256-row page.
SAMPLE = 2_000
DENSE_IN_SAMPLE = 20


def search_match(search: str) -> str | None:
    """The FTS5 query for what the user typed: the words, the last as a prefix (`"ada" AND "lov"*`).

    None when the input has no word characters FTS can index (only punctuation,
    `%`, `@` …): the caller then falls back to the LIKE scan. Words are split as
    the unicode61 tokenizer splits them (letters and digits; `_` separates)."""
    words = re.findall(r"[^\W_]+", search)
    if not words:
        return None
    # the words before the last are complete (the typed text goes on past them), so they are
    # matched whole: a prefix query on a word every contact has ("Company") costs 60 ms+
    return " AND ".join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])


def _like(search: str) -> str:
    return "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


#: The exact condition the search always meant: the typed text inside "first last" or the company.
NAME_LIKE = "((c.first_name || ' ' || c.last_name) LIKE ? ESCAPE '\\' OR c.company LIKE ? ESCAPE '\\')"


#: SQL yielding the ids of the contacts a search can match (a superset: LIKE re-checks them), and its parameters.
Hits = tuple[str, list[Any]]
#: contacts with a word starting with each typed word (FTS5, m041)
FTS_HITS = "SELECT rowid FROM contact_search WHERE contact_search MATCH ?"
#: contacts having runs of punctuation (m045), the query naming every run that contains a mark
MARK_HITS = "SELECT rowid FROM contact_marks WHERE contact_marks MATCH ?"
#: The marks a search starts from: m045's tokenizer indexes every character SQLite's Unicode 6.1
#: tables call punctuation or a symbol; these are the ones where that agrees with what a user types
#: (tests check each is a token of its own). A search whose only non-word characters are others walks.
MARKS = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~’‘“”–—…€£¥·«»¿¡©®™°§")


def _fts_string(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def mark_query(runs: list[str], mark: str) -> str:
    """The FTS5 query of the contacts whose name or company contains `mark`: every indexed run
    of marks (`runs`, the vocabulary) that contains it — ".," holds ",". A mark nobody has
    gives a query that matches nothing."""
    return " OR ".join(_fts_string(run) for run in runs if mark in run) or _fts_string(mark)


def search_plan(reader: "Reader", search: str, campaign_id: int, budget_ms: int = 30) -> Hits | None:
    """The contacts to start a search from, or None to walk the list with LIKE (the old way).

    Starting from the hits pays when they are few: read them all, keep the
    campaign's, sort by id. When they are many, the LIKE walk in id order fills a
    page within the first few thousand rows, so it is the fast plan — and its
    results are LIKE's (substrings, also inside words), as before. Dense is
    judged first on a sample (the LIKE over the campaign's first SAMPLE leads,
    ~2 ms), because FTS5 merges a prefix's whole term list inside one step no
    progress handler can interrupt: "lead"* over a million "LeadN" names took
    ~200 ms just to count. A sparse sample still gets the hits counted up to
    RARE_SEARCH. The hits are the FTS words (as prefixes) when the text has
    letters or digits; else the contacts having its rarest punctuation mark
    ("&", "@", "-" …, which the word index leaves out; m045), whose LIKE
    re-check is then exact — a mark-only search finds exactly what the walk would."""
    match = search_match(search)
    marks = sorted(set(search) & MARKS) if match is None else []
    if match is None and not marks:
        return None  # no word and no indexed mark (say "✓"): only the walk can answer
    like = _like(search)
    dense = reader.one(
        f"SELECT count(*) AS n FROM (SELECT c.first_name, c.last_name, c.company FROM enrollments e"
        f" INDEXED BY enrollments_campaign JOIN contacts c ON c.id = e.contact_id WHERE e.campaign_id = ?"
        f" ORDER BY e.id LIMIT ?) AS c WHERE {NAME_LIKE}", [campaign_id, SAMPLE, like, like])["n"]
    if dense >= DENSE_IN_SAMPLE:
        return None
    if match is not None:
        hits = _with_budget(reader.conn(), budget_ms, lambda conn: conn.execute(
            f"SELECT count(*) FROM ({FTS_HITS} LIMIT ?)", [match, RARE_SEARCH + 1]).fetchone()[0])
        return (FTS_HITS, [match]) if hits is not None and hits <= RARE_SEARCH else None
    # the distinct runs of marks: a few, ~5 ms at a million contacts
    runs = [r["term"] for r in reader.rows("SELECT term FROM contact_marks_vocab")]
    best: tuple[int, str] | None = None
    for mark in marks:
        query = mark_query(runs, mark)
        hits = _with_budget(reader.conn(), budget_ms, lambda conn: conn.execute(
            f"SELECT count(*) FROM ({MARK_HITS} LIMIT ?)", [query, RARE_SEARCH + 1]).fetchone()[0])
        if hits is not None and (best is None or hits < best[0]):
            best = (hits, query)
    return (MARK_HITS, [best[1]]) if best is not None and best[0] <= RARE_SEARCH else None


# --- the audience ---------------------------------------------------------------

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
        if f.status and f.campaign_paused and f.status in ("paused", "in_progress"):
            # a paused campaign shows its In progress leads as Paused (storage/metrics.py)
            where.append("e.status IN ('paused', 'in_progress')" if f.status == "paused" else "0")
        elif f.status:
            where.append("e.status = ?")
            params.append(f.status)
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
            params += [_like(f.search)] * 2
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
        if f.status and not (f.campaign_paused and f.status == "paused"):
            return "INDEXED BY enrollments_chip"
        if f.node_id:
            return "INDEXED BY enrollments_campaign_node"
        return "INDEXED BY enrollments_campaign"

    def _select(self, extra: str, params: list[Any], order: str, limit: int) -> list[Row]:
        where, wparams = self._where()
        sql = (
            "SELECT e.id, e.contact_id, e.status, e.substatus, e.node_id, e.milestones, e.updated_at,"
            " e.removed, c.first_name, c.last_name, c.company, c.job_title"
            f" FROM enrollments e {self._index()} JOIN contacts c ON c.id = e.contact_id"
            f" WHERE {where}{extra} ORDER BY e.id {order} LIMIT ?"
        )
        rows = self.reader.rows(sql, wparams + params + [limit])
        self._decorate(rows)
        return rows

    def _decorate(self, rows: list[Row]) -> None:
        """Add the latest actions (icons) and conversation tags of a page: two indexed look-ups per page."""
        if not rows:
            return
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        recent: dict[int, list[str]] = {i: [] for i in ids}
        for a in self.reader.rows(
            f"SELECT enrollment_id, kind FROM activity WHERE enrollment_id IN ({marks})"
            f" AND kind NOT IN ({','.join('?' * len(CONDITION_KINDS))}) ORDER BY enrollment_id, id DESC",
            ids + [k.value for k in CONDITION_KINDS],
        ):
            kinds = recent[a["enrollment_id"]]
            if len(kinds) < 4:
                kinds.append(a["kind"])
        tags: dict[int, list[str]] = {}
        if self.flt.identity_id is not None:
            contacts = [r["contact_id"] for r in rows]
            for t in self.reader.rows(
                f"SELECT cv.contact_id, t.value AS tag FROM conversations cv, json_each(cv.tags) t"
                f" WHERE cv.identity_id = ? AND cv.contact_id IN ({','.join('?' * len(contacts))})",
                [self.flt.identity_id] + contacts,
            ):
                tags.setdefault(t["contact_id"], []).append(str(t["tag"]))
        for r in rows:
            r["recent"] = recent[r["id"]]
            r["tags"] = tags.get(r["contact_id"], [])

    def after(self, key: int | None, limit: int) -> list[Row]:
        return self._select(" AND e.id > ?" if key is not None else "", [key] if key is not None else [], "ASC", limit)

    def before(self, key: int | None, limit: int) -> list[Row]:
        """Rows just before `key` (None = the end), nearest first."""
        return self._select(" AND e.id < ?" if key is not None else "", [key] if key is not None else [], "DESC", limit)

    def base_count(self) -> int:
        """Exact leads of the chip × stage alone, from the trigger-kept totals (m043): a few rows, at any size."""
        f = self.flt
        where, params = ["campaign_id = ?", "n > 0"], [f.campaign_id]
        if f.status and f.campaign_paused and f.status in ("paused", "in_progress"):
            if f.status == "in_progress":
                return 0  # a paused campaign shows its In progress leads as Paused
            where.append("status IN ('paused', 'in_progress')")
        elif f.status:
            where.append("status = ?")
            params.append(f.status)
        if f.node_id:
            where.append("node_id = ?")
            params.append(f.node_id)
        return self.reader.one(f"SELECT coalesce(sum(n), 0) AS n FROM enrollment_counts WHERE {' AND '.join(where)}",
                               params)["n"]

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
            exact = _with_budget(self.reader.conn(), budget_ms, lambda conn: conn.execute(
                f"SELECT count(*) FROM enrollments e {self._index()}{self._contacts_join()} WHERE {where}",
                params).fetchone()[0])
            if exact is not None:
                return exact, True
        # the sample is the chip × stage list's first SAMPLE leads, whose count is `base`
        unfiltered = AudienceSource(self.reader, AudienceFilter(f.campaign_id, f.identity_id, status=f.status,
                                                                node_id=f.node_id, campaign_paused=f.campaign_paused))
        uw, up = unfiltered._where()
        row = self.reader.one(
            f"SELECT count(*) AS n, max(id) AS last FROM (SELECT e.id FROM enrollments e {unfiltered._index()}"
            f" WHERE {uw} ORDER BY e.id LIMIT ?)", up + [SAMPLE])
        last = row["last"] if row else None
        if not last:
            return 0, True
        hits = self.reader.one(
            f"SELECT count(*) AS n FROM enrollments e {self._index()}{self._contacts_join()}"
            f" WHERE {where} AND e.id <= ?", params + [last])["n"]
        return max(hits, round(base * hits / max(row["n"], 1))), False

    def seek(self, fraction: float) -> int | None:
        """An id about `fraction` of the way through (ids are roughly uniform): the key a far jump starts after."""
        first = self.after(None, 1)
        last = self.before(None, 1)
        if not first or not last:
            return None
        lo, hi = first[0]["id"], last[0]["id"]
        return int(lo + (hi - lo) * min(max(fraction, 0.0), 1.0)) - 1


def _with_budget(conn: sqlite3.Connection, budget_ms: int, fn) -> Any:
    """Run `fn(conn)`; give up (None) when SQLite has worked longer than `budget_ms`.

    The handler runs every 100,000 virtual-machine steps (~1–3 ms): each call takes
    the GIL back from the UI thread, and every 10,000 steps made a budgeted count
    and the painting take turns hundreds of times."""
    import time

    deadline = time.perf_counter() + budget_ms / 1000
    conn.set_progress_handler(lambda: 1 if time.perf_counter() > deadline else 0, 100_000)
    try:
        return fn(conn)
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            return None
        raise
    finally:
        conn.set_progress_handler(None, 0)


# --- the activity log --------------------------------------------------------------

DATE_RANGES = {"All time": None, "Last 24 hours": 1, "Last 7 days": 7, "Last 30 days": 30}


@dataclass(frozen=True)
class ActivityFilter:
    campaign_id: int
    search: str = ""  # recipient name / company or action kind
    node_id: str | None = None  # stage
    contact_id: int | None = None  # recipient
    since: str | None = None  # ISO time (date range)

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
        if f.node_id:
            where.append("a.node_id = ?")
            params.append(f.node_id)
        if f.contact_id is not None:
            where.append("a.contact_id = ?")
            params.append(f.contact_id)
        if f.since:
            where.append("a.at >= ?")
            params.append(f.since)
        if f.search:
            like = _like(f.search)
            if self._by_recipient():
                # no action kind of this campaign matches: the recipient condition alone decides
                hits = self._match()
                assert hits is not None
                where.append(f"a.contact_id IN ({hits[0]})")
                where.append(NAME_LIKE)
                params += [*hits[1], like, like]
            else:
                where.append(f"({NAME_LIKE} OR a.kind LIKE ? ESCAPE '\\')")
                params += [like, like, like.replace(" ", "\\_")]
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
            self._kind_hit = self._match() is None or bool(self.reader.one(
                "WITH RECURSIVE k(kind) AS (SELECT min(kind) FROM activity WHERE campaign_id = ?1"
                " UNION ALL SELECT (SELECT min(kind) FROM activity WHERE campaign_id = ?1 AND kind > k.kind)"
                " FROM k WHERE k.kind IS NOT NULL)"  # the distinct kinds: one index seek each
                " SELECT count(*) AS n FROM k WHERE kind LIKE ?2 ESCAPE '\\'",
                [self.flt.campaign_id, _like(self.flt.search).replace(" ", "\\_")])["n"])
        return not self._kind_hit

    def _index(self) -> str:
        if self.flt.search and self._by_recipient():
            return "INDEXED BY activity_campaign_contact"
        return "INDEXED BY activity_campaign_node" if self.flt.node_id else "INDEXED BY activity_campaign"

    def _select(self, extra: str, params: list[Any], order: str, limit: int) -> list[Row]:
        where, wparams = self._where()
        return self.reader.rows(
            "SELECT a.id, a.at, a.kind, a.node_id, a.channel, a.status, a.detail, a.actor, a.contact_id,"
            " c.first_name, c.last_name, c.company"
            f" FROM activity a {self._index()} LEFT JOIN contacts c ON c.id = a.contact_id"
            f" WHERE {where}{extra} ORDER BY a.id {order} LIMIT ?",
            wparams + params + [limit],
        )

    # newest first: "after" walks towards older rows
    def after(self, key: int | None, limit: int) -> list[Row]:
        return self._select(" AND a.id < ?" if key is not None else "", [key] if key is not None else [], "DESC", limit)

    def before(self, key: int | None, limit: int) -> list[Row]:
        return self._select(" AND a.id > ?" if key is not None else "", [key] if key is not None else [], "ASC", limit)

    def count(self, budget_ms: int = 30) -> tuple[int, bool]:
        """(rows, exact): exact when counting finishes within `budget_ms`, else the id span (≈).

        The whole log (no filter) is counted on the covering index (campaign_id, kind):
        ~10 ms per 100,000 actions, where walking activity_campaign read every row for
        its kind (~95 ms). Contacts are joined only when the search reads them."""
        f = self.flt
        where, params = self._where()
        index = self._index()
        if not (f.search or f.node_id or f.contact_id is not None or f.since):
            index = "INDEXED BY activity_campaign_kind"
        join = " LEFT JOIN contacts c ON c.id = a.contact_id" if f.search else ""
        exact = _with_budget(self.reader.conn(), budget_ms, lambda conn: conn.execute(
            f"SELECT count(*) FROM activity a {index}{join} WHERE {where}", params).fetchone()[0])
        if exact is not None:
            return exact, True
        # an estimate: the id span of the campaign's activity
        newest, oldest = self.after(None, 1), self.before(None, 1)
        if not newest:
            return 0, True
        return newest[0]["id"] - oldest[0]["id"] + 1, False

    def seek(self, fraction: float) -> int | None:
        newest, oldest = self.after(None, 1), self.before(None, 1)
        if not newest:
            return None
        hi, lo = newest[0]["id"], oldest[0]["id"]
        return int(hi - (hi - lo) * min(max(fraction, 0.0), 1.0)) + 1


# --- single records ----------------------------------------------------------------


@dataclass
class LeadDetail:
    """What the contact side panel shows."""

    enrollment: Row
    contact: Row
    timeline: list[Row] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def lead_detail(reader: Reader, enrollment_id: int, identity_id: int | None, limit: int = 60) -> LeadDetail | None:
    enrollment = reader.one("SELECT * FROM enrollments WHERE id = ?", [enrollment_id])
    if enrollment is None:
        return None
    contact = reader.one("SELECT * FROM contacts WHERE id = ?", [enrollment["contact_id"]]) or {}
    timeline = reader.rows(
        "SELECT id, at, kind, node_id, channel, status, detail FROM activity WHERE enrollment_id = ?"
        " ORDER BY id DESC LIMIT ?", [enrollment_id, limit])
    tags = [r["tag"] for r in reader.rows(
        "SELECT DISTINCT t.value AS tag FROM conversations cv, json_each(cv.tags) t"
        " WHERE cv.identity_id = ? AND cv.contact_id = ?", [identity_id, enrollment["contact_id"]])]
    return LeadDetail(enrollment, contact, timeline[::-1], tags)


def campaign_row(reader: Reader, campaign_id: int) -> Row | None:
    return reader.one(
        "SELECT c.*, i.name AS identity_name, i.timezone AS identity_timezone FROM campaigns c"
        " JOIN identities i ON i.id = c.identity_id WHERE c.id = ?", [campaign_id])


def conversation_tags(reader: Reader, campaign_id: int) -> list[tuple[str, str, int]]:
    """(tag, channel, conversations) of a campaign — the Tagged Conversations widget."""
    return [(str(r["tag"]), r["channel"], r["n"]) for r in reader.rows(
        "SELECT t.value AS tag, cv.channel, count(*) AS n FROM conversations cv, json_each(cv.tags) t"
        " WHERE cv.campaign_id = ? GROUP BY t.value, cv.channel ORDER BY n DESC", [campaign_id])]


def daily_activity(reader: Reader, campaign_id: int, since: str) -> list[tuple[str, int]]:
    """(day, actions) since `since` — the overview sparkline (conditions left out)."""
    return [(r["day"], r["n"]) for r in reader.rows(
        "SELECT substr(at, 1, 10) AS day, count(*) AS n FROM activity INDEXED BY activity_campaign"
        f" WHERE campaign_id = ? AND at >= ? AND kind NOT IN ({','.join('?' * len(CONDITION_KINDS))})"
        " AND enrollment_id IS NOT NULL GROUP BY day ORDER BY day",
        [campaign_id, since, *[k.value for k in CONDITION_KINDS]])]

