"""Where a contact search starts: the FTS indexes' hits when they are few, else a LIKE walk.

The audience (storage/audience_view.py), the activity log
(storage/activity_view.py) and the Contacts screen (storage/contacts_view.py)
narrow to the contacts a search matches; this module decides, per search,
whether to start from the contacts the word indexes (m041 names and company,
m048 email, title, LinkedIn URL, phone) or the punctuation index (m045) name,
or to walk the rows in id order re-checking LIKE (when hits are dense, a page
fills quickly).
"""

from __future__ import annotations

import re
from typing import Any

from storage.reader import Reader

#: Above this many matching contacts a search walks the list in id order (hits are dense,
#: a page fills quickly) instead of starting from the hits (few: read them all, sort by id).
RARE_SEARCH = 5_000
#: The density sample: this many of the campaign's first leads; at least DENSE_IN_SAMPLE of
#: them matching (1 %) means the LIKE walk reads at most ~25,000 rows for a 256-row page.
SAMPLE = 2_000
DENSE_IN_SAMPLE = 20
#: A word as the unicode61 tokenizer splits them (letters and digits; `_` separates).
WORD = re.compile(r"[^\W_]+")


def search_match(search: str) -> str | None:
    """The FTS5 query for what the user typed: the words, the last as a prefix (`"ada" AND "lov"*`).

    None when the input has no word characters FTS can index (only punctuation,
    `%`, `@` …): the caller then falls back to the LIKE scan. Words are split as
    the unicode61 tokenizer splits them (letters and digits; `_` separates)."""
    words = WORD.findall(search)
    if not words:
        return None
    # the words before the last are complete (the typed text goes on past them), so they are
    # matched whole: a prefix query on a word every contact has ("Company") costs 60 ms+
    return " AND ".join([f'"{w}"' for w in words[:-1]] + [f'"{words[-1]}"*'])


def whole_words(search: str) -> list[str]:
    """The FTS5 query of each complete typed word (all but the last, which may be half typed), once
    each: `Lead7 Surname` gives `"Lead7"`. Each one's hits hold search_match's (the AND's)."""
    return list(dict.fromkeys(f'"{w}"' for w in WORD.findall(search)[:-1]))


def like(search: str) -> str:
    """The LIKE pattern (with `ESCAPE '\\'`) of the typed text anywhere inside a value."""
    return "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


#: The exact condition the search always meant: the typed text inside "first last" or the company.
NAME_LIKE = "((c.first_name || ' ' || c.last_name) LIKE ? ESCAPE '\\' OR c.company LIKE ? ESCAPE '\\')"


#: SQL yielding the ids of the contacts a search can match (a superset: LIKE re-checks them), and its parameters.
Hits = tuple[str, list[Any]]
#: contacts with a word starting with each typed word (FTS5, m041)
FTS_HITS = "SELECT rowid FROM contact_search WHERE contact_search MATCH ?"
#: contacts with a word starting with each typed word in their email, title, LinkedIn URL or phone (m048)
DETAIL_HITS = "SELECT rowid FROM contact_details WHERE contact_details MATCH ?"
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


def mark_runs(reader: Reader) -> list[str]:
    """The distinct runs of marks m045 indexed (its vocabulary): a few, ~5 ms at a million contacts."""
    return [r[0] for r in reader.tuples("SELECT term FROM contact_marks_vocab")]


def search_plan(reader: Reader, search: str, campaign_id: int, budget_ms: int = 30) -> Hits | None:
    """The contacts to start a campaign's search from (names and company), or None to walk its leads with LIKE.

    The density sample is the LIKE over the campaign's first SAMPLE leads (~2 ms); see hits_plan."""
    pattern = like(search)
    sample = (f"SELECT count(*) FROM (SELECT c.first_name, c.last_name, c.company FROM enrollments e"
              f" INDEXED BY enrollments_campaign JOIN contacts c ON c.id = e.contact_id WHERE e.campaign_id = ?"
              f" ORDER BY e.id LIMIT ?) AS c WHERE {NAME_LIKE}", [campaign_id, SAMPLE, pattern, pattern])
    return hits_plan(reader, search, sample, words=(FTS_HITS,), marks=True, budget_ms=budget_ms)


def hits_plan(reader: Reader, search: str, sample: Hits, *, words: tuple[str, ...], marks: bool,
              budget_ms: int = 30) -> Hits | None:
    """The contacts to start a search from, or None to walk the rows in id order with LIKE (the old way).

    `sample` counts the LIKE's matches among the first SAMPLE rows the walk would read;
    `words` are the FTS queries (FTS_HITS, DETAIL_HITS) whose union covers the fields searched;
    `marks`: the punctuation index (names and company) covers them too.

    Starting from the hits pays when they are few: read them all, keep the
    list's, sort by id. When they are many, the LIKE walk in id order fills a
    page within the first few thousand rows, so it is the fast plan — and its
    results are LIKE's (substrings, also inside words), as before. Dense is
    judged first on the sample, because FTS5 merges a prefix's whole term list
    inside one step no progress handler can interrupt: "lead"* over a million
    "LeadN" names took ~200 ms just to count. A sparse sample still gets the
    hits counted up to RARE_SEARCH. The hits are the FTS words (as prefixes)
    when the text has letters or digits — or only its rarest complete word's,
    when that one is rare: "Lead70000 Surname" starts from the one "Lead70000"
    (the AND had FTS5 merge the million-long "Surname"* list, ~60 ms, on every
    count and page; the LIKE re-check does the rest); else the contacts having its rarest
    punctuation mark ("&", "@", "-" …, which the word index leaves out; m045),
    whose LIKE re-check is then exact — a mark-only search finds exactly what the walk would."""
    match = search_match(search)
    found = sorted(set(search) & MARKS) if match is None and marks else []
    if match is None and not found:
        return None  # no word and no indexed mark (say "✓"): only the walk can answer
    if reader.tuples(*sample)[0][0] >= DENSE_IN_SAMPLE:
        return None
    if match is not None:
        sql = " UNION ".join(words)
        # the rarest complete word's hits, when one is rare, hold the search's and the LIKE narrows
        # them in a few ms; the whole query's count would merge the last word's prefix list
        # ("Surname"* over a million) in one step no budget interrupts, and so would every page
        best = _rarest(reader, budget_ms, words, whole_words(search))
        if best is None or best[0] > RARE_SEARCH:
            best = _rarest(reader, budget_ms, words, [match])
        return (sql, [best[1]] * len(words)) if best is not None and best[0] <= RARE_SEARCH else None
    runs = mark_runs(reader)
    best = _rarest(reader, budget_ms, (MARK_HITS,), [mark_query(runs, mark) for mark in found])
    return (MARK_HITS, [best[1]]) if best is not None and best[0] <= RARE_SEARCH else None


def _rarest(reader: Reader, budget_ms: int, parts: tuple[str, ...], queries: list[str]) -> tuple[int, str] | None:
    """(hits, query) of the query the FTS `parts` find fewest contacts for, None when none could be
    counted within `budget_ms`. Each part is counted on its own, up to RARE_SEARCH + 1, and the
    counts added (the union has at most that many): a UNION is built whole before its LIMIT, and one
    index holding a word a million times ("lead" in every LinkedIn URL) spent the whole budget."""
    best: tuple[int, str] | None = None
    for query in queries:
        counts = [reader.within(budget_ms, f"SELECT count(*) FROM ({part} LIMIT ?)", [query, RARE_SEARCH + 1])
                  for part in parts]
        if None not in counts and (best is None or sum(counts) < best[0]):
            best = (sum(counts), query)
    return best
