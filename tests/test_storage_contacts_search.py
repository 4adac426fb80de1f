"""The Contacts screen's search (storage/contacts_view.py): starting from the word indexes' hits (m041 names and
company, m048 email, title, LinkedIn URL, phone) finds what the LIKE walk finds, and the index follows edits."""

from __future__ import annotations

from pathlib import Path

import pytest

import storage.search as fts
from bench.tui_audience import make_workspace
from storage.contacts_view import ContactFilter, ContactsSource
from storage.db import connect
from storage.reader import Reader


@pytest.fixture(scope="module")
def small_ws(tmp_path_factory) -> Path:
    folder = make_workspace(tmp_path_factory.mktemp("contacts-search") / "ws", 300)
    db = connect(folder / "enginy.db")
    db.execute("UPDATE contacts SET linkedin_url = 'https://www.linkedin.com/in/person-' || id,"
               " phone = '+34 600 ' || (id * 7), job_title = CASE WHEN id % 50 = 0 THEN 'Chief Rocket Officer'"
               " ELSE job_title END")
    db.close()
    return folder


SEARCHES = [("lead12", ""), ("Lead123 Surname", ""), ("lead7@example", ""), ("person-42", ""), ("600 21", ""),
            ("rocket", ""), ("Rocket Off", "job_title"), ("lead29", "email"), ("company 4", "company")]


def ids(source: ContactsSource) -> list[int]:
    return [r.id for r in source.after(None, 10_000)]


@pytest.mark.parametrize("search,field", SEARCHES)
def test_hits_give_the_like_results(small_ws: Path, search: str, field: str, monkeypatch) -> None:
    reader = Reader(small_ws / "enginy.db")
    try:
        monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 10**9)  # 300 contacts: every word is "dense"; take the hits
        planned = ContactsSource(reader, ContactFilter(search=search, field=field))
        assert planned._hits() is not None, "this search must start from the index"
        monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 0)  # and now the walk
        walked = ContactsSource(reader, ContactFilter(search=search, field=field))
        assert walked._hits() is None
        expected = ids(walked)
        assert expected, "a search that matches nothing proves little"
        assert ids(planned) == expected
        assert planned.count() == (len(expected), True)
        assert [r.id for r in planned.before(None, 10_000)] == expected[::-1]
    finally:
        reader.close()


def test_the_details_index_follows_edits_and_a_list_narrows(small_ws: Path, monkeypatch) -> None:
    """(Runs last: it edits the module's workspace.)"""
    monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 10**9)
    db = connect(small_ws / "enginy.db")
    db.execute("UPDATE contacts SET email = 'grace.hopper@navy.test' WHERE id = 17")
    db.execute("INSERT INTO lists (name, created_at) VALUES ('L', '2026-01-01')")
    db.execute("INSERT INTO list_members SELECT 1, id, '2026-01-01' FROM contacts WHERE id IN (17, 18)")
    db.close()
    reader = Reader(small_ws / "enginy.db")
    try:
        assert ids(ContactsSource(reader, ContactFilter(search="hopper"))) == [17]
        assert ids(ContactsSource(reader, ContactFilter(search="lead17@"))) == []
        assert ids(ContactsSource(reader, ContactFilter(search="lead18", list_id=1))) == [18]
        assert ids(ContactsSource(reader, ContactFilter(search="lead19", list_id=1))) == []
    finally:
        reader.close()


def test_a_search_of_several_words_starts_from_its_rarest_complete_word(small_ws: Path, monkeypatch) -> None:
    """Not from the AND of every word: its last word is a prefix ("Sur"*) FTS5 would merge whole on every
    read — at a million contacts ~60 ms a page. The rarest word's hits hold the AND's; LIKE does the rest."""
    monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 10**9)
    reader = Reader(small_ws / "enginy.db")
    try:
        several = ContactsSource(reader, ContactFilter(search="Company Lead123 Sur"))
        assert set(several._hits()[1]) == {'"Lead123"'}
        monkeypatch.setattr(fts, "RARE_SEARCH", 0)  # no word is rare: the AND's count decides, as before
        assert ContactsSource(reader, ContactFilter(search="Company Lead123 Sur"))._hits() is None
    finally:
        reader.close()


def test_a_walk_over_many_rows_is_estimated_without_trying_to_count_it(small_ws: Path, monkeypatch) -> None:
    """A dense search counted exactly LIKE-checks every row: past EXACT_WALK rows it would only spend its
    budget before the first page, so it is estimated at once (here the sample holds every row)."""
    import storage.contacts_view as view

    monkeypatch.setattr(fts, "DENSE_IN_SAMPLE", 0)  # every search walks
    reader = Reader(small_ws / "enginy.db")
    try:
        expected = len(ids(ContactsSource(reader, ContactFilter(search="rocket"))))
        assert ContactsSource(reader, ContactFilter(search="rocket")).count() == (expected, True)
        monkeypatch.setattr(view, "EXACT_WALK", 10)
        monkeypatch.setattr(reader, "within", lambda *a: pytest.fail("the exact count was tried"))
        assert ContactsSource(reader, ContactFilter(search="rocket")).count() == (expected, False)
    finally:
        reader.close()
