"""The name/company search of the audience and activity lists (FTS5 index of m041).

The index is external-content, kept in step by triggers: these tests change
contacts every way the app does and check the index answers as the table does,
and that the FTS-backed search of storage/search.py returns exactly what the LIKE scan it
replaced returned (for whole words and word prefixes, which is what FTS matches).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

import storage.search as fts
from bench.tui_audience import make_workspace
from storage.activity import record
from storage.activity_kinds import Kind
from storage.db import transaction
from storage.workspace import init_workspace
from storage.activity_view import ActivityFilter, ActivitySource
from storage.audience_view import AudienceFilter, AudienceSource
from storage.reader import Reader
from storage.search import search_match

AT = "2026-11-23T14:00:00+00:00"


def fts_ids(db, query: str) -> set[int]:
    return {r[0] for r in db.execute("SELECT rowid FROM contact_search WHERE contact_search MATCH ?", [query])}


def test_triggers_keep_the_index_in_step_with_contacts(tmp_path: Path) -> None:
    db = init_workspace(tmp_path / "ws").open_db()
    with transaction(db):
        for i, (first, last, company) in enumerate([("Ada", "Lovelace", "Analytical Engines"),
                                                    ("Grace", "Hopper", "Navy"),
                                                    ("Alan", "Turing", "Bletchley")], start=1):
            db.execute("INSERT INTO contacts (id, first_name, last_name, company, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)", [i, first, last, company, AT, AT])
    assert fts_ids(db, '"ana"*') == {1}
    assert fts_ids(db, '"hopper"') == {2}

    db.execute("UPDATE contacts SET last_name = 'Byron', company = 'Poetry Ltd' WHERE id = 1")
    assert fts_ids(db, '"lovelace"') == set() and fts_ids(db, '"analytical"') == set()
    assert fts_ids(db, '"byron"') == {1} and fts_ids(db, '"poetry"') == {1}

    db.execute("UPDATE contacts SET job_title = 'Admiral' WHERE id = 2")  # not an indexed column
    assert fts_ids(db, '"hopper"') == {2}

    db.execute("DELETE FROM contacts WHERE id = 3")
    assert fts_ids(db, '"turing"') == set()
    # FTS5's own check that the index matches the content table row for row
    db.execute("INSERT INTO contact_search (contact_search, rank) VALUES ('integrity-check', 1)")


def test_migration_indexes_rows_that_existed_before_it(tmp_path: Path) -> None:
    from storage.db import connect, migrate

    db = connect(tmp_path / "old.db")
    migrate(db, upto="m040_tui_paging")
    db.execute("INSERT INTO contacts (id, first_name, last_name, company, created_at, updated_at)"
               " VALUES (7, 'Katherine', 'Johnson', 'NASA', ?, ?)", [AT, AT])
    migrate(db)
    assert fts_ids(db, '"kath"*') == {7} and fts_ids(db, '"nasa"') == {7}


def test_search_match_quotes_words_and_gives_up_on_punctuation() -> None:
    assert search_match("Company 42") == '"Company" AND "42"*'
    assert search_match('ada "OR" x_y') == '"ada" AND "OR" AND "x" AND "y"*'
    assert search_match("@ %") is None


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory) -> Path:
    return make_workspace(tmp_path_factory.mktemp("search") / "ws", 600)


def like_ids(reader: Reader, search: str, table: str) -> list[int]:
    like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    cond = "((c.first_name || ' ' || c.last_name) LIKE ? ESCAPE '\\' OR c.company LIKE ? ESCAPE '\\')"
    if table == "audience":
        sql = f"SELECT e.id FROM enrollments e JOIN contacts c ON c.id = e.contact_id WHERE e.campaign_id = 1 AND {cond}"
        return sorted(r[0] for r in reader.tuples(sql + " ORDER BY e.id", [like, like]))
    sql = (f"SELECT a.id FROM activity a LEFT JOIN contacts c ON c.id = a.contact_id WHERE a.campaign_id = 1"
           f" AND a.kind != 'condition_evaluated' AND ({cond} OR a.kind LIKE ? ESCAPE '\\')")
    return sorted(r[0] for r in reader.tuples(sql, [like, like, like.replace(" ", "\\_")]))


WORDS = ["Lead1", "lead12", "Lead123 Surname", "Company 42", "company 4", "Surname99", "SURNAME9", "Lead7 Surname7"]


@pytest.mark.parametrize("search", WORDS)
def test_fts_search_returns_the_like_results(small_ws: Path, search: str, monkeypatch) -> None:
    monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 10**9)  # 600 leads: every word is "dense"; take the FTS plan
    reader = Reader(small_ws / "enginy.db")
    try:
        audience = AudienceSource(reader, AudienceFilter(1, search=search))
        assert audience._match() is not None, "this search must take the FTS plan"
        got = [r.id for r in audience.after(None, 10_000)]
        expected = like_ids(reader, search, "audience")
        assert expected, "a search that matches nothing proves little"
        assert got == expected
        assert audience.count() == (len(expected), True)
        assert [r.id for r in audience.before(None, 10_000)] == expected[::-1]
        activity = ActivitySource(reader, ActivityFilter(1, search=search))
        assert activity._by_recipient(), "no action kind matches: the recipients' index must be used"
        assert sorted(r.id for r in activity.after(None, 10_000)) == like_ids(reader, search, "activity")
    finally:
        reader.close()


def test_unindexable_and_dense_searches_fall_back_to_like(small_ws: Path, monkeypatch) -> None:
    reader = Reader(small_ws / "enginy.db")
    try:
        # "Lead" is in every name: the density sample sends it to the LIKE walk before FTS is asked
        assert AudienceSource(reader, AudienceFilter(1, search="Lead"))._match() is None
        assert AudienceSource(reader, AudienceFilter(1, search="Lead123"))._match() is not None
        for search in ("✓", "→ ✓"):  # no word and no indexed punctuation mark: only the walk can answer
            audience = AudienceSource(reader, AudienceFilter(1, search=search))
            assert search_match(search) is None and audience._match() is None
            assert [r.id for r in audience.after(None, 10_000)] == like_ids(reader, search, "audience")
        # FTS matches words by prefix, so a mid-word substring (LIKE-only semantics) finds a subset of
        # LIKE's rows (here: none)
        monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 10**9)
        mid = AudienceSource(reader, AudienceFilter(1, search="ead1"))
        assert [r.id for r in mid.after(None, 10_000)] == []
        # a search naming an action kind matches through the kind, so the activity list walks
        kinds = ActivitySource(reader, ActivityFilter(1, search="invite sent"))
        assert not kinds._by_recipient()
        got = sorted(r.id for r in kinds.after(None, 10_000))
        assert got and got == like_ids(reader, "invite sent", "activity")
        monkeypatch.setattr(fts, "RARE_SEARCH", 3)  # "Lead1" matches 111 contacts: now "many"
        dense = AudienceSource(reader, AudienceFilter(1, search="Lead1"))
        assert dense._match() is None
        assert [r.id for r in dense.after(None, 10_000)] == like_ids(reader, "Lead1", "audience")
    finally:
        reader.close()


# --- punctuation-only searches: contact_marks (m045) ------------------------------------

def mark_ids(db, mark: str) -> set[int]:
    runs = [r[0] for r in db.execute("SELECT term FROM contact_marks_vocab")]
    return {r[0] for r in db.execute(fts.MARK_HITS, [fts.mark_query(runs, mark)])}


def assert_marks_in_step(db) -> None:
    """Per mark, the index finds exactly the contacts whose "first last" or company contains it."""
    texts = list(db.execute("SELECT id, first_name || ' ' || last_name || ' ' || company FROM contacts"))
    for mark in fts.MARKS:
        assert mark_ids(db, mark) == {i for i, text in texts if mark in text}, mark
    db.execute("INSERT INTO contact_marks (contact_marks, rank) VALUES ('integrity-check', 1)")


def test_every_mark_a_search_starts_from_is_indexed_as_a_token(tmp_path: Path) -> None:
    """MARKS must agree with SQLite's tokenizer (its Unicode 6.1 categories), else a mark would find nobody."""
    db = init_workspace(tmp_path / "ws").open_db()
    with transaction(db):
        for i, mark in enumerate(sorted(fts.MARKS), start=1):
            db.execute("INSERT INTO contacts (id, first_name, last_name, company, created_at, updated_at)"
                       " VALUES (?, ?, 'x', 'y', ?, ?)", [i, f"a{mark}b", AT, AT])
    runs = {r[0] for r in db.execute("SELECT term FROM contact_marks_vocab")}
    assert runs == set(fts.MARKS)  # letters, digits and spaces are never part of a run
    assert_marks_in_step(db)


def test_triggers_keep_the_marks_in_step_with_contacts(tmp_path: Path) -> None:
    db = init_workspace(tmp_path / "ws").open_db()
    with transaction(db):
        for i, (first, last, company) in enumerate([("Seán", "O'Brien", "Smith & Co."), ("Ada", "Lovelace", "AT&T"),
                                                    ("Jean-Luc", "Picard", "Acme Inc.,"), ("Plain", "Name", "Acme"),
                                                    ("Zoë", "“Quoted”", "50% off_sale [x]\\y ✓")], start=1):
            db.execute("INSERT INTO contacts (id, first_name, last_name, company, created_at, updated_at)"
                       " VALUES (?, ?, ?, ?, ?, ?)", [i, first, last, company, AT, AT])
    assert_marks_in_step(db)
    assert mark_ids(db, ",") == {3}  # inside the run ".,"
    db.execute("UPDATE contacts SET company = 'Acme, Inc.' WHERE id = 1")
    db.execute("UPDATE contacts SET last_name = 'Plain' WHERE id = 3")  # the marks in first_name stay
    db.execute("UPDATE contacts SET first_name = 'Mr. Plain' WHERE id = 4")
    db.execute("UPDATE contacts SET job_title = 'A & B' WHERE id = 2")  # not a searched column
    assert_marks_in_step(db)
    db.execute("UPDATE contacts SET first_name = 'Seán', last_name = 'OBrien', company = 'Acme' WHERE id = 1")
    db.execute("DELETE FROM contacts WHERE id IN (2, 5)")
    assert_marks_in_step(db)
    assert mark_ids(db, "&") == set() and mark_ids(db, ".") == {3, 4}


def test_migration_indexes_the_marks_of_contacts_that_existed_before_it(tmp_path: Path) -> None:
    from storage.db import connect, migrate

    db = connect(tmp_path / "old.db")
    migrate(db, upto="m043_enrollment_counts")
    db.execute("INSERT INTO contacts (id, first_name, last_name, company, created_at, updated_at)"
               " VALUES (7, 'Mary-Kate', 'O''Neil', 'R&D, Ltd.', ?, ?), (8, 'No', 'Marks', 'Here', ?, ?)",
               [AT, AT, AT, AT])
    migrate(db)
    assert_marks_in_step(db)
    assert mark_ids(db, "&") == {7} and mark_ids(db, "@") == set()


MARK_SEARCHES = ["&", "@", ",", ".", ", ", ".,", "& ", " & ", "%", "_", "’", "'", "&.", "#"]


@pytest.fixture(scope="module")
def marked_ws(tmp_path_factory) -> Path:
    """The bench's 600 leads (companies "… & Sons", "…, Inc.", one "@ Home") plus a few more marks."""
    ws = make_workspace(tmp_path_factory.mktemp("marks") / "ws", 600)
    from storage.workspace import open_workspace

    db = open_workspace(ws).open_db()
    for i, last in ((5, "O'Hara"), (9, "D’Arcy"), (12, "50%_off"), (13, "Smith-Jones."), (14, "Ltd.,")):
        db.execute("UPDATE contacts SET last_name = ? WHERE id = ?", [last, i])
    for i in (5, 9, 21):  # conditions, which the activity list leaves out
        record(db, kind=Kind.CONDITION_EVALUATED, now=datetime.fromisoformat(AT), enrollment_id=i)
    db.close()
    return ws


@pytest.mark.parametrize("search", MARK_SEARCHES)
def test_mark_searches_return_the_like_results(marked_ws: Path, search: str, monkeypatch) -> None:
    """Starting from the contacts with the rarest mark finds exactly what the LIKE walk finds."""
    monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 10**9)  # 600 leads: take the marks plan even for dense marks
    reader = Reader(marked_ws / "enginy.db")
    try:
        assert search_match(search) is None
        expected = like_ids(reader, search, "audience")
        audience = AudienceSource(reader, AudienceFilter(1, search=search))
        hits = audience._match()
        assert hits is not None and hits[0] == fts.MARK_HITS, "a mark-only search starts from contact_marks"
        assert [r.id for r in audience.after(None, 10_000)] == expected
        assert [r.id for r in audience.before(None, 10_000)] == expected[::-1]
        assert audience.count() == (len(expected), True)
        activity = ActivitySource(reader, ActivityFilter(1, search=search))
        expected_actions = like_ids(reader, search, "activity")
        assert sorted(r.id for r in activity.after(None, 10_000)) == expected_actions
        assert activity.count() == (len(expected_actions), True)
        monkeypatch.setattr(fts, "RARE_SEARCH", -1)  # no mark is rare now: the walk, same rows
        walk = AudienceSource(reader, AudienceFilter(1, search=search))
        assert walk._match() is None
        assert [r.id for r in walk.after(None, 10_000)] == expected
    finally:
        reader.close()


def test_a_mark_search_picks_the_rarest_mark(marked_ws: Path, monkeypatch) -> None:
    monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 10**9)
    reader = Reader(marked_ws / "enginy.db")
    try:
        # "," is in 60 companies, "@" in one: the hits are the "@" contacts
        assert AudienceSource(reader, AudienceFilter(1, search=", @"))._match() == (fts.MARK_HITS, ['"@"'])
        # "," also sits in the run ".," of "Ltd.,": both runs are asked for
        assert AudienceSource(reader, AudienceFilter(1, search=","))._match() == (fts.MARK_HITS, ['"," OR ".,"'])
        # a common mark in a big sample is dense: the walk fills a page at once
        monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 20)
        assert AudienceSource(reader, AudienceFilter(1, search=","))._match() is None
        assert AudienceSource(reader, AudienceFilter(1, search="@"))._match() == (fts.MARK_HITS, ['"@"'])
    finally:
        reader.close()


def test_the_whole_activity_log_is_counted_exactly(marked_ws: Path) -> None:
    """Counted on the covering (campaign_id, kind) index: conditions left out, as the list leaves them."""
    from storage.activity_kinds import CONDITION_KINDS

    reader = Reader(marked_ws / "enginy.db")
    try:
        activity = ActivitySource(reader, ActivityFilter(1))
        listed = activity.after(None, 10_000)
        assert listed and activity.count() == (len(listed), True)
        assert not {r.kind for r in listed} & {k.value for k in CONDITION_KINDS}
        everything = reader.one("SELECT count(*) AS n FROM activity WHERE campaign_id = 1")["n"]
        assert everything == len(listed) + 3
    finally:
        reader.close()
